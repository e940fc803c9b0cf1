// The race catalogue's entries for the v6.10 model (docs/hvo-history.md).
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v6_10_races(std::vector<RaceEntry>& c) {
  [[maybe_unused]] constexpr uint64_t kMiB = uint64_t{1} << 20;
  c.push_back(RaceEntry{
      .id = "flush-before-free",
      .model = "v6.10",
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
      .unit_test = "tests/models/pool_6x_test.cc V610/Pool6xTest.FlushBeforeFreeRevertedAStaleTlbEntryReachesTheFreedFrame/v6_10",
      .note = "random finds it; pct, whose change points cannot keep the walker reading through the whole "
              "remap-free-flush sequence, did not find it in 2,000",
      .provenance = synthetic("the old vmemmap pages freed before the TLB flush that retires their translations. "
                              "Every kernel freed them after it (the v17 walk, and 6.7's batch, which frees after "
                              "its one flush_tlb_all()); worth having because batching moved the flush away from the "
                              "remap, and the checker of stale-TLB use-after-free must catch a kernel that got that "
                              "order wrong"),
      .workload = "walk-grow",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kRandom,
      .seeds = 300,
  });
  c.push_back(RaceEntry{
      .id = "bd225530a4c7",
      .model = "v6.10",
      .revert = "bd225530a4c7",
      .commit = "bd225530a4c7",
      .fix = 8,
      .title = "no rcu_read_lock()/synchronize_rcu(): a speculative PFN walker writes a struct page HVO made read-only",
      .actors = "order0-reuse, 64M: CPU 0 uses and frees a pageblock of order-0 pages and grows the pool into it; "
                "CPU 1 scans that pageblock as compaction does, get_page_unless_zero() on every in-use page",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v6_10_test.cc V610SpeculativeWalkerTest.Bd225530a4c7RevertedTheWalkerWritesAReadOnlyFakeHead",
      .note = "the walker must stop between the read of _refcount and its cmpxchg while the page is freed, made a "
              "tail of a new hugepage and remapped read-only: pct (two change points); 20 trials of 2,000: all "
              "found, median 165 executions, worst 1,445; random does not find it",
      .provenance = historical("bd225530a4c7",
                               "5.14-6.9 (here: 6.10's code without the fix's steps)",
                               "page_ref_add_unless() without rcu_read_lock(); hugetlb_vmemmap_optimize_folio() / "
                               "hugetlb_vmemmap_restore_folio() without synchronize_rcu()"),
      .workload = "order0-reuse",
      .operations = 3,
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kPct,
      .seeds = 2000,
  });
  c.push_back(RaceEntry{
      .id = "c2a967f6ab0e",
      .model = "v6.10",
      .revert = "c2a967f6ab0e",
      .commit = "c2a967f6ab0e",
      .fix = 14,
      .title = "synchronize_rcu() on every folio, HVO or not: more grace periods per operation (-34% vm-scalability)",
      .actors = "free mode, vm-scalability workload (resizing and owners, vm.hugetlb_optimize_vmemmap mostly 0), "
                "1 thread: compare stats.grace_periods_per_operation",
      .expected = "figure",
      .found_by = FoundBy::kFigure,
      .unit_test = "tests/models/pool_v6_10_test.cc V610GracePeriodTest.C2a967f6ab0eRevertedEveryBatchPaysOneEvenWithoutHvo",
      .note = "both runs pass (exit 0); the reverted one shows more grace periods per operation",
      .provenance = historical("c2a967f6ab0e",
                               "6.10",
                               "hugetlb_vmemmap_optimize_folio(), hugetlb_vmemmap_restore_folio() and their batched "
                               "forms: synchronize_rcu() whether or not the folio is (or will be) optimized"),
      .mode = CampaignMode::kFree,
      .workload = "vm-scalability",
      .cpus = 1,
      .operations = 20000,
      .seeds = 1,
  });
  c.push_back(RaceEntry{
      .id = "ref-acquire",
      .model = "v6.10",
      .revert = "ref-acquire",
      .commit = "",
      .fix = 9,
      .title = "page_ref_add_unless() checks for a fake head before reading _refcount, without acquire",
      .actors = "owner-tail-ref, 64M: CPU 0 grows the pool by one hugepage, takes it as an owner (unfrozen to 1) "
                "and holds it while growing the pool again; CPU 1 calls get_page_unless_zero() on the aligned "
                "tails of the hugepage being made (fake heads once optimized, whose _refcount is the head's)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v6_10_test.cc V610RefAcquireTest.RevertedTheFakeHeadCheckComesFirstAndTheRefcountLoadIsRelaxed",
      .note = "an interleaving, reachable under sc: CPU 1's page_is_fake_head() reads the aligned tail before HVO "
              "remaps it (after the synchronize_rcu()), then it must stay stopped while CPU 0 remaps, flushes, "
              "adds the folio to the pool and takes it (folio_ref_unfreeze(folio, 1)); its page_ref_count() then "
              "reads the head's count through the read-only alias and the cmpxchg writes it. CPU 0's next "
              "synchronize_rcu(), while it holds the folio, waits for CPU 1's rcu_read_lock() section: pct "
              "(depth 3: one change point after the synchronize_rcu(), one between CPU 1's two loads); 20 "
              "trials of 4,000: 16 found, median 2,334 executions; random does not find it. The fixed model "
              "reads _refcount first: 0 through the old tail, and after the remap a fake head",
      .provenance = synthetic("page_ref_add_unless() testing for a fake head before a relaxed read of _refcount, the "
                              "order the 2025 fix (\"fix memory loads ordering\") replaced; its commit id is not "
                              "recorded here, and the code it fixed is 6.10's own, so this stays labelled synthetic "
                              "until the pre-fix text is pinned. Worth having: the one weak-memory window of the "
                              "speculative-walker protocol"),
      .workload = "owner-tail-ref",
      .operations = 1,
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kPct,
      .seeds = 4000,
  });
  c.push_back(RaceEntry{
      .id = "32c877191e02",
      .model = "v6.10",
      .revert = "32c877191e02",
      .commit = "32c877191e02",
      .fix = 6,
      .title = "the hugetlb mark cleared before the vmemmap is restored: memory_failure() writes a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being torn down, against pool resizing "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus hugepages (made by "
                "alloc_surplus_hugetlb_folio(), freed by free_huge_folio(); no resize_lock)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V610/Pool6xTest.C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail/v6_10",
      .note = "",
      .provenance = historical("32c877191e02",
                               "5.14-6.4 (here: 6.10's code with the mark cleared first, the pool per folio as "
                               "before 6.7)",
                               "remove_hugetlb_folio(): __folio_clear_hugetlb() under hugetlb_lock before "
                               "__update_and_free_hugetlb_folio() restores the vmemmap"),
      .workload = "hwpoison-window",
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "5596d9e8b553",
      .model = "v6.10",
      .revert = "5596d9e8b553",
      .commit = "5596d9e8b553",
      .fix = 0,
      .title = "the poison moved to the raw pages before the hugetlb mark is cleared: a memory_failure() in "
               "between leaves its raw page unmarked",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being torn down (a surplus folio its "
                "owner frees: free_huge_folio() -> __update_and_free_hugetlb_folio(), no resize_lock; or a free "
                "one another memory_failure() dissolves), against pool resizing and owners",
      .expected = "invariant-broken",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/hwpoison_6x_test.cc Hwpoison5596d9e8b553Test.RevertedTheRawPageLeavesThePoolUnmarked",
      .note = "hwpoison-conservation, as the folio's frames leave the pool: the poison memory_failure() recorded "
              "under hugetlb_lock on a folio being freed is on its head, not on its raw page. random, 6 "
              "operations per CPU: found at execution 151 from seed 1; 8 trials (seeds 1, 10001, ..., 70001): "
              "106 to 869 executions, median 344; pct does not find it within 3,000",
      .provenance = historical("5596d9e8b553",
                               "6.5-6.9 (and the stable trees 32c877191e02 reached; here: 6.10's code with the "
                               "move first)",
                               "__update_and_free_hugetlb_folio(): \"if (unlikely(folio_test_hwpoison(folio))) "
                               "folio_clear_hugetlb_hwpoison(folio);\" before __folio_clear_hugetlb() under "
                               "hugetlb_lock"),
      .workload = "hwpoison-window",
      .operations = 6,
      .memory_bytes = 64 * kMiB,
      .seeds = 1000,
  });
  c.push_back(RaceEntry{
      .id = "v6.10/d8f5f7e445f0",
      .model = "v6.10",
      .revert = "d8f5f7e445f0",
      .commit = "d8f5f7e445f0",
      .fix = 7,
      .title = "the hugetlb mark set after HVO: memory_failure() writes PG_hwpoison to a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being made, against pool growth "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus faults (alloc_surplus_hugetlb_folio(), "
                "no resize_lock: a folio made beside a resize)",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V610/Pool6xTest.D8f5f7e445f0RevertedMemoryFailureWritesAReadOnlyTail/v6_10",
      .note = "",
      .provenance = historical("d8f5f7e445f0",
                               "5.14-6.5 (here: 6.10's code with the mark set after, the pool per folio as before "
                               "6.7)",
                               "__prep_new_hugetlb_folio(): hugetlb_vmemmap_optimize() before folio_set_hugetlb()"),
      .workload = "hwpoison-window",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "reset-3",
      .model = "v6.10",
      .revert = "reset-3",
      .commit = "",
      .fix = 10,
      .title = "restore re-initialises NR_RESET_STRUCT_PAGE = 3 struct pages: Bad page state in tails",
      .actors = "resize workload: pool shrink restores and frees hugepages",
      .expected = "bad-page-state",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v6_10_test.cc V610ResetStructPagesTest.Reset3RevertedTailsKeepPage3sHugetlbFieldBadPageState",
      .note = "sequential: any restore shows it",
      .provenance = synthetic("restore re-initialising 3 struct pages (NR_RESET_STRUCT_PAGE 3) after the hugetlb "
                              "fields moved to page[3]: the 2025 fix raised it to 4 with the move, so 3 with page[3] "
                              "in use is the window, not a release this model pins; worth having as the Bad page "
                              "state check of restored tails"),
      .workload = "resize",
      .seeds = 50,
  });
  c.push_back(RaceEntry{
      .id = "2b21624fc232",
      .model = "v6.10",
      .revert = "2b21624fc232",
      .commit = "2b21624fc232",
      .fix = 13,
      .title = "fresh folios not frozen before becoming hugetlb: a speculative reference on the head is lost",
      .actors = "speculative-head: speculative references on heads of hugepages being made, against pool growth "
                "(set_max_huge_pages(), under resize_lock) and owners' surplus faults (alloc_surplus_hugetlb_folio(), "
                "no resize_lock)",
      .expected = "invariant-broken|bad-page-state",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_6x_test.cc V610/Pool6xTest.B2b21624fc232RevertedTheReferenceGoesToTheOldHeadPageAndIsLost/v6_10",
      .note = "",
      .provenance = historical("2b21624fc232",
                               "5.14-6.0 (here: with 6.2's head-page copy, 11aad2631bf7: a combination no release "
                               "had)",
                               "alloc_buddy_huge_page() / alloc_fresh_huge_page(): the folio not frozen (refcount 1) "
                               "while it becomes hugetlb"),
      .workload = "speculative-head",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 2000,
  });
}

}  // namespace hvo::stress
