// The race catalogue's entries for the v7.1 model (docs/hvo-history.md). The
// fixes 7.1 carries from earlier generations are the same knobs as there,
// so their ids carry the model ("v7.1/32c877191e02"); tail-cmpxchg is the
// one 7.1 brought (the lockless install of the shared tail page).
//
// Found-by figures measured with `hvo-stress run --race ID --json` (the first
// failing execution with the entry's seed 1) and `--fixed --seeds 2000`
// (clean), release build, 2 vCPUs.
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v7_1_races(std::vector<RaceEntry>& c) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  c.push_back(RaceEntry{
      .id = "tail-cmpxchg",
      .model = "v7.1",
      .revert = "tail-cmpxchg",
      .commit = "",
      .fix = 0,
      .title = "the zone's shared tail page installed with WRITE_ONCE() instead of cmpxchg(): two CPUs install "
               "different pages, one folio maps a tail page the zone no longer knows",
      .actors = "grow from an empty pool: CPU 0 writes nr_hugepages (set_max_huge_pages(), under resize_lock) while "
                "CPU 1 faults surplus hugepages (alloc_surplus_hugetlb_folio(), no resize_lock), so their first HVOs "
                "look up the empty zone->vmemmap_tails[] slot at once",
      .expected = "invariant-broken|bug-on|leak",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v7_1_test.cc V71SharedTailInstallTest.TailCmpxchgRevertedBothInstallAFolioMapsAnOrphanPageThatLeaks",
      .note = "first found at execution 2; the fixed model passes 2,000",
      .provenance = synthetic("the zone's shared tail page installed with a plain READ_ONCE()/WRITE_ONCE() instead "
                              "of cmpxchg(): the 7.1 series posted the cmpxchg() from the start; worth having as the "
                              "lockless install's one race (two CPUs, two pages, one orphaned)"),
      .workload = "grow",
      .initial_pool = 0,
      .seeds = 300,
  });
  // d8d55f5616cf reverted: 7.1's splitting walks under mmap_write_lock(&init_mm),
  // as 5.15-5.16's vmemmap_remap_free(): no race, a cost (the v5.18 entry).
  c.push_back(RaceEntry{
      .id = "v7.1/d8d55f5616cf",
      .model = "v7.1",
      .revert = "d8d55f5616cf",
      .commit = "d8d55f5616cf",
      .fix = 2,
      .title = "no race as shipped: the splitting walks under mmap_write_lock(&init_mm) serialise every split "
               "(and every other walk); the fix made it a read lock plus init_mm.page_table_lock, for concurrency",
      .actors = "free mode, 4 threads, mixed workload (resizes, owners, PFN walkers: HVO and restore walks at once): "
                "compare stats.mmap_lock_waits",
      .expected = "figure",
      .found_by = FoundBy::kFigure,
      .unit_test = "",
      .note = "both runs pass (exit 0); stats.mmap_lock_waits: 20 with the write lock, 0 with the fix "
              "(`hvo-stress run --race v7.1/d8d55f5616cf --json` and `--fixed`); 2 threads x 20,000 operations saw "
              "only 1, hence 4 threads x 100,000",
      .provenance = historical("d8d55f5616cf",
                               "5.15-5.16 (here: 7.1's walk under mmap_write_lock(&init_mm), the pool per folio as "
                               "before 6.7)",
                               "vmemmap_remap_split() and vmemmap_remap_free() under mmap_write_lock(&init_mm); the "
                               "split with no page-table lock"),
      .mode = CampaignMode::kFree,
      .workload = "mixed",
      .cpus = 4,
      .operations = 100000,
      .seeds = 1,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/unlocked-split",
      .model = "v7.1",
      .revert = "unlocked-split",
      .commit = "",
      .fix = 2,
      .title = "synthetic: two walks under mmap_read_lock(&init_mm) split the same vmemmap PMD without "
               "init_mm.page_table_lock; both install a PTE table",
      .actors = "grow, 1 operation per CPU, 64M: CPU 0 writes nr_hugepages (set_max_huge_pages(), under "
                "resize_lock) while CPU 1 faults a surplus hugepage (alloc_surplus_hugetlb_folio(), no "
                "resize_lock): both first HVOs split the one vmemmap PMD at once",
      .expected = "use-after-free|leak|bad-free|invariant-broken|stale-tlb-use-after-free|bug-on",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v7_1_test.cc V71SplitRaceTest.UnlockedSplitRevertedBothInstallOneTableLeaks",
      .note = "the v5.18 unlocked-split entry's scenario (two resizes cannot race: resize_lock); d8d55f5616cf's "
              "revert before issue 14",
      .provenance = synthetic("7.1's walks under mmap_read_lock(&init_mm) with the split without "
                              "init_mm.page_table_lock, the table installed unconditionally: no kernel had both "
                              "(d8d55f5616cf changed the two together); worth having as the hazard the page-table "
                              "lock closes, on the batched splitter"),
      .workload = "grow",
      .operations = 1,
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kRandom,
      .seeds = 300,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/3ce2c24cb68f",
      .model = "v7.1",
      .revert = "3ce2c24cb68f",
      .commit = "3ce2c24cb68f",
      .fix = 3,
      .title = "the split read pmd_page(*pmd) before taking the lock: the \"block\" is the page-table page",
      .actors = "grow, 1 operation per CPU, 64M: CPU 0's resize (under resize_lock) and CPU 1's surplus fault "
                "(alloc_surplus_hugetlb_folio(), no resize_lock) split the one vmemmap PMD; one is preempted between "
                "its pmd_leaf() test (under the lock, then dropped) and its unlocked pmd_page() while the other "
                "installs its table",
      .expected = "invariant-broken|use-after-free|bad-free|leak|bug-on",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v7_1_test.cc V71SplitRaceTest.Ce2c24cb68fRevertedSplitterMapsThePageTablePageAsTheBlock",
      .note = "the v5.18 entry's scenario: the window is one schedule point, so only pct finds it; 20 "
              "independent trials: median 871 executions, worst 3,125 (`hvo-stress time-to-bug --race "
              "v7.1/3ce2c24cb68f --strategies pct --trials 20 --free 0`)",
      .provenance = historical("3ce2c24cb68f",
                               "5.17-6.4 (here: 7.1's splitter with the pre-fix reads, the pool per folio as before "
                               "6.7)",
                               "vmemmap_pmd_entry() / split_vmemmap_huge_pmd(): pmd_leaf(*pmd) under "
                               "init_mm.page_table_lock, the lock dropped, pmd_page(*pmd) read without it"),
      .workload = "grow",
      .operations = 1,
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kPct,
      .seeds = 15000,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/restore-wmb",
      .model = "v7.1",
      .revert = "restore-wmb",
      .commit = "",
      .fix = 4,
      .title = "no smp_wmb() between filling a restored vmemmap page with tail copies and set_pte_at()",
      .actors = "restore-walk under --memory-model weak: CPUs 0 and 2 shrink and grow the pool (restores; one at a "
                "time, resize_lock), CPUs 1 "
                "and 3 resolve compound_head() and PageHead() of the struct pages of hugepage-backed blocks and, "
                "for a tail of a folio that was in the pool read as a page of its own, then the head's PG_hugetlb",
      .expected = "uninitialised-read|invariant-broken",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/stress/workload_test.cc "
                   "V71CompoundWalkerTest.ReportsATailOfAPoolFolioReadingAsAPageOfItsOwn; "
                   "tests/models/pool_v7_1_test.cc V71RestoreTest.RestoreWmbRevertedNoFenceBeforeTheRestoredPte",
      .note = "since every page allocated for the vmemmap holds PAGE_POISON until written (engine/page_poison.h), "
              "the reader's load of a restored frame before its copies is itself the finding (uninitialised-read), "
              "at the same execution 292. Before that, what a reader saw mostly looked right in 7.1: of 1,141 "
              "restored pages (30 executions) the frames held same-order tail masks in 407 (every tail of an order "
              "is the same struct page: identical to the copies), an old head page in 52 and zeroes in 682. The "
              "zeroes read as a page of its own, which a tail does before its folio is prepared or after it is "
              "torn down, but never while its folio is a complete hugetlb folio (in the pool, or out of it until "
              "PG_hugetlb is cleared after the restore): the walker reads the head's PG_hugetlb after such a read "
              "(smp_rmb()) and reports it when still set in the same generation. Found at execution 292 from "
              "seed 1 (107 while the two restorers' resizes could overlap, before resize_lock); the fixed model "
              "passes 2,000. Two CPUs x 4 operations (64M) found nothing in 1,000; 4 CPUs (two restorers, two "
              "walkers) do. One operation per CPU: with resize_lock a restorer's second resize waits for the "
              "other's, which adds time and no findings (4 x 1 found it in 3 of 6 windows of 300 seeds, 4 x 2 in "
              "2, at half the executions per second); 128M runs about twice as fast as 64M",
      .provenance = historical("939de63d35dd",
                               "5.14-5.18 (here: 7.1's restore, which fills with tail copies, without the barrier)",
                               "vmemmap_restore_pte(): the page filled, then set_pte_at() with no smp_wmb() between"),
      .workload = "restore-walk",
      .cpus = 4,
      .operations = 1,
      .initial_pool = 4,
      .memory_bytes = 128 * kMiB,
      .memory_model = MemoryModel::kWeak,
      .strategy = StrategyKind::kRandom,
      .seeds = 1000,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/flush-before-free",
      .model = "v7.1",
      .revert = "flush-before-free",
      .commit = "",
      .fix = 5,
      .title = "the old vmemmap pages freed before the batch's TLB flush: a stale TLB entry reaches a freed frame",
      .actors = "walk-grow, 64M: PFN walkers reading the struct pages of the hugepage being made, so their TLBs "
                "hold its vmemmap translations, while the pool grows (set_max_huge_pages(), under resize_lock) and owners "
                "fault surplus hugepages (alloc_surplus_hugetlb_folio(), no resize_lock): HVO remaps, frees, then "
                "flushes",
      .expected = "stale-tlb-use-after-free|use-after-free",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V71/Pool6xTest.FlushBeforeFreeRevertedAStaleTlbEntryReachesTheFreedFrame/v7_1",
      .note = "the v6.10 entry's scenario; random (pct cannot keep the walker reading through the whole "
              "remap-free-flush sequence)",
      .provenance = synthetic("the v6.10 entry's injection on 7.1: the old pages freed before the batch's flush, "
                              "which no kernel did; worth having for the same reason"),
      .workload = "walk-grow",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kRandom,
      .seeds = 300,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/32c877191e02",
      .model = "v7.1",
      .revert = "32c877191e02",
      .commit = "32c877191e02",
      .fix = 6,
      .title = "the hugetlb mark cleared before the vmemmap is restored: memory_failure() writes the shared "
               "read-only tail page",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being torn down, against pool resizing "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus hugepages (made by "
                "alloc_surplus_hugetlb_folio(), freed by free_huge_folio(); no resize_lock)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V71/Pool6xTest.C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail/v7_1",
      .note = "first found at execution 1; the fixed model passes 2,000",
      .provenance = historical("32c877191e02",
                               "5.14-6.4 (here: 7.1's code with the mark cleared first, the pool per folio as before "
                               "6.7)",
                               "remove_hugetlb_folio(): __folio_clear_hugetlb() under hugetlb_lock before the "
                               "vmemmap is restored"),
      .workload = "hwpoison-window",
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/d8f5f7e445f0",
      .model = "v7.1",
      .revert = "d8f5f7e445f0",
      .commit = "d8f5f7e445f0",
      .fix = 7,
      .title = "the hugetlb mark set after HVO: memory_failure() writes PG_hwpoison to the shared read-only tail page",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being made, against pool growth "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus faults (alloc_surplus_hugetlb_folio(), "
                "no resize_lock: a folio made beside a resize)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V71/Pool6xTest.D8f5f7e445f0RevertedMemoryFailureWritesAReadOnlyTail/v7_1",
      .note = "first found at execution 92; the fixed model passes 2,000",
      .provenance = historical("d8f5f7e445f0",
                               "5.14-6.5 (here: 7.1's code with the mark set after, the pool per folio as before 6.7)",
                               "__prep_new_hugetlb_folio(): hugetlb_vmemmap_optimize() before folio_set_hugetlb()"),
      .workload = "hwpoison-window",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "v7.1/2b21624fc232",
      .model = "v7.1",
      .revert = "2b21624fc232",
      .commit = "2b21624fc232",
      .fix = 13,
      .title = "fresh folios not frozen before becoming hugetlb: a speculative reference on the head is lost",
      .actors = "speculative-head: speculative references on heads of hugepages being made, against pool growth "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus faults (alloc_surplus_hugetlb_folio(), "
                "no resize_lock)",
      .expected = "invariant-broken|bad-page-state",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V71/Pool6xTest.B2b21624fc232RevertedTheReferenceGoesToTheOldHeadPageAndIsLost/v7_1",
      .note = "",
      .provenance = historical("2b21624fc232",
                               "5.14-6.0 (here: with 7.1's head-page copy: a combination no release had)",
                               "alloc_buddy_huge_page() / alloc_fresh_huge_page(): the folio not frozen while it "
                               "becomes hugetlb"),
      .workload = "speculative-head",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 2000,
  });
}

}  // namespace hvo::stress
