// A controlled campaign: the free campaign's actors on simulated CPUs that
// run as fibers under the controlled scheduler (engine/sched), so that one
// (configuration, seed, decision list) names exactly one execution.
//
// Each execution builds a fresh small world (machine, model, pool grown to
// a couple of hugepages, invariant checker); CPU i performs
// config.iterations operations drawn from the workload with Rng(seed, i);
// at the end the scenario's check runs the stop-the-world invariants, then
// shrinks the pool to 0 and checks that everything came back. A violation
// recorded in the machine's log during the execution (a checker, a fault,
// the race detector) fails it at the step it is recorded.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "engine/coverage.h"
#include "engine/sched/alloc_choice.h"
#include "engine/sched/scenario.h"
#include "engine/violation.h"
#include "stress/campaign_config.h"
#include "stress/interleaving_view.h"

namespace hvo::stress {

// The most hugepages the resizer keeps in the pool of one execution.
[[nodiscard]] uint64_t max_controlled_pool(const Hstate& h);

// Why `c` cannot run in controlled mode (unknown model, revert or
// workload, too many CPUs, too little memory), or empty.
[[nodiscard]] std::string check_controlled_config(const CampaignConfig& c);

// Allocation failure as a choice (--fail-allocs), summed over the
// executions of a search: decision points offered, failures injected, and
// the error path they lead to that every model has (a vmemmap restore that
// could not allocate: the folio put back in the pool).
struct FaultStats {
  uint64_t alloc_points = 0;
  uint64_t allocs_failed = 0;
  uint64_t executions_with_failure = 0;
  uint64_t restore_failures = 0;
  FaultStats& operator+=(const FaultStats& o) {
    alloc_points += o.alloc_points;
    allocs_failed += o.allocs_failed;
    executions_with_failure += o.executions_with_failure;
    restore_failures += o.restore_failures;
    return *this;
  }
};

struct ControlledResult {
  sched::Report report;
  FaultStats faults;
  // What the executions exercised of the model (engine/coverage.h), pairs
  // included (every CPU of an execution runs on one thread).
  CoverageReport coverage;
  // The failing execution's failed allocation points (its replay file's
  // "alloc_failures"); with none, the last execution's (one thread only).
  std::vector<uint64_t> alloc_failures;
  // The failing execution: its operation seed (what replay_execution()
  // needs) and the first violation it recorded.
  std::optional<uint64_t> failing_seed;
  std::optional<Violation> violation;
};

// Runs c.seeds executions from c.seed with c.strategy and stops at the
// first failing one. Execution i draws its operations with seed c.seed + i
// (the same seed as its strategy), except under the bounded search, which
// needs every execution to build the same scenario: there all use c.seed.
// `c` must pass check_controlled_config().
//
// With c.jobs > 1 (random, pct) executions run c.jobs at a time on c.jobs
// threads, each with its own scheduler and world, and the result is the
// sequential one whatever c.jobs is: the same failing execution (the
// lowest failing index, not the first to finish), the same counts
// (executions up to and including it), trace hash and decisions.
[[nodiscard]] ControlledResult run_controlled(const CampaignConfig& c);

// One execution of a random search, run alone (random executions share no
// state, so any subset of them can run anywhere: shard.h).
struct IndexedExecution {
  sched::ExecutionResult result;  // index and seed are the search's
  uint64_t schedule_points = 0;
  std::optional<Violation> violation;
};

// Runs executions index_of(0), index_of(1), ..., index_of(count - 1) of the
// random search `c` names (increasing indexes), c.jobs at a time, and hands
// them to `accept` in that order until it returns false. Returns true if a
// signal (interrupt.h) stopped it between two batches first.
[[nodiscard]] bool run_random_executions(const CampaignConfig& c, uint64_t count,
                                         const std::function<uint64_t(uint64_t)>& index_of,
                                         const std::function<bool(IndexedExecution&)>& accept);

struct ReplayResult {
  sched::ExecutionResult result;  // kDiverged: not the recorded execution
  std::optional<Violation> violation;
  // Whether every recorded allocation failure was reached (and so failed):
  // false is a divergence too.
  bool alloc_failures_reached = true;
};

// Re-runs one execution: operations from `seed`, schedule from
// `decisions`, the allocation points of `alloc_failures` failed. With a
// sink, records the steps for the interleaving view (a StepRing) or the
// HTML report (a StepLog).
[[nodiscard]] ReplayResult replay_execution(const CampaignConfig& c, uint64_t seed,
                                            std::span<const sched::Decision> decisions, StepSink* ring = nullptr,
                                            std::span<const uint64_t> alloc_failures = {});

}  // namespace hvo::stress
