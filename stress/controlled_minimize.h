// Shrinks a controlled failure while it keeps failing with the same
// violation kind and never grows (decisions, failure step):
//
//   1. fewer switches: drop chunks of the decision list, halving the chunk
//      size down to single decisions (ddmin-style). Each candidate is run
//      with the replay strategy; one that diverges (a recorded step that is
//      no longer a decision, a forced switch the list does not name) is
//      invalid, since only a list the replay follows to the end is known to
//      name one execution;
//   2. fewer CPUs, then fewer operations per CPU: a new search, from the
//      failing seed, with the same strategy; its first failure of the same
//      kind that is no longer than the current one is taken, then shrunk
//      by step 1 again.
//
// Every accepted candidate is an execution that was actually run, so the
// result replays exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "stress/replay_file.h"

namespace hvo::stress {

struct FailureSize {
  uint64_t decisions = 0;
  unsigned cpus = 0;
  uint64_t operations = 0;  // per CPU
  uint64_t steps = 0;       // up to the failure
};

[[nodiscard]] FailureSize size_of(const ReplayFile& f);

struct MinimizeProgress {
  uint64_t candidates = 0;
  uint64_t accepted = 0;
  uint64_t decisions = 0;  // of the best failure so far
};

struct MinimizeBudget {
  uint64_t max_replays = 4000;   // candidate executions, over all phases; never exceeded
  uint64_t search_seeds = 200;   // executions per re-search with fewer CPUs/operations
  // Called after each candidate, or batch of search executions (for a
  // progress line; may be empty).
  std::function<void(const MinimizeProgress&)> progress = {};
};

struct MinimizeResult {
  ReplayFile minimized;  // the original if nothing smaller failed the same way
  uint64_t candidates = 0;
  uint64_t diverged = 0;   // candidates the replay could not follow
  uint64_t accepted = 0;
};

// `f` is a controlled replay file that fails (checked by the caller).
[[nodiscard]] MinimizeResult minimize_failure(const ReplayFile& f, const MinimizeBudget& budget = {});

}  // namespace hvo::stress
