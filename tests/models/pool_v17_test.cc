// The HugeTLB pool run by the v17 model, sequentially: grow, use, shrink,
// dissolve, restore failure and memory_failure, for both hugepage sizes and
// both PTE access policies.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "engine/hugetlb/compound_page.h"
#include "engine/pte.h"
#include "engine/struct_page.h"
#include "tests/models/pool_fixture.h"

namespace hvo {
namespace {

using testing::PoolWorld;

class PoolV17Test : public ::testing::TestWithParam<std::tuple<Hstate, PteAccess>> {
 protected:
  PoolV17Test() : w_("v17", std::get<0>(GetParam()), std::get<1>(GetParam())) {}
  const Hstate& h() const { return w_.pool->hstate(); }
  uint64_t count() const { return h().gigantic() ? 2 : 16; }
  uint64_t saved_per_folio() const { return h().gigantic() ? 4094 : 6; }
  // A tail whose struct page lives on a read-only remapped vmemmap page.
  Pfn ro_tail(Pfn head) const { return head + 300; }

  PoolWorld w_;
};

TEST_P(PoolV17Test, GrowOptimizesEveryFolioAndShrinkReturnsEverything) {
  EXPECT_EQ(w_.pool->set_max_huge_pages(count()), count());
  const PoolCounters c = w_.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, count());
  EXPECT_EQ(c.free_huge_pages, count());
  const VmemmapStats s = w_.pool->vmemmap_stats();
  EXPECT_EQ(s.optimized, count());
  EXPECT_EQ(s.pages_freed, count() * saved_per_folio());
  EXPECT_EQ(s.pages_saved_now, count() * saved_per_folio());
  EXPECT_TRUE(w_.checker->check_quiescent());

  EXPECT_EQ(w_.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(w_.pool->vmemmap_stats().restored, count());
  EXPECT_EQ(w_.pool->vmemmap_stats().pages_saved_now, 0u);
  EXPECT_TRUE(w_.checker->check_all_returned());
  EXPECT_FALSE(w_.machine.violations().any()) << w_.machine.violations().snapshot().at(0).to_string();
}

TEST_P(PoolV17Test, OwnerTakesUsesAndGivesBack) {
  w_.pool->set_max_huge_pages(count());
  std::optional<Pfn> head = w_.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(head.has_value());
  StructPageAccess& pages = w_.machine.pages();
  EXPECT_EQ(pages.page_ref_count(*head), 1);
  EXPECT_EQ(w_.pool->counters().free_huge_pages, count() - 1);
  // Legitimate owner writes: references on the head, metadata in the first tails.
  pages.add_return32(*head, PageWord32::kRefcount, 1);
  EXPECT_TRUE(pages.store(*head + 1, PageWord::kPrivate, 0x1234));  // hugetlb_set_page_subpool()
  EXPECT_TRUE(pages.store(*head + 2, PageWord::kPrivate, 0));       // set_hugetlb_cgroup()
  EXPECT_TRUE(w_.checker->check_quiescent());
  pages.add_return32(*head, PageWord32::kRefcount, -2);
  w_.pool->free_huge_folio(*head);
  EXPECT_EQ(w_.pool->counters().free_huge_pages, count());
  w_.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w_.checker->check_all_returned());
  EXPECT_FALSE(w_.machine.violations().any());
}

TEST_P(PoolV17Test, WriteToATailOfAnOptimizedFolioIsRoTailWrite) {
  w_.pool->set_max_huge_pages(1);
  const Pfn head = w_.pool->folios().at(0).head;
  // page[64..127] live on the reuse page, which stays writable.
  EXPECT_TRUE(w_.machine.pages().store(head + 100, PageWord::kIndex, 0));
  EXPECT_FALSE(w_.machine.pages().store(ro_tail(head), PageWord::kIndex, 1));
  EXPECT_EQ(w_.machine.violations().count(ViolationKind::kRoTailWrite), 1u);
  EXPECT_EQ(w_.machine.violations().snapshot().at(0).pfn, ro_tail(head));
}

TEST_P(PoolV17Test, DissolveFreesOnlyAFreeFolio) {
  w_.pool->set_max_huge_pages(2);
  const std::optional<Pfn> used = w_.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(used.has_value());
  Pfn free_head{0};
  for (const FolioSnapshot& f : w_.pool->folios())
    if (f.state == FolioState::kFree) free_head = f.head;
  EXPECT_EQ(w_.pool->dissolve_free_hugetlb_folio(*used + 5), DissolveResult::kInUse);
  EXPECT_EQ(w_.pool->dissolve_free_hugetlb_folio(Pfn(1)), DissolveResult::kNotHugetlb);
  EXPECT_EQ(w_.pool->dissolve_free_hugetlb_folio(free_head + 7), DissolveResult::kDissolved);
  EXPECT_EQ(w_.pool->counters().nr_huge_pages, 1u);
  EXPECT_EQ(w_.machine.mem().state(free_head), FrameState::kFree);
  EXPECT_TRUE(w_.checker->check_quiescent());
  w_.machine.pages().add_return32(*used, PageWord32::kRefcount, -1);
  w_.pool->free_huge_folio(*used);
  w_.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w_.checker->check_all_returned());
  EXPECT_FALSE(w_.machine.violations().any());
}

