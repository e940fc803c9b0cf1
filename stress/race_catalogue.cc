#include "stress/race_catalogue.h"

#include "stress/race_entries.h"

namespace hvo::stress {

std::string_view to_string(FoundBy f) {
  switch (f) {
    case FoundBy::kControlled: return "controlled";
    case FoundBy::kUnitTest: return "unit test";
    case FoundBy::kWeakMemoryOnly: return "weak-memory only";
    case FoundBy::kFigure: return "figure";
    case FoundBy::kNoRace: return "no race";
  }
  return "?";
}

std::string_view to_string(ProvenanceKind k) {
  switch (k) {
    case ProvenanceKind::kMissing: return "missing";
    case ProvenanceKind::kHistorical: return "historical";
    case ProvenanceKind::kSynthetic: return "synthetic";
  }
  return "?";
}

std::string provenance_gap(const Provenance& p) {
  std::string gap;
  auto need = [&gap](bool present, std::string_view what) {
    if (present) return;
    if (!gap.empty()) gap += ", ";
    gap += what;
  };
  switch (p.kind) {
    case ProvenanceKind::kMissing: return "no provenance";
    case ProvenanceKind::kHistorical:
      need(!p.commit.empty(), "commit");
      need(!p.shipped.empty(), "releases that shipped it");
      need(!p.functions.empty(), "functions the revert restores");
      need(p.rationale.empty(), "no rationale (a historical revert is the kernel's code)");
      break;
    case ProvenanceKind::kSynthetic:
      need(!p.rationale.empty(), "rationale");
      need(p.commit.empty() && p.shipped.empty(), "no commit or releases (no kernel shipped it)");
      break;
  }
  return gap;
}

namespace {

std::vector<RaceEntry> make_catalogue() {
  std::vector<RaceEntry> c;
  add_v17_races(c);
  add_v5_18_races(c);
  add_v6_10_races(c);
  add_v6_10_demote_races(c);
  add_v7_1_races(c);
  return c;
}

}  // namespace

const std::vector<RaceEntry>& race_catalogue() {
  static const std::vector<RaceEntry> catalogue = make_catalogue();
  return catalogue;
}

const RaceEntry* find_race(std::string_view id) {
  for (const RaceEntry& e : race_catalogue())
    if (e.id == id) return &e;
  return nullptr;
}

std::vector<std::string> expected_kinds(const RaceEntry& e) {
  std::vector<std::string> kinds;
  std::string_view rest = e.expected;
  while (!rest.empty()) {
    const size_t bar = rest.find('|');
    kinds.emplace_back(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
  }
  return kinds;
}

CampaignConfig race_config(const RaceEntry& e, bool fixed) {
  CampaignConfig c;
  c.mode = e.mode;
  c.model = std::string(e.model);
  if (!fixed && !e.revert.empty()) c.reverts.insert(std::string(e.revert));
  c.pte_access = !fixed && e.revert.empty() ? e.pte_access : PteAccess::kOnce;
  c.threads = e.cpus;
  c.iterations = e.operations;
  c.seed = e.seed;
  c.workload = std::string(e.workload);
  c.hstate = e.gigantic ? kHstate1G : kHstate2M;
  c.memory_bytes = e.memory_bytes;
  c.strategy = e.strategy;
  c.seeds = e.seeds;
  c.initial_pool = e.initial_pool;
  c.memory_model = e.memory_model;
  return c;
}

}  // namespace hvo::stress
