#include "stress/race_catalogue.h"

namespace hvo::stress {

std::string_view to_string(FoundBy f) {
  switch (f) {
    case FoundBy::kControlled: return "controlled";
    case FoundBy::kUnitTest: return "unit test";
    case FoundBy::kWeakMemoryOnly: return "weak-memory only";
    case FoundBy::kFigure: return "figure";
  }
  return "?";
}

namespace {

using sched::MemoryModel;
using sched::StrategyKind;

constexpr uint64_t kMiB = uint64_t{1} << 20;

std::vector<RaceEntry> make_catalogue() {
  std::vector<RaceEntry> c;
  // --- v17 -------------------------------------------------------------------------------
  c.push_back(RaceEntry{
      .id = "v17/plain-pte",
      .model = "v17",
      .revert = "",
      .commit = "",
      .fix = 1,
      .title = "plain PTE accesses in the lockless vmemmap walk (v17 as posted): run with --pte-access plain",
      .actors = "mixed workload: pool resizing (optimize/restore walks) against PFN walkers, memory_failure, owners",
      .expected = "data-race|torn-pte",
      .found_by = FoundBy::kControlled,
      .unit_test = "",
      .note = "fixed: --pte-access once",
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
  // --- v5.18 -----------------------------------------------------------------------------
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
  // --- v6.10 -----------------------------------------------------------------------------
  c.push_back(RaceEntry{
      .id = "flush-before-free",
      .model = "v6.10",
      .revert = "flush-before-free",
      .commit = "",
      .fix = 5,
      .title = "the old vmemmap pages freed before the batch's TLB flush: a stale TLB entry reaches a freed frame",
      .actors = "resize workload: PFN walkers caching vmemmap translations against optimize/restore",
      .expected = "stale-tlb-use-after-free|use-after-free",
      .found_by = FoundBy::kUnitTest,
      .unit_test = "tests/models/pool_v6_10_test.cc V610FlushBeforeFreeTest.RevertedAStaleTlbEntryReachesTheFreedFrame",
      .note = "not found in 400 pct executions each of resize (pool 0 and 2) and grow",
      .workload = "resize",
      .seeds = 300,
  });
  c.push_back(RaceEntry{
      .id = "bd225530a4c7",
      .model = "v6.10",
      .revert = "bd225530a4c7",
      .commit = "bd225530a4c7",
      .fix = 8,
      .title = "no rcu_read_lock()/synchronize_rcu(): a speculative PFN walker writes a struct page HVO made read-only",
      .actors = "speculative workload: speculative references against pool resizing",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kUnitTest,
      .unit_test = "tests/models/pool_v6_10_test.cc V610SpeculativeWalkerTest.Bd225530a4c7RevertedTheWalkerWritesAReadOnlyFakeHead",
      .note = "needs an order-0 page freed and reused as a tail between the walker's read and its cmpxchg; "
              "not found in 300 executions of speculative",
      .workload = "speculative",
      .seeds = 300,
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
      .actors = "speculative workload under --memory-model weak",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kWeakMemoryOnly,
      .unit_test = "tests/models/pool_v6_10_test.cc V610RefAcquireTest.RevertedTheFakeHeadCheckComesFirstAndTheRefcountLoadIsRelaxed",
      .note = "the unit test checks the order of the loads; the reordering itself needs the weak model",
      .workload = "speculative",
      .memory_model = MemoryModel::kWeak,
      .seeds = 200,
  });
  c.push_back(RaceEntry{
      .id = "32c877191e02",
      .model = "v6.10",
      .revert = "32c877191e02",
      .commit = "32c877191e02",
      .fix = 6,
      .title = "the hugetlb mark cleared before the vmemmap is restored: memory_failure() writes a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being torn down, against pool resizing",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v6_10_test.cc V610HugetlbMarkTest.C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail",
      .note = "",
      .workload = "hwpoison-window",
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
  c.push_back(RaceEntry{
      .id = "v6.10/d8f5f7e445f0",
      .model = "v6.10",
      .revert = "d8f5f7e445f0",
      .commit = "d8f5f7e445f0",
      .fix = 7,
      .title = "the hugetlb mark set after HVO: memory_failure() writes PG_hwpoison to a read-only tail",
      .actors = "hwpoison-window: memory_failure on tails of hugepages being made, against pool growth",
      .expected = "ro-tail-write",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v6_10_test.cc V610HugetlbMarkTest.D8f5f7e445f0RevertedMemoryFailureWritesAReadOnlyTail",
      .note = "",
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
      .actors = "speculative-head: speculative references on heads of hugepages being made, against pool growth",
      .expected = "invariant-broken|bad-page-state",
      .found_by = FoundBy::kControlled,
      .unit_test = "tests/models/pool_v6_10_test.cc V610FrozenTest.B2b21624fc232RevertedTheReferenceGoesToTheOldHeadPageAndIsLost",
      .note = "",
      .workload = "speculative-head",
      .initial_pool = 0,
      .memory_bytes = 64 * kMiB,
      .seeds = 500,
  });
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
  c.pte_access = !fixed && e.revert.empty() ? PteAccess::kPlain : PteAccess::kOnce;
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
