// The replay file: what `run` writes for a failure and `replay` and
// `minimize` read back. JSON, format "hvo-stress-replay", version 1.
//
//   mode "controlled": the full configuration, the failing execution's
//     seed and index, the strategy, the scheduler's decision list (the
//     switches, as [step, cpu] pairs), the verdict, the violation and the
//     trace hash: enough to re-run that one execution exactly.
//   mode "free" (the free campaign's findings): the configuration and the
//     violation; a replay re-runs the campaign, which is not exact.
//
// Reading never trusts the file: anything missing, mistyped, out of range
// or naming an unknown model, revert or workload is an error message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "engine/sched/trace.h"
#include "engine/violation.h"
#include "stress/campaign_config.h"

namespace hvo::stress {

struct ReplayFile {
  CampaignConfig config;  // config.mode tells which kind of file it is
  // Controlled only.
  uint64_t seed = 0;       // the failing execution's operation seed
  uint64_t execution = 0;  // its index in the campaign that found it
  sched::DecisionRecord decisions;
  // The allocation decision points that failed (1-based, increasing;
  // engine/sched/alloc_choice.h): empty without --fail-allocs, and in files
  // written before the choice existed.
  std::vector<uint64_t> alloc_failures;
  std::string verdict;     // sched::to_string(Verdict)
  uint64_t steps = 0;
  uint64_t failure_step = 0;
  int failure_cpu = -1;
  std::string message;
  uint64_t trace_hash = 0;
  // Both modes: the violation as written (kind, invariant, cpu, step, ...).
  std::optional<boost::json::object> violation;

  [[nodiscard]] std::string violation_kind() const;
};

// The most bytes a replay file may hold: a decision list of a million
// switches is about 16 MiB; anything larger is not one of ours (or is
// /dev/zero), and reading it whole would only grow without bound.
inline constexpr uint64_t kMaxReplayFileBytes = uint64_t{64} << 20;

[[nodiscard]] boost::json::object to_json(const ReplayFile& f);
// The file's text: what atomic_file.h writes (never in place of another).
[[nodiscard]] std::string replay_file_text(const ReplayFile& f);
// A whole input file's text, or why it could not be read (error not empty).
struct InputText {
  std::string text;
  std::string error;
};
// Reads a whole input file of at most `max_bytes`. Refuses, without
// blocking, what is not a regular file (a FIFO, a device such as
// /dev/zero, a directory).
[[nodiscard]] InputText read_input_file(const std::string& path, uint64_t max_bytes);
// Checks a replay file's text: the file, or why it is not one.
[[nodiscard]] std::variant<ReplayFile, std::string> parse_replay_text(std::string_view text);
// Reads and checks a replay file (at most kMaxReplayFileBytes): the file,
// or why it is not one.
[[nodiscard]] std::variant<ReplayFile, std::string> read_replay_file(const std::string& path);

// A controlled campaign's configuration as to_json(CampaignConfig) writes
// it, checked as a replay file's is: the configuration, or why not.
[[nodiscard]] std::variant<CampaignConfig, std::string> parse_controlled_config(const boost::json::object& o);

[[nodiscard]] std::string hex64(uint64_t v);

}  // namespace hvo::stress
