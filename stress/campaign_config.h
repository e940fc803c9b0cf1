// Everything that defines a campaign, in one struct (docs/style.md 15): with the
// seed it names the run, and command_line() prints the exact command that
// runs it again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "engine/alloc_failure.h"
#include "engine/hugetlb/hstate.h"
#include "engine/machine_config.h"
#include "engine/sched/memory_model.h"
#include "engine/sched/scenario.h"

namespace hvo::stress {

// free: real threads; controlled: simulated CPUs as fibers under the
// controlled scheduler, one execution per seed (controlled_campaign.h).
enum class CampaignMode : uint8_t { kFree, kControlled };
[[nodiscard]] std::string_view to_string(CampaignMode m);

struct CampaignConfig {
  CampaignMode mode = CampaignMode::kFree;
  std::string model;
  std::set<std::string> reverts;
  unsigned threads = 2;
  // free: total operations over all threads; controlled: operations per CPU.
  std::optional<uint64_t> iterations;
  std::optional<uint64_t> duration_ms;   // or: run this long (reported, never a verdict bound)
  uint64_t seed = 0;
  std::string workload = "mixed";
  Hstate hstate = kHstate2M;
  uint64_t memory_bytes = 0;             // 0: the default for the hugepage size
  PteAccess pte_access = PteAccess::kOnce;
  uint64_t check_every = 20000;          // operations between stop-the-world checks
  std::string out_dir = "hvo-stress-out";
  // Free mode: fail_page_alloc's knobs (--fail-alloc), or none.
  std::optional<FaultAttr> fail_alloc;

  // Controlled mode only. Execution i runs with seed + i: its strategy's
  // seed and (random, pct) its CPUs' operation choices.
  sched::StrategyKind strategy = sched::StrategyKind::kRandom;
  uint64_t seeds = 100;           // executions (bounded: a cap)
  unsigned depth = 3;             // pct
  unsigned preemptions = 2;       // bounded
  uint64_t max_steps = 200000;    // schedule points per execution
  // Hugepages the pool holds when the CPUs start (grown in the setup, so
  // serially). 0 leaves every first optimization (and v5.18's PMD split)
  // to the racing CPUs.
  uint64_t initial_pool = 2;
  // sc, or per-CPU store buffers: tso, weak (arm64-like). Under tso/weak
  // the buffers' drains are scheduling choices too.
  sched::MemoryModel memory_model = sched::MemoryModel::kSc;
  // Allocation failure as a choice (--fail-allocs N): at most this many
  // allocations that may fail in the kernel fail per execution, chosen from
  // the execution's seed (engine/sched/alloc_choice.h). 0: none, and the
  // executions are the ones without the choice.
  uint64_t fail_allocs = 0;
  // Test-only: bugs planted in the fixed model or pool (Model::plant_for_test(),
  // "surplus-past-overcommit": HugetlbPool's kNoOvercommitRecheck). Never
  // set by the CLI, so in neither command_line() nor the replay file.
  std::set<std::string> planted_bugs;
  // Controlled mode: no execution starts after this moment (hunt's time
  // budget: a pull of 1 GiB executions can take seconds each). A stop here
  // is the search's end, not an interruption. Host-side, like `jobs`: in
  // neither the replay file nor command_line().
  std::optional<std::chrono::steady_clock::time_point> stop_at;
  // How many executions run at once (threads, each with its own scheduler
  // and world; controlled_campaign.cc). How the search runs, not what it finds: the
  // result is the same for every value (controlled_campaign.h), so it is in
  // neither the replay file nor command_line(). The bounded search is one
  // depth-first walk and runs on one thread whatever this says.
  unsigned jobs = 1;
  static constexpr unsigned kMaxJobs = 256;

  // Simulated memory actually used (the default depends on the page size).
  [[nodiscard]] uint64_t effective_memory() const;
  // `hvo-stress run ...` with every flag that defines this campaign.
  [[nodiscard]] std::string command_line() const;
};

[[nodiscard]] std::string format_duration_ms(uint64_t ms);

}  // namespace hvo::stress
