// The race catalogue's entries for the v5.18 model (HVO-HISTORY.md).
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v5_18_races(std::vector<RaceEntry>& c) {
  [[maybe_unused]] constexpr uint64_t kMiB = uint64_t{1} << 20;
  c.push_back(RaceEntry{
      .id = "d8d55f5616cf",
      .model = "v5.18",
      .revert = "d8d55f5616cf",
      .commit = "d8d55f5616cf",
      .fix = 2,
      .title = "two walks split the same vmemmap PMD without init_mm.page_table_lock; both install a PTE table",
      .actors = "resize from an empty pool: the CPUs' first HVOs split the shared vmemmap PMD, against PFN walkers",
      .expected = "use-after-free|leak|bad-free|invariant-broken|stale-tlb-use-after-free",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v5_18_test.cc V518SplitRaceTest.D8d55f5616cfRevertedBothInstallOneTableLeaksAndARemapIsLost",
      .note = "the fixed model fails this scenario at execution 382 (seed 382): a split that lost the race fills a "
              "private PTE table (never installed, then freed, as in the kernel) mapping a vmemmap frame already "
              "freed and reused as that table, and models/v5_18/set_pte.cc flags the set_pte_at; the budget stays below",
      .workload = "resize",
      .initial_pool = 0,
      .strategy = StrategyKind::kPct,
      .seeds = 300,
      .fixed_clean_executions = 381,
  });
  c.push_back(RaceEntry{
      .id = "3ce2c24cb68f",
      .model = "v5.18",
      .revert = "3ce2c24cb68f",
      .commit = "3ce2c24cb68f",
      .fix = 3,
      .title = "the split read pmd_page(*pmd) before taking the lock: the \"block\" is the page-table page",
      .actors = "grow: every CPU grows the pool from empty, so their first HVOs split the shared vmemmap PMD",
      .expected = "invariant-broken|use-after-free|bad-free|leak|bug-on",
      .found_by = FoundBy::kUnitTest,
      .unit_test = "tests/models/pool_v5_18_test.cc V518SplitRaceTest.Ce2c24cb68fRevertedSplitterMapsThePageTablePageAsTheBlock",
      .note = "not found in 1,000 executions of resize (pct, 3 CPUs; random, 8 operations) or grow (random) from an "
              "empty pool; the fixed model itself fails grow (a transient private PTE table mapping a freed frame, "
              "flagged by the set_pte_at check)",
      .workload = "grow",
      .initial_pool = 0,
      .strategy = StrategyKind::kPct,
      .seeds = 500,
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
      .actors = "resize workload under --memory-model weak: restores against PFN walkers",
      .expected = "invariant-broken|bad-page-state",
      .found_by = FoundBy::kWeakMemoryOnly,
      .unit_test = "",
      .note = "not found in 200 weak-memory executions; no deterministic test shows it yet",
      .workload = "resize",
      .memory_model = MemoryModel::kWeak,
      .seeds = 200,
  });
  c.push_back(RaceEntry{
      .id = "v5.18/d8f5f7e445f0",
      .model = "v5.18",
      .revert = "d8f5f7e445f0",
      .commit = "d8f5f7e445f0",
      .fix = 7,
      .title = "the hugetlb mark set after HVO: memory_failure() writes PG_hwpoison to a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being made, against pool growth",
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
