// The race catalogue: for each historical HVO fix that a model can revert
// (docs/hvo-history.md, fixes 1-14), the scenario that brings its bug back and
// the verdict expected of it. `hvo-stress list races` prints it,
// `hvo-stress run --race ID [--fixed]` runs it, and
// tests/stress/race_catalogue_test.cc holds every entry found in controlled
// mode to its budget.
//
// An entry is "controlled" only when its scenario was measured to find the
// expected violation on the reverted model within its seed budget and the
// fixed model passed the same budget clean. The others say honestly how
// their bug is shown instead: by a deterministic forced-interleaving unit
// test (tests/models/...), only under a weak memory model, or in the
// figures (fix 14).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stress/campaign_config.h"

namespace hvo::stress {

enum class FoundBy : uint8_t {
  kControlled,  // the controlled search finds it within the budget
  kUnitTest,    // a forced interleaving in tests/models/ shows it; the scenario is not (yet) findable
  kWeakMemoryOnly,  // needs a reordering the controlled weak model does not (yet) produce here
  kFigure,      // a cost, not a violation: shows in the stats
  kNoRace,      // the code as shipped has no race here: the reverted run is clean too (expected "none")
};
[[nodiscard]] std::string_view to_string(FoundBy f);

// Where an entry's revert comes from. A historical revert is the kernel's
// own code of the release before its fix: "reverting commit X brings back
// the bug X fixed" is then literally true, and a reviewer can read the
// functions it restores in the releases that shipped them. A synthetic one
// is not any kernel's code: it injects a fault the tool is worth checking
// for (a checker's reach, a window a fix closes in a way no release lacked).
enum class ProvenanceKind : uint8_t { kMissing, kHistorical, kSynthetic };
[[nodiscard]] std::string_view to_string(ProvenanceKind k);

struct Provenance {
  ProvenanceKind kind = ProvenanceKind::kMissing;
  // Historical: the fixing commit, the releases (or posting) that shipped
  // the code the revert restores, and the kernel functions it restores.
  std::string_view commit;
  std::string_view shipped;
  std::string_view functions;
  // Synthetic: what it injects and why it is worth having.
  std::string_view rationale;
};
[[nodiscard]] constexpr Provenance historical(std::string_view commit, std::string_view shipped,
                                              std::string_view functions) {
  return Provenance{
      .kind = ProvenanceKind::kHistorical, .commit = commit, .shipped = shipped, .functions = functions, .rationale = {}};
}
[[nodiscard]] constexpr Provenance synthetic(std::string_view rationale) {
  return Provenance{.kind = ProvenanceKind::kSynthetic, .commit = {}, .shipped = {}, .functions = {}, .rationale = rationale};
}
// "" when `p` is complete, else what it lacks (a historical one: commit,
// releases and functions; a synthetic one: its rationale).
[[nodiscard]] std::string provenance_gap(const Provenance& p);

struct RaceEntry {
  std::string_view id;       // "v17/d8f5f7e445f0", or the revert name when the fix is on one model only
  std::string_view model;
  std::string_view revert;   // the --revert knob; empty: the bug is a run option (`pte_access`, fix 1)
  std::string_view commit;   // the kernel commit id, or "" when it has none
  unsigned fix;              // docs/hvo-history.md's number (0: not numbered there)
  std::string_view title;
  std::string_view actors;   // what the scenario runs, in words
  std::string_view expected; // violation kind(s) expected on the reverted model, '|'-separated; "figure" for fix 14
  FoundBy found_by;
  std::string_view unit_test;  // for kUnitTest / kWeakMemoryOnly: the test that shows it deterministically
  std::string_view note;       // measured figures or why it is not found in controlled mode
  Provenance provenance;       // historical or synthetic: where the revert comes from

  // The scenario.
  CampaignMode mode = CampaignMode::kControlled;
  PteAccess pte_access = PteAccess::kPlain;  // the reverted run's --pte-access when `revert` is empty
  std::string_view workload;
  unsigned cpus = 2;
  uint64_t operations = 4;     // per CPU (controlled); total (free)
  uint64_t initial_pool = 2;
  bool gigantic = false;       // 1G hugepages
  uint64_t memory_bytes = 0;   // 0: the default
  sched::MemoryModel memory_model = sched::MemoryModel::kSc;
  sched::StrategyKind strategy = sched::StrategyKind::kRandom;
  uint64_t seed = 1;
  uint64_t seeds = 100;        // the budget of executions
  // When the fixed model is known to fail the same scenario beyond some
  // number of executions (a checker's false positive, named in `note`):
  // the executions it passes. 0: none known.
  uint64_t fixed_clean_executions = 0;
};

[[nodiscard]] const std::vector<RaceEntry>& race_catalogue();
[[nodiscard]] const RaceEntry* find_race(std::string_view id);
// The kinds `expected` names.
[[nodiscard]] std::vector<std::string> expected_kinds(const RaceEntry& e);
// The campaign of the entry's scenario: the model with the fix reverted
// (fix 1: plain PTE accesses), or with `fixed` the model as it is.
[[nodiscard]] CampaignConfig race_config(const RaceEntry& e, bool fixed);

}  // namespace hvo::stress
