// The race catalogue's entries for the v17 model (docs/hvo-history.md).
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v17_races(std::vector<RaceEntry>& c) {
  [[maybe_unused]] constexpr uint64_t kMiB = uint64_t{1} << 20;
  // Fix 1 on a 64-bit kernel, as v17 was posted for x86-64 and arm64: the
  // walk's `*pte` reads are plain, set_pte_at() is one 64-bit store. Each
  // PTE of a folio's vmemmap is written only by that folio's own walks,
  // which the pool orders (hugetlb_lock), and the MMU only reads: a plain
  // read races with no store, so the search is clean (the reviewer's first
  // question, README).
  c.push_back(RaceEntry{
      .id = "v17/plain-pte",
      .model = "v17",
      .revert = "",
      .commit = "",
      .fix = 1,
      .title = "plain `*pte` reads in the lockless vmemmap walk (v17 as posted, 64-bit: set_pte_at() is one "
               "store): no store races them; run with --pte-access plain",
      .actors = "mixed workload: pool resizing (optimize/restore walks) against PFN walkers, memory_failure, owners",
      .expected = "none",
      .found_by = FoundBy::kNoRace,
      .unit_test = "tests/engine/page_table_test.cc PageTables.PlainWritesAreOneStoreAndPlainTornWritesTwoHalves",
      .note = "pct, seeds 1..500: 500 executions clean (`hvo-stress run --model v17 --pte-access plain --mode "
              "controlled --strategy pct --seeds 500 --seed 1`); random 1,000 clean. The race the tool used to "
              "report here was the restore's plain set_pte_at() against another CPU's MMU walk: a store-side race, "
              "which a 64-bit kernel does not have (v17/plain-torn)",
      .provenance = historical("none: the reads were plain until the tree-wide ptep_get() conversion (6.5)",
                               "the v17 posting (Feb 2021); 5.14-6.4",
                               "vmemmap_pte_range() (walk->reuse_page = pte_page(*pte)), vmemmap_remap_pte() and "
                               "vmemmap_restore_pte() (pte_page(*pte)): plain reads; set_pte_at() stays one 64-bit "
                               "store"),
      .workload = "mixed",
      .strategy = StrategyKind::kPct,
      .seeds = 500,
  });
  // The same walk with 64-bit entries accessed in 32-bit halves, reads and
  // set_pte_at() alike: fix 1's race as the tool showed it before issue 14.
  c.push_back(RaceEntry{
      .id = "v17/plain-torn",
      .model = "v17",
      .revert = "",
      .commit = "",
      .fix = 1,
      .title = "plain PTE accesses in 32-bit halves (--pte-access plain-torn): the restore's set_pte_at() races "
               "another CPU's MMU walk of the same entry",
      .actors = "mixed workload: pool resizing (optimize/restore walks) against PFN walkers, memory_failure, owners",
      .expected = "data-race|torn-pte",
      .found_by = FoundBy::kControlled,
      .unit_test = "",
      .note = "found at execution 26 (seed 27) from seed 1 with pct; fixed: --pte-access once",
      .provenance = synthetic("every page-table access as two plain 32-bit halves, set_pte_at() included, as a "
                              "32-bit kernel with 64-bit entries would do; no architecture with HVO is 32-bit, so no "
                              "kernel had it. Worth having as the proof that the race detector and the torn-PTE "
                              "detector catch a store-side PTE race, and as the answer to what READ_ONCE()/"
                              "WRITE_ONCE() would guard against where entries tear"),
      .pte_access = PteAccess::kPlainTorn,
      .workload = "mixed",
      .strategy = StrategyKind::kPct,
      .seeds = 200,
  });
  c.push_back(RaceEntry{
      .id = "raw-hwpoison",
      .model = "v17",
      .revert = "raw-hwpoison",
      .commit = "",
      .fix = 0,
      .title = "memory_failure sets PG_hwpoison on the raw tail of a free optimized hugepage",
      .actors = "hwpoison workload: memory_failure and dissolve against pool resizing and owners",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v17_test.cc RawHwpoisonRevertTest.FaultsOnAReadOnlyTail",
      .note = "",
      .provenance = synthetic("the write of PG_hwpoison to the raw (read-only) tail page of a free optimized "
                              "hugepage. The series carried \"mm: hugetlb: set the PageHWPoison to the raw error "
                              "page\" from its first merged form, so no release wrote the raw tail; worth having as "
                              "the simplest proof that ro-tail-write catches a write through a read-only vmemmap "
                              "alias"),
      .workload = "hwpoison",
      .seeds = 100,
  });
  c.push_back(RaceEntry{
      .id = "v17/d8f5f7e445f0",
      .model = "v17",
      .revert = "d8f5f7e445f0",
      .commit = "d8f5f7e445f0",
      .fix = 7,
      .title = "the hugetlb mark set after HVO: memory_failure() writes PG_hwpoison to a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being made, against pool growth "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus faults (alloc_surplus_hugetlb_folio(), "
                "no resize_lock: a folio made beside a resize)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "",
      .note = "",
      .provenance = historical("d8f5f7e445f0",
                               "the v17 posting; 5.14-6.5",
                               "prep_new_huge_page() / __prep_new_huge_page(): free_huge_page_vmemmap() before "
                               "set_compound_page_dtor(HUGETLB_PAGE_DTOR)"),
      .workload = "hwpoison-window",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "v17/32c877191e02",
      .model = "v17",
      .revert = "32c877191e02",
      .commit = "32c877191e02",
      .fix = 6,
      .title = "the hugetlb mark cleared under hugetlb_lock at removal, before the vmemmap is restored: "
               "memory_failure() writes PG_hwpoison to a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being torn down, against pool resizing "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus hugepages (made by "
                "alloc_surplus_hugetlb_folio(), freed by free_huge_folio(); no resize_lock)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v17_test.cc V17MarkTest.C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail",
      .note = "first found at execution 3 (seed 3) from seed 1; the fixed model passes 2,000 (`hvo-stress run --race ID` "
              "and `--fixed --seeds 2000`)",
      .provenance = historical("32c877191e02",
                               "the v17 posting; 5.14-6.4",
                               "remove_hugetlb_page(): set_compound_page_dtor(page, NULL_COMPOUND_DTOR) under "
                               "hugetlb_lock, before update_and_free_page() allocates the vmemmap "
                               "(alloc_huge_page_vmemmap())"),
      .workload = "hwpoison-window",
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
}

}  // namespace hvo::stress
