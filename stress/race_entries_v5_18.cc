// The race catalogue's entries for the v5.18 model (docs/hvo-history.md).
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v5_18_races(std::vector<RaceEntry>& c) {
  [[maybe_unused]] constexpr uint64_t kMiB = uint64_t{1} << 20;
  // Fixes 2 and 3 share one scenario, the reproducer a kernel developer
  // would write: two CPUs whose first and only operation is the HVO of a
  // fresh hugepage, in 64 MiB of memory (half of what one vmemmap PMD
  // describes), so both walks find the same PMD leaf and split it at once.
  // Two writes to nr_hugepages cannot race (resize_lock): CPU 0 writes it,
  // CPU 1 faults a surplus hugepage (alloc_surplus_hugetlb_folio()).
  // One operation each keeps an execution short (about 2,800 schedule
  // points), which is what the PCT search's odds depend on.
  // d8d55f5616cf reverted is the code of 5.15-5.16: vmemmap_remap_free()
  // under mmap_write_lock(&init_mm), so two splits never overlap and there
  // is no race to find. What the commit was for is concurrency: with the
  // write lock every walk (another HVO, a restore) waits for a splitting
  // one, which shows in stats.mmap_lock_waits; with the read lock none does.
  c.push_back(RaceEntry{
      .id = "d8d55f5616cf",
      .model = "v5.18",
      .revert = "d8d55f5616cf",
      .commit = "d8d55f5616cf",
      .fix = 2,
      .title = "no race as shipped: vmemmap_remap_free() under mmap_write_lock(&init_mm) serialises every split "
               "(and every other walk); the fix made it a read lock plus init_mm.page_table_lock, for concurrency",
      .actors = "free mode, 2 threads, mixed workload (resizes, owners, PFN walkers: HVO and restore walks at once): "
                "compare stats.mmap_lock_waits",
      .expected = "figure",
      .found_by = FoundBy::kFigure,
      .unit_test = "tests/models/pool_v5_18_test.cc "
                   "V518SplitRaceTest.D8d55f5616cfRevertedTheSplitHoldsInitMmsMmapLockForWrite",
      .note = "both runs pass (exit 0); stats.mmap_lock_waits: 32, 33 and 142 with the write lock in three runs "
              "(how often the host overlaps the threads), 0 with the fix in every run (`hvo-stress run --race "
              "d8d55f5616cf --json` and `--fixed`)",
      .provenance = historical("d8d55f5616cf",
                               "5.15-5.16 (the PMD split of 3bc2b6a72596 under mmap_write_lock(&init_mm))",
                               "vmemmap_remap_free() (mmap_write_lock(&init_mm) around the walk), "
                               "vmemmap_pmd_range() (if (pmd_leaf(*pmd)) split_vmemmap_huge_pmd()), "
                               "split_vmemmap_huge_pmd() (pmd_page(*pmd) and pmd_populate_kernel() with no "
                               "page-table lock)"),
      .mode = CampaignMode::kFree,
      .workload = "mixed",
      .cpus = 2,
      .operations = 20000,
      .seeds = 1,
  });
  c.push_back(RaceEntry{
      .id = "unlocked-split",
      .model = "v5.18",
      .revert = "unlocked-split",
      .commit = "",
      .fix = 2,
      .title = "synthetic: two walks under mmap_read_lock(&init_mm) split the same vmemmap PMD without "
               "init_mm.page_table_lock; both install a PTE table",
      .actors = "grow, 1 operation per CPU, 64M: CPU 0 writes nr_hugepages (set_max_huge_pages(), under resize_lock) "
                "while CPU 1 faults a surplus hugepage (alloc_surplus_hugetlb_folio(), no resize_lock): both first "
                "HVOs split the one vmemmap PMD at once",
      .expected = "use-after-free|leak|bad-free|invariant-broken|stale-tlb-use-after-free|bug-on",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v5_18_test.cc V518SplitRaceTest.UnlockedSplitRevertedBothInstallOneTableLeaksAndARemapIsLost",
      .note = "d8d55f5616cf's revert before issue 14 (no kernel had it: see provenance); random finds it in the "
              "first execution in each of 20 independent trials; the fixed model passes 2,000 random executions",
      .provenance = synthetic("two splits of one vmemmap PMD at once with nothing between them: walks under "
                              "mmap_read_lock(&init_mm) (as since d8d55f5616cf) but the split without "
                              "init_mm.page_table_lock (as before it), the table installed unconditionally. No "
                              "kernel combined the two: d8d55f5616cf made the lock a read lock and added the "
                              "page-table lock in one commit. Worth having as the hazard d8d55f5616cf had to close "
                              "to go parallel, and as the checkers' proof that a lost PTE table (leak, lost remap, "
                              "use-after-free) is caught"),
      .workload = "grow",
      .operations = 1,
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kRandom,
      .seeds = 50,
  });
  c.push_back(RaceEntry{
      .id = "3ce2c24cb68f",
      .model = "v5.18",
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
      .unit_test = "tests/models/pool_v5_18_test.cc V518SplitRaceTest.Ce2c24cb68fRevertedSplitterMapsThePageTablePageAsTheBlock",
      .note = "the window is one schedule point (between the two reads of the PMD) while the other CPU runs a whole "
              "split, so only pct finds it: a change point must land on that step of an execution of about 2,700 "
              "(CPU 1's surplus folio is put only when the campaign ends, so its restore is not part of it); "
              "20 independent trials: median 403 executions, worst 3,992; the search from seed 1 finds it "
              "at execution 2,887 (2,995 when the leaf test took no lock, before issue 14); random never does",
      .provenance = historical("3ce2c24cb68f",
                               "5.17-6.4",
                               "split_vmemmap_huge_pmd() (pmd_leaf(*pmd) under init_mm.page_table_lock, the lock "
                               "then dropped) and __split_vmemmap_huge_pmd() (struct page *page = pmd_page(*pmd) "
                               "read without the lock)"),
      .workload = "grow",
      .operations = 1,
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .strategy = StrategyKind::kPct,
      .seeds = 15000,
  });
  c.push_back(RaceEntry{
      .id = "fake-head",
      .model = "v5.18",
      .revert = "fake-head",
      .commit = "a6b40850c442",
      .fix = 12,
      .title = "compound_head() without the fake-head check reports aligned tails as heads",
      .actors = "resize workload: pool resizing against PFN walkers (the kpageflags selftest's check)",
      .expected = "invariant-broken",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v5_18_test.cc V518FakeHeadTest.RevertedFakeHeadCheckReportsAnAlignedTailAsAHead",
      .note = "",
      .provenance = synthetic("compound_head() without the fake-head check (page_fixed_fake_head()). The check "
                              "(a6b40850c442) came in the same series as, and before, the 1-page reservation that "
                              "creates fake heads (e7d324850bfc), so no release lacked it; worth having as the "
                              "hugepage-vmemmap selftest's check (kpageflags: no tail reads as a head), which must "
                              "fail on such a kernel"),
      .workload = "resize",
      .seeds = 100,
  });
  c.push_back(RaceEntry{
      .id = "restore-wmb",
      .model = "v5.18",
      .revert = "restore-wmb",
      .commit = "",
      .fix = 4,
      .title = "no smp_wmb() between copying a restored vmemmap page and set_pte_at()",
      .actors = "restore-walk under --memory-model weak: CPU 0 shrinks and grows the pool (restores), CPU 1 "
                "resolves compound_head() of the struct pages of hugepage-backed blocks, the restored ones included",
      .expected = "uninitialised-read|invariant-broken",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/engine/sched/pte_dependency_test.cc "
                   "PteDependencyTest.WithoutSmpWmbAReaderSeesTheNewPteBeforeThePageContents",
      .note = "the reader walks to the restored page's new PTE before the copy's stores reach memory and reads the "
              "frame's previous contents: PAGE_POISON, as every page allocated for the vmemmap holds until it is "
              "written (engine/page_poison.h), so the read itself is the finding (uninitialised-read). Found at "
              "execution 38 from seed 1 (at 74 before the poison, as another folio's tails naming a head that does "
              "not cover the pfn: invariant-broken); the fixed model (smp_wmb(), and the MMU walk's address "
              "dependency: engine/mmu.h) passes 2,000",
      .provenance = historical("939de63d35dd",
                               "5.14-5.18",
                               "vmemmap_restore_pte(): copy_page() then set_pte_at() with no smp_wmb() between"),
      .workload = "restore-walk",
      .operations = 4,
      .initial_pool = 4,
      .memory_bytes = 64 * kMiB,
      .memory_model = MemoryModel::kWeak,
      .strategy = StrategyKind::kRandom,
      .seeds = 1000,
  });
  c.push_back(RaceEntry{
      .id = "v5.18/d8f5f7e445f0",
      .model = "v5.18",
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
                               "5.14-6.5",
                               "__prep_new_huge_page(): hugetlb_vmemmap_optimize() before "
                               "set_compound_page_dtor(HUGETLB_PAGE_DTOR)"),
      .workload = "hwpoison-window",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "v5.18/32c877191e02",
      .model = "v5.18",
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
      .unit_test = "tests/models/pool_v5_18_test.cc V518MarkTest.C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail",
      .note = "first found at execution 3 (seed 3) from seed 1; the fixed model passes 2,000 (`hvo-stress run --race ID` "
              "and `--fixed --seeds 2000`)",
      .provenance = historical("32c877191e02",
                               "5.14-6.4",
                               "__update_and_free_page() / remove_hugetlb_page(): the hugetlb mark (destructor) "
                               "cleared under hugetlb_lock at removal, before hugetlb_vmemmap_alloc() restores the "
                               "vmemmap"),
      .workload = "hwpoison-window",
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
}

}  // namespace hvo::stress
