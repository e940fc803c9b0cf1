// The race catalogue's entries for the v5.18 model (HVO-HISTORY.md).
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
  c.push_back(RaceEntry{
      .id = "d8d55f5616cf",
      .model = "v5.18",
      .revert = "d8d55f5616cf",
      .commit = "d8d55f5616cf",
      .fix = 2,
      .title = "two walks split the same vmemmap PMD without init_mm.page_table_lock; both install a PTE table",
      .actors = "grow, 1 operation per CPU, 64M: CPU 0 writes nr_hugepages (set_max_huge_pages(), under resize_lock) "
                "while CPU 1 faults a surplus hugepage (alloc_surplus_hugetlb_folio(), no resize_lock): both first "
                "HVOs split the one vmemmap PMD at once",
      .expected = "use-after-free|leak|bad-free|invariant-broken|stale-tlb-use-after-free|bug-on",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v5_18_test.cc V518SplitRaceTest.D8d55f5616cfRevertedBothInstallOneTableLeaksAndARemapIsLost",
      .note = "random finds it in the first execution in each of 20 independent trials; the fixed model passes "
              "2,000 random executions",
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
                "its unlocked pmd_leaf() test and pmd_page() while the other installs its table",
      .expected = "invariant-broken|use-after-free|bad-free|leak|bug-on",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v5_18_test.cc V518SplitRaceTest.Ce2c24cb68fRevertedSplitterMapsThePageTablePageAsTheBlock",
      .note = "the window is one schedule point (between the two reads of the PMD) while the other CPU runs a whole "
              "split, so only pct finds it: a change point must land on that step of an execution of about 2,700 "
              "(CPU 1's surplus folio is put only when the campaign ends, so its restore is not part of it); "
              "20 independent trials: median 1,029 executions (1.3 s), worst 6,055; the search from seed 1 finds it "
              "at execution 2,995; random never does",
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
      .expected = "invariant-broken",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/engine/sched/pte_dependency_test.cc "
                   "PteDependencyTest.WithoutSmpWmbAReaderSeesTheNewPteBeforeThePageContents",
      .note = "the reader walks to the restored page's new PTE before the copy's stores reach memory and reads the "
              "frame's previous contents: another folio's tails, naming a head that does not cover the pfn. "
              "Found at execution 74 from seed 1; the fixed model (smp_wmb(), and the MMU walk's address "
              "dependency: engine/mmu.h) passes 2,000",
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
      .workload = "hwpoison-window",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
}

}  // namespace hvo::stress