TEST_P(PoolV17Test, RestoreFailureKeepsTheFolioWholeAndTheCountersTrue) {
  w_.pool->set_max_huge_pages(count());
  // The first vmemmap page allocation of the shrink fails: that folio's
  // restore gives back what it got and the folio returns as surplus.
  w_.machine.alloc_failure().fail_nth(1);
  EXPECT_EQ(w_.pool->set_max_huge_pages(0), 1u);
  const PoolCounters c = w_.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 1u);
  EXPECT_EQ(c.surplus_huge_pages, 1u);
  EXPECT_EQ(c.free_huge_pages, 1u);
  EXPECT_EQ(w_.pool->vmemmap_stats().restore_failures, 1u);
  EXPECT_TRUE(w_.model->vmemmap_optimized(w_.pool->folios().at(0).head));  // not half restored
  EXPECT_TRUE(w_.checker->check_quiescent());
  // With memory to be had again, the surplus folio goes too.
  EXPECT_EQ(w_.pool->set_max_huge_pages(0), 0u);
  EXPECT_TRUE(w_.checker->check_all_returned());
  EXPECT_FALSE(w_.machine.violations().any()) << w_.machine.violations().snapshot().at(0).to_string();
}

TEST_P(PoolV17Test, MemoryFailureOnAnOptimizedTailIsRecordedOnTheHead) {
  w_.pool->set_max_huge_pages(2);
  const Pfn head = w_.pool->folios().at(0).head;
  w_.model->memory_failure(*w_.pool, ro_tail(head));
  EXPECT_FALSE(w_.machine.violations().any()) << w_.machine.violations().snapshot().at(0).to_string();
  EXPECT_EQ(w_.pool->counters().nr_huge_pages, 1u);  // dissolved
  EXPECT_TRUE(w_.checker->check_quiescent());
  // An ordinary page is poisoned and unpoisoned without trouble.
  w_.model->memory_failure(*w_.pool, Pfn(w_.machine.mem().nr_frames() - 1));
  w_.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w_.checker->check_all_returned());
  EXPECT_FALSE(w_.machine.violations().any());
}

INSTANTIATE_TEST_SUITE_P(SizesAndPolicies, PoolV17Test,
                         ::testing::Combine(::testing::Values(kHstate2M, kHstate1G),
                                            ::testing::Values(PteAccess::kOnce, PteAccess::kPlain)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).size_name) + "_" +
                                  std::string(to_string(std::get<1>(info.param)));
                         });

// The `raw-hwpoison` revert: PG_hwpoison set on the raw tail before the
// vmemmap is restored.
class RawHwpoisonRevertTest : public ::testing::TestWithParam<Hstate> {};

