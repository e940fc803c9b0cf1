// The race catalogue's entry for demote on the v6.10 model: c0f398c3b2cf
// ("mm/hugetlb_vmemmap: batch HVO work when demoting", Yu Zhao, 2024), a
// cost and not a bug, shown in the figures as c2a967f6ab0e is.
#include "stress/race_entries.h"

namespace hvo::stress {

void add_v6_10_demote_races(std::vector<RaceEntry>& c) {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  c.push_back(RaceEntry{
      .id = "c0f398c3b2cf",
      .model = "v6.10",
      .revert = "c0f398c3b2cf",
      .commit = "c0f398c3b2cf",
      // docs/hvo-history.md names it with the 6.2-6.11 generation ("batched
      // work when demoting"), not among the numbered fixes.
      .fix = 0,
      .title = "demote without batched HVO work: 1 + 512 synchronize_rcu() per 1 GiB folio instead of 2 (the "
               "commit measured 8m58s against 0.9s for 100 folios)",
      .actors = "free mode, demote workload on 1G pages (demote one or two, own a 2M page, give the 2M pool back; "
                "resizer, owners, PFN walkers, speculative refs), 1 thread: compare "
                "stats.grace_periods_per_operation and stats.tlb_flushes_per_operation",
      .expected = "figure",
      .found_by = FoundBy::kFigure,
      .unit_test = "tests/models/hugetlb_pool_demote_test.cc "
                   "DemoteCostTest.C0f398c3b2cfRevertedOneGiganticIs513GracePeriodsAndAFlushPerFolio",
      .note = "both runs pass (exit 0); the reverted one pays about 140x the grace periods and 97x the TLB flushes "
              "per operation (each demote 513 instead of 2; giving the 2 MiB pool back is one batched restore in "
              "both, update_and_free_pages_bulk())",
      .provenance = historical("c0f398c3b2cf",
                               "6.10-6.11",
                               "demote_free_hugetlb_folio() / demote_pool_huge_page(): "
                               "hugetlb_vmemmap_restore_folio() of the source and hugetlb_vmemmap_optimize_folio() "
                               "of each destination, one at a time"),
      .mode = CampaignMode::kFree,
      .workload = "demote",
      .cpus = 1,
      .operations = 300,
      .gigantic = true,
      .memory_bytes = 8 * kGiB,
      .seeds = 1,
  });
}

}  // namespace hvo::stress
