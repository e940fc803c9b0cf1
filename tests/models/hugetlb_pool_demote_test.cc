// Demote of 1 GiB hugepages into 2 MiB ones (HugetlbPool::demote(), the
// kernel's demote_store()), on the v6.10 model with and without
// c0f398c3b2cf ("mm/hugetlb_vmemmap: batch HVO work when demoting"): the
// counters of both pools, frames conserved, the 512 new folios optimized,
// the grace periods and TLB flushes the commit message counts (2 batched,
// 1 + 512 per folio without it), a restore failure putting the source back,
// and the model's batched restore/optimize reached from the pool.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/struct_page.h"
#include "models/v6_10/v6_10_model.h"
#include "tests/models/pool_fixture.h"

namespace hvo {
namespace {

using testing::PoolWorld;

constexpr uint64_t kDestinationsPerSource = 512;  // 1 GiB / 2 MiB

std::string first_violation(PoolWorld& w) {
  const std::vector<Violation> v = w.machine.violations().snapshot();
  return v.empty() ? "" : v.front().to_string();
}
uint64_t hugetlb_data_frames(PoolWorld& w) {
  uint64_t counts[kNumFrameStates];
  w.machine.mem().count_states(counts);
  return counts[static_cast<int>(FrameState::kHugetlbData)];
}
std::set<std::string> reverts_of(bool batched) {
  return batched ? std::set<std::string>{} : std::set<std::string>{"c0f398c3b2cf"};
}

// Costs of one call, from the machine's counters.
struct Cost {
  uint64_t grace_periods;
  uint64_t tlb_flushes;
};
template <class F>
Cost cost_of(PoolWorld& w, F&& f) {
  const uint64_t gp = w.machine.rcu().grace_periods(), fl = w.machine.mmu().flushes();
  f();
  return Cost{w.machine.rcu().grace_periods() - gp, w.machine.mmu().flushes() - fl};
}

// Records every operation (OperationScope name, any depth) seen at a
// schedule point while it is installed.
class OperationRecorder : public ScheduleHook {
 public:
  void point(const SchedulePoint&) override {
    const Task& t = current();
    for (int i = 0; i < std::min(t.nr_operations, Task::kMaxOperations); ++i) seen_.insert(std::string(t.operations[i]));
  }
  void blocked(const SchedulePoint&) override {}
  [[nodiscard]] bool saw(const std::string& op) const { return seen_.count(op) != 0; }

 private:
  std::set<std::string> seen_;
};

// Both variants: batched (the fix) and per folio (reverted).
class DemoteTest : public ::testing::TestWithParam<bool> {
 protected:
  bool batched() const { return GetParam(); }
};

TEST_P(DemoteTest, OneGiganticBecomes512OptimizedFree2MFoliosAndBothPoolsCheckOut) {
  PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, reverts_of(batched()));
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
  HugetlbPool& dst = *w.pool->demote_pool();
  ASSERT_EQ(dst.hstate().order, kHstate2M.order);
  // The LIFO free list: demote_pool_huge_page() takes the most recently
  // enqueued, which after a batched grow is the first allocated (the
  // lowest): page_list was built with list_add().
  const Pfn source = w.pool->folios().front().head;
  ASSERT_TRUE(w.model->vmemmap_optimized(source));
  const uint64_t hugetlb_frames_before = hugetlb_data_frames(w);

  const DemoteOutcome out = w.pool->demote(1);
  EXPECT_EQ(out.demoted, 1u);
  EXPECT_EQ(out.status, DemoteStatus::kOk);

