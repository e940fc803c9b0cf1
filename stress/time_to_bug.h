// Time to bug: how long the controlled search takes to find a catalogue
// entry's bug, over independent trials, and whether free-running stress
// finds it at all. The README's time-to-bug table is this measurement.
//
// Trial t of a strategy searches seeds [1 + t * budget, (t + 1) * budget]:
// the trials share no execution, so they are independent samples of "how
// many executions until the first violation" for that strategy, and each
// is deterministic (the same command prints the same executions; only the
// seconds vary with the machine).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sched/scenario.h"
#include "stress/race_catalogue.h"

namespace hvo::stress {

struct TrialResult {
  uint64_t first_seed = 0;
  bool found = false;
  uint64_t executions = 0;  // executions run, the failing one included
  double seconds = 0;
  std::string kind;         // the violation's kind when found
  bool expected_kind = false;
};

// Order statistics of the trials, not-found trials counting as infinite:
// `median` is the lower median (a trial's own figure), `worst` the largest;
// either is empty when that order statistic fell on a trial that found
// nothing within the budget.
struct TrialSummary {
  sched::StrategyKind strategy = sched::StrategyKind::kRandom;
  uint64_t budget = 0;
  std::vector<TrialResult> trials;
  uint64_t found = 0;
  std::optional<uint64_t> median_executions, worst_executions;
  std::optional<double> median_seconds, worst_seconds;
};

struct FreeRunResult {
  unsigned threads = 0;
  uint64_t duration_ms = 0;
  bool found = false;
  double seconds = 0;     // to the first violation, or the whole run
  uint64_t operations = 0;
  std::string kind;
  bool expected_kind = false;
};

struct TimeToBug {
  const RaceEntry* entry = nullptr;
  std::vector<TrialSummary> strategies;
  std::optional<FreeRunResult> free_run;
};

// The default budget of executions per trial for an entry: the budget its
// regression test allows, and at least 1,000.
[[nodiscard]] uint64_t default_trial_budget(const RaceEntry& e);

// `trials` searches of the entry's reverted scenario with `strategy`,
// `jobs` trials at a time (oneTBB tasks, tbb_executor.h): the trials share
// nothing, so each trial's executions are the same for every `jobs`; its
// seconds are wall time on a machine the other trials share.
[[nodiscard]] TrialSummary measure_trials(const RaceEntry& e, sched::StrategyKind strategy, unsigned trials,
                                          uint64_t budget, unsigned jobs = 1);

// The entry's reverted model under free-running stress: `threads` threads
// of its workload for `duration_ms`, stopping at the first violation.
[[nodiscard]] FreeRunResult measure_free_run(const RaceEntry& e, unsigned threads, uint64_t duration_ms);

// Fills median/worst from `s.trials`.
void summarize(TrialSummary& s);

}  // namespace hvo::stress
