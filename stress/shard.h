// Shards: one random controlled search split over processes (a Slurm job
// array, a Kubernetes Indexed Job, a loop of shell jobs) and merged back
// into exactly the result of the unsharded search.
//
// The seed space: the search's executions [0, seeds) are cut into blocks of
// `block` executions, [b * block, min((b + 1) * block, seeds)); block b
// belongs to shard b mod N, so every shard's work is spread over the whole
// space (a shard never holds only the cheap or only the expensive end).
// A shard runs its blocks in increasing order, each execution as the
// unsharded search runs it (random executions share no state), and stops at
// its own first failure: its lowest failing execution.
//
// Why the merge is exact: let F be the lowest failure over all shards.
// Every block below F belongs to a shard whose own first failure is >= F,
// so that shard ran it whole; the block holding F was run up to F by F's
// shard. The executions [0, F] were therefore all run, each exactly once,
// and their verdicts and schedule points are what the unsharded search
// counts before it stops at F. Without a failure every block was run whole.
// PCT (its estimate k grows with every earlier execution) and the bounded
// search (one depth-first walk) cannot be cut this way and are refused.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "engine/sched/verdict.h"
#include "stress/campaign_config.h"
#include "stress/controlled_campaign.h"

namespace hvo::stress {

inline constexpr uint64_t kDefaultShardBlock = 64;
inline constexpr uint64_t kMaxShards = uint64_t{1} << 20;
inline constexpr uint64_t kMaxShardBlock = uint64_t{1} << 30;

struct ShardSpec {
  uint64_t index = 0;  // K, from 0
  uint64_t count = 1;  // N
  uint64_t block = kDefaultShardBlock;
};

// "K/N" with 0 <= K < N <= kMaxShards: the shard, or why not.
[[nodiscard]] std::variant<ShardSpec, std::string> parse_shard(std::string_view text);

// Reads an environment variable; null when unset (std::getenv's contract).
using GetEnv = std::function<const char*(const char*)>;

// Where the shard comes from when --shard is absent:
//   Slurm job arrays: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, K
//     counted from SLURM_ARRAY_TASK_MIN (0 when unset), so --array=1-4
//     and --array=0-3 both give shards 0..3;
//   Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, with the count from
//     `count_flag` (--shard-count) or else HVO_SHARD_COUNT.
// Empty (monostate) when none is set; an error message for a bad value.
inline constexpr const char* kShardCountEnv = "HVO_SHARD_COUNT";
[[nodiscard]] std::variant<std::monostate, ShardSpec, std::string> shard_from_environment(
    const GetEnv& getenv, std::optional<uint64_t> count_flag);

// Why `c` cannot be sharded (not controlled, not random), or empty.
[[nodiscard]] std::string check_shardable(const CampaignConfig& c);

// One block's part of a shard's result: executions [begin, begin + executions).
struct BlockResult {
  uint64_t block = 0;
  uint64_t begin = 0;
  uint64_t executions = 0;
  std::array<uint64_t, sched::kNumVerdicts> verdicts{};
  uint64_t schedule_points = 0;
  uint64_t last_trace_hash = 0;  // of its last execution run
};

struct ShardFailure {
  uint64_t index = 0;  // the execution's index in the whole search
  uint64_t seed = 0;
  std::string replay_file;  // as written by the shard; empty if it could not be
};

// What `run --shard` writes: format "hvo-stress-shard-result", version 1.
struct ShardResult {
  CampaignConfig config;
  ShardSpec spec;
  std::vector<BlockResult> blocks;  // the blocks it ran (the last maybe in part), in order
  std::optional<ShardFailure> failure;  // its lowest failing execution
  bool interrupted = false;  // a signal stopped it: blocks after the last listed were not run
  double seconds = 0;
};

inline constexpr std::string_view kShardResultFormat = "hvo-stress-shard-result";
inline constexpr int kShardResultVersion = 1;

[[nodiscard]] boost::json::object to_json(const ShardResult& r);
[[nodiscard]] std::variant<ShardResult, std::string> parse_shard_result(std::string_view text);

// Runs shard `spec` of `c` (check_shardable() passed) c.jobs executions at
// a time. `failing` receives its first failure as a whole ControlledResult
// (for the replay file); the result's failure->replay_file is left empty.
[[nodiscard]] ShardResult run_shard(const CampaignConfig& c, const ShardSpec& spec,
                                    std::optional<ControlledResult>& failing);

// The unsharded search's result from every shard's (any order), with the
// failing shard's replay file read back for the failing execution; or why
// the results do not make one search (different searches, a shard missing
// or given twice, a shard that stopped before the point the result needs).
struct MergedResult {
  CampaignConfig config;
  ControlledResult result;
  std::string replay_file;  // the failing shard's; empty for a clean search
  std::vector<std::string> notes;  // shards ignored in part, for the log
};
[[nodiscard]] std::variant<MergedResult, std::string> merge_shards(const std::vector<ShardResult>& shards,
                                                                   const std::vector<std::string>& names);

}  // namespace hvo::stress