  const PoolCounters src = w.pool->counters(), tgt = dst.counters();
  EXPECT_EQ(src.nr_huge_pages, 1u);
  EXPECT_EQ(src.free_huge_pages, 1u);
  EXPECT_EQ(tgt.nr_huge_pages, kDestinationsPerSource);
  EXPECT_EQ(tgt.free_huge_pages, kDestinationsPerSource);
  EXPECT_EQ(tgt.surplus_huge_pages, 0u);
  EXPECT_FALSE(w.pool->folio_of(source)) << "the source left the 1 GiB pool";
  // The destinations are the source's frames, in place, every one optimized
  // and frozen (a free 6.10 folio is at refcount 0).
  std::set<Pfn> heads;
  for (const FolioSnapshot& f : dst.folios()) {
    EXPECT_EQ(f.state, FolioState::kFree);
    heads.insert(f.head);
    EXPECT_TRUE(w.model->vmemmap_optimized(f.head)) << f.head.value();
    EXPECT_EQ(w.machine.pages().page_ref_count(f.head), 0);
  }
  ASSERT_EQ(heads.size(), kDestinationsPerSource);
  for (uint64_t i = 0; i < kDestinationsPerSource; ++i) EXPECT_TRUE(heads.count(source + i * 512)) << i;
  // Frames conserved: hugetlb data frames did not move, only their owner.
  EXPECT_EQ(hugetlb_data_frames(w), hugetlb_frames_before);
  const VmemmapStats ss = w.pool->vmemmap_stats(), ds = dst.vmemmap_stats();
  EXPECT_EQ(ss.demoted, 1u);
  EXPECT_EQ(ss.restored, 1u);
  EXPECT_EQ(ss.pages_saved_now, 4095u);  // the other 1 GiB folio
  EXPECT_EQ(ds.optimized, kDestinationsPerSource);
  EXPECT_EQ(ds.pages_saved_now, kDestinationsPerSource * 7);
  // The whole checker over both pools: counters, frames, every 2 MiB
  // folio's vmemmap shape and struct pages, savings.
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  // Everything comes back from both pools.
  EXPECT_EQ(dst.set_max_huge_pages(0), 0u);
  EXPECT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(DemoteTest, RestoreFailurePutsTheSourceBackOptimizedAndADemoteLaterSucceeds) {
  PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, reverts_of(batched()));
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn source = w.pool->folios().front().head;
  HugetlbPool& dst = *w.pool->demote_pool();
  const uint64_t free_before = w.machine.buddy().counters().free_pages;
  // The restore's first vmemmap page cannot be had: -ENOMEM.
  w.machine.alloc_failure().fail_nth(1);
  const DemoteOutcome out = w.pool->demote(1);
  EXPECT_EQ(out.demoted, 0u);
  EXPECT_EQ(out.status, DemoteStatus::kNoMemory);
  // add_hugetlb_folio(src, folio, false): back on the free list, not
  // surplus, whole and still optimized; nothing half restored, nothing leaked.
  const PoolCounters src = w.pool->counters();
  EXPECT_EQ(src.nr_huge_pages, 1u);
  EXPECT_EQ(src.free_huge_pages, 1u);
  EXPECT_EQ(src.surplus_huge_pages, 0u);
  ASSERT_TRUE(w.pool->folio_of(source));
  EXPECT_EQ(w.pool->folio_of(source)->state, FolioState::kFree);
  EXPECT_TRUE(w.model->vmemmap_optimized(source));
  EXPECT_TRUE(w.machine.pages().test_flag(source, PG_hugetlb));
  EXPECT_EQ(w.pool->vmemmap_stats().restore_failures, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().demoted, 0u);
  EXPECT_EQ(dst.counters().nr_huge_pages, 0u);
  EXPECT_EQ(w.machine.buddy().counters().free_pages, free_before);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  w.machine.alloc_failure().disable();
  EXPECT_EQ(w.pool->demote(1).demoted, 1u);
  EXPECT_EQ(dst.counters().free_huge_pages, kDestinationsPerSource);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  (void)dst.set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(DemoteTest, HwpoisonedFreeFoliosAreSkippedAndAllPoisonedIsEbusy) {
  PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, reverts_of(batched()));
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn source = w.pool->folios().front().head;
  w.machine.pages().set_flag(source, PG_hwpoison);
  const DemoteOutcome out = w.pool->demote(1);
  EXPECT_EQ(out.demoted, 0u);
  EXPECT_EQ(out.status, DemoteStatus::kBusy);
  EXPECT_EQ(w.pool->counters().free_huge_pages, 1u);
  w.machine.pages().clear_flag(source, PG_hwpoison);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(DemoteTest, AskingForMoreThanIsFreeDemotesWhatIsFree) {
  PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, reverts_of(batched()));
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
  // An owner holds one: only the other is free.
  ASSERT_TRUE(w.pool->alloc_hugetlb_folio());
  const DemoteOutcome out = w.pool->demote(5);
  EXPECT_EQ(out.demoted, 1u);
  EXPECT_EQ(out.status, DemoteStatus::kOk);
  EXPECT_EQ(w.pool->counters().nr_huge_pages, 1u);
  EXPECT_EQ(w.pool->demote_pool()->counters().nr_huge_pages, kDestinationsPerSource);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
}

INSTANTIATE_TEST_SUITE_P(V610, DemoteTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Batched" : "RevertedC0f398c3b2cf"; });

// --- the commit's figures ----------------------------------------------------------------

// "when not batched, demoting one 1GB hugeTLB folio to 512 2MB hugeTLB folios
// invokes synchronize_rcu() 513 times (1 de-HVO plus 512 HVO requests),
// whereas when batched, only twice (1 de-HVO plus 1 HVO request)."
TEST(DemoteCostTest, BatchedOneGiganticIsTwoGracePeriodsAndThreeFlushes) {
  PoolWorld w("v6.10", kHstate1G);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Cost c = cost_of(w, [&] { EXPECT_EQ(w.pool->demote(1).demoted, 1u); });
  EXPECT_EQ(c.grace_periods, 2u);
  // The restore batch's flush_tlb_all(); the HVO batch's after its splits
  // and before freeing the old pages.
  EXPECT_EQ(c.tlb_flushes, 3u);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(DemoteCostTest, C0f398c3b2cfRevertedOneGiganticIs513GracePeriodsAndAFlushPerFolio) {
  PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, {"c0f398c3b2cf"});
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Cost c = cost_of(w, [&] { EXPECT_EQ(w.pool->demote(1).demoted, 1u); });
  EXPECT_EQ(c.grace_periods, 1 + kDestinationsPerSource);
  // The source's restore flushes its range; each destination's HVO its own.
  EXPECT_EQ(c.tlb_flushes, 1 + kDestinationsPerSource);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(DemoteCostTest, TwoSourcesInOneBatchStillCostTwoGracePeriods) {
  for (const bool batched : {true, false}) {
    SCOPED_TRACE(batched ? "batched" : "reverted");
    PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, reverts_of(batched));
    ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
    const Cost c = cost_of(w, [&] { EXPECT_EQ(w.pool->demote(2).demoted, 2u); });
    EXPECT_EQ(c.grace_periods, batched ? 2u : 2 * (1 + kDestinationsPerSource));
    EXPECT_EQ(w.pool->demote_pool()->counters().free_huge_pages, 2 * kDestinationsPerSource);
    EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  }
}

// c2a967f6ab0e still holds inside the batch: a source that was never
// optimized (vm.hugetlb_optimize_vmemmap off when it was made) is demoted
// without a restore and without its grace period.
TEST(DemoteCostTest, ANeverOptimizedSourceCostsOnlyTheDestinationsBatch) {
  PoolWorld w("v6.10", kHstate1G);
  V610Model& m = dynamic_cast<V610Model&>(*w.model);
  m.hugetlb_vmemmap().set_vmemmap_optimize_enabled(false);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  m.hugetlb_vmemmap().set_vmemmap_optimize_enabled(true);
  ASSERT_FALSE(w.model->vmemmap_optimized(w.pool->folios().front().head));
  const Cost c = cost_of(w, [&] { EXPECT_EQ(w.pool->demote(1).demoted, 1u); });
  EXPECT_EQ(c.grace_periods, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 0u);
  EXPECT_EQ(w.pool->demote_pool()->vmemmap_stats().optimized, kDestinationsPerSource);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
}

// The model's batched functions are what the pool reaches (and, reverted,
// the single-folio ones instead).
TEST(DemoteReachTest, ThePoolReachesTheBatchedRestoreAndOptimizeOrWithTheRevertTheSingleOnes) {
  for (const bool batched : {true, false}) {
    SCOPED_TRACE(batched ? "batched" : "reverted");
    PoolWorld w("v6.10", kHstate1G, PteAccess::kOnce, reverts_of(batched));
    ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
    OperationRecorder rec;
    w.task.hook = &rec;
    EXPECT_EQ(w.pool->demote(1).demoted, 1u);
    w.task.hook = nullptr;
    EXPECT_TRUE(rec.saw("demote_store"));
    EXPECT_EQ(rec.saw("demote_free_hugetlb_folios"), batched);
    EXPECT_EQ(rec.saw("hugetlb_vmemmap_restore_folios"), batched);
    EXPECT_EQ(rec.saw("prep_and_add_allocated_folios"), batched);
    EXPECT_EQ(rec.saw("hugetlb_vmemmap_optimize_folios"), batched);
    EXPECT_EQ(rec.saw("demote_free_hugetlb_folio"), !batched);
    EXPECT_EQ(rec.saw("hugetlb_vmemmap_restore_folio"), !batched);
    EXPECT_EQ(rec.saw("hugetlb_vmemmap_optimize_folio"), !batched);
  }
}

// --- who has demote -----------------------------------------------------------------------

TEST(DemoteSupportTest, A2MPoolHasNoDemoteTargetAndV17HasNoDemote) {
  {
    PoolWorld w("v6.10", kHstate2M);
    EXPECT_EQ(w.pool->demote_pool(), nullptr);
    ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
    EXPECT_EQ(w.pool->demote(1).status, DemoteStatus::kNotSupported);
    EXPECT_EQ(w.pool->counters().free_huge_pages, 1u);
  }
  {
    // The reviewed v17 patch (5.14) predates demote (5.16).
    PoolWorld w("v17", kHstate1G);
    EXPECT_EQ(w.model->demote_ops(), nullptr);
    ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
    EXPECT_EQ(w.pool->demote(1).status, DemoteStatus::kNotSupported);
    EXPECT_EQ(w.pool->counters().free_huge_pages, 1u);
    EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  }
}

// --- the checker looks at the 2 MiB pool ------------------------------------------------------

TEST(DemoteCheckerTest, ABroken2MFolioAfterADemoteIsCaught) {
  PoolWorld w("v6.10", kHstate1G);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  ASSERT_EQ(w.pool->demote(1).demoted, 1u);
  ASSERT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  // An owner's 2 MiB folio whose head refcount drops to 0 while in use.
  HugetlbPool& dst = *w.pool->demote_pool();
  const std::optional<Pfn> head = dst.alloc_hugetlb_folio();
  ASSERT_TRUE(head);
  w.machine.pages().store32(*head, PageWord32::kRefcount, 0);
  EXPECT_FALSE(w.checker->check_quiescent());
  const std::vector<Violation> v = w.machine.violations().snapshot();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front().invariant, Invariant::kStructPageContents) << v.front().to_string();
  EXPECT_EQ(v.front().pfn, head);
}

TEST(DemoteCheckerTest, A2MFolioLeftInThePoolIsNotEverythingReturned) {
  PoolWorld w("v6.10", kHstate1G);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  ASSERT_EQ(w.pool->demote(1).demoted, 1u);
  (void)w.pool->set_max_huge_pages(0);
  EXPECT_FALSE(w.checker->check_all_returned());
  bool named = false;
  for (const Violation& v : w.machine.violations().snapshot())
    named |= v.invariant == Invariant::kPoolCounters && v.to_string().find("512 hugepages of 2M") != std::string::npos;
  EXPECT_TRUE(named) << first_violation(w);
}

}  // namespace
}  // namespace hvo