TEST_P(RawHwpoisonRevertTest, FaultsOnAReadOnlyTail) {
  PoolWorld w("v17", GetParam(), PteAccess::kOnce, {"raw-hwpoison"});
  w.pool->set_max_huge_pages(1);
  const Pfn head = w.pool->folios().at(0).head;
  w.model->memory_failure(*w.pool, head + 300);
  ASSERT_EQ(w.machine.violations().count(ViolationKind::kRoTailWrite), 1u);
  const Violation v = w.machine.violations().snapshot().at(0);
  EXPECT_EQ(v.pfn, head + 300);
  EXPECT_EQ(v.kind, ViolationKind::kRoTailWrite);
}

TEST_P(RawHwpoisonRevertTest, DoesNotFaultOnATailOfAWritableVmemmapPage) {
  PoolWorld w("v17", GetParam(), PteAccess::kOnce, {"raw-hwpoison"});
  w.pool->set_max_huge_pages(1);
  const Pfn head = w.pool->folios().at(0).head;
  w.model->memory_failure(*w.pool, head + 100);  // page[64..127]: the reuse page, writable
  EXPECT_FALSE(w.machine.violations().any());
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned());
}

INSTANTIATE_TEST_SUITE_P(Sizes, RawHwpoisonRevertTest, ::testing::Values(kHstate2M, kHstate1G),
                         [](const auto& info) { return std::string(info.param.size_name); });

// --- 32c877191e02: the hugetlb mark at removal ------------------------------------------------

std::string first_violation(PoolWorld& w) {
  const std::vector<Violation> v = w.machine.violations().snapshot();
  return v.empty() ? "" : v.front().to_string();
}

// A tail in the folio's vmemmap page 4, read-only once optimized.
constexpr uint64_t kReadOnlyTail = 256 + 5;

// memory_failure() on a read-only tail (CPU 1) at the first schedule point
// of the shrink's vmemmap_remap_alloc() (the folio is out of the pool, its
// vmemmap not yet given back); returns the folio.
Pfn memory_failure_as_the_restore_starts(PoolWorld& w) {
  w.pool->set_max_huge_pages(1);
  EXPECT_EQ(w.pool->folios().size(), 1u);
  const Pfn head = w.pool->folios().at(0).head;
  struct AtTheRestore : ScheduleHook {
    std::function<void()> action;
    bool fired = false;
    void point(const SchedulePoint&) override {
      if (fired || current().operation != "vmemmap_remap_alloc") return;
      fired = true;
      action();
    }
    void blocked(const SchedulePoint&) override {}
  } hook;
  hook.action = [&] {
    Task other(CpuId(1));
    TaskScope scope(other);
    w.model->memory_failure(*w.pool, head + kReadOnlyTail);
  };
  w.task.hook = &hook;
  w.pool->set_max_huge_pages(0);
  w.task.hook = nullptr;
  EXPECT_TRUE(hook.fired);
  return head;
}

TEST(V17MarkTest, C32c877191e02TheMarkIsClearedOnlyAfterTheRestore) {
  PoolWorld w("v17", kHstate2M);
  (void)memory_failure_as_the_restore_starts(w);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// As shipped (the v17 posting, 5.14-6.4): the mark is cleared under
// hugetlb_lock at removal, so memory_failure() takes the tail, still
// read-only, for an ordinary page and sets PG_hwpoison on it.
TEST(V17MarkTest, C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail) {
  PoolWorld w("v17", kHstate2M, PteAccess::kOnce, {"32c877191e02"});
  const Pfn head = memory_failure_as_the_restore_starts(w);
  ASSERT_EQ(w.machine.violations().count(ViolationKind::kRoTailWrite), 1u) << first_violation(w);
  const std::vector<Violation> v = w.machine.violations().snapshot();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front().kind, ViolationKind::kRoTailWrite);
  EXPECT_EQ(v.front().pfn, head + kReadOnlyTail);
}

}  // namespace
}  // namespace hvo
