// The race catalogue's entries for the v17 model (HVO-HISTORY.md).
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v17_races(std::vector<RaceEntry>& c) {
  [[maybe_unused]] constexpr uint64_t kMiB = uint64_t{1} << 20;
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
