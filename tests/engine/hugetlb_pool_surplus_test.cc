// The pool's fault-time surplus allocation (alloc_surplus_hugetlb_folio()
// behind alloc_hugetlb_folio()) and the free of a surplus folio
// (free_huge_folio()): the overcommit limit, the counters, the limit checked
// again after the lock was dropped for the allocation, and a surplus folio
// freed (restored) when its owner puts it. Neither takes resize_lock.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <vector>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/struct_page.h"
#include "engine/task.h"
#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

// No HVO: marks and frees folios, and runs `during_prep` (once) in the
// middle of the first preparation, with no pool lock held, as another CPU
// would run between alloc_surplus_hugetlb_folio()'s two lock holds.
class SurplusOps final : public HugetlbVmemmapOps {
 public:
  bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    ++preps;
    pool.hugetlb_lock().AssertNotHeld();
    resize_lock_held_at_prep.push_back(pool.resize_lock().is_locked());
    if (during_prep) std::exchange(during_prep, {})();
    pool.pages().set_flag(head, PG_hugetlb);
    return pool.pages().add_return32(head, PageWord32::kRefcount, -1).value == 0;
  }
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    ++frees;
    pool.hugetlb_lock().AssertNotHeld();
    pool.pages().clear_flag(head, PG_hugetlb);
    pool.pages().store32(head, PageWord32::kRefcount, 1);
    pool.free_folio_frames(head);
    return true;
  }

  std::function<void()> during_prep;
  unsigned preps = 0, frees = 0;
  std::vector<bool> resize_lock_held_at_prep;
};

class HugetlbPoolSurplus : public ::testing::Test {
 protected:
  // The owner's last put_page(): the count to 0, then free_huge_folio().
  void put(Pfn head) {
    ASSERT_EQ(machine_.pages().add_return32(head, PageWord32::kRefcount, -1).value, 0);
    pool_.free_huge_folio(head);
  }
  uint64_t buddy_free() { return machine_.buddy().counters().free_pages; }
  std::string first_violation() {
    const std::vector<Violation> v = machine_.violations().snapshot();
    return v.empty() ? "" : v.front().to_string();
  }

  Machine machine_{testing::small_config()};
  Task task_{CpuId(0)};
  TaskScope scope_{task_};
  SurplusOps ops_;
  HugetlbPool pool_{machine_, kHstate2M, ops_};
};

TEST_F(HugetlbPoolSurplus, WithoutOvercommitAFaultOnAnEmptyPoolGetsNothingAndAllocatesNothing) {
  const uint64_t free_before = buddy_free();
  EXPECT_EQ(pool_.nr_overcommit_huge_pages(), 0u);
  EXPECT_FALSE(pool_.alloc_hugetlb_folio().has_value());
  EXPECT_EQ(ops_.preps, 0u);
  EXPECT_EQ(buddy_free(), free_before);
  EXPECT_EQ(pool_.counters().nr_huge_pages, 0u);
}

TEST_F(HugetlbPoolSurplus, FaultsMakeSurplusFoliosUpToTheOvercommitLimit) {
  pool_.set_nr_overcommit_huge_pages(2);
  const std::optional<Pfn> a = pool_.alloc_hugetlb_folio();
  const std::optional<Pfn> b = pool_.alloc_hugetlb_folio();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  // The third: surplus_huge_pages >= nr_overcommit_huge_pages, refused
  // before any allocation.
  EXPECT_FALSE(pool_.alloc_hugetlb_folio().has_value());
  EXPECT_EQ(ops_.preps, 2u);
  const PoolCounters c = pool_.counters();
  EXPECT_EQ(c.nr_huge_pages, 2u);
  EXPECT_EQ(c.surplus_huge_pages, 2u);
  EXPECT_EQ(c.free_huge_pages, 0u);
  for (Pfn head : {*a, *b}) {
    EXPECT_EQ(pool_.folio_of(head)->state, FolioState::kInUse);
    EXPECT_EQ(machine_.pages().page_ref_count(head), 1);  // handed over unfrozen, to the faulting owner
    EXPECT_TRUE(machine_.pages().test_flag(head, PG_hugetlb));
  }
  EXPECT_TRUE(pool_.check_counters());
  // The surplus path is the kernel's way into HVO without resize_lock.
  EXPECT_EQ(ops_.resize_lock_held_at_prep, (std::vector<bool>{false, false}));
}

TEST_F(HugetlbPoolSurplus, AFaultTakesAFreeFolioBeforeMakingASurplusOne) {
  pool_.set_nr_overcommit_huge_pages(4);
  ASSERT_EQ(pool_.set_max_huge_pages(1), 1u);
  const std::optional<Pfn> head = pool_.alloc_hugetlb_folio();
  ASSERT_TRUE(head);
  EXPECT_EQ(ops_.preps, 1u);  // the resize's; none for the fault
  EXPECT_EQ(pool_.counters().surplus_huge_pages, 0u);
  // Its put enqueues it: the pool has no surplus to shed.
  put(*head);
  EXPECT_EQ(ops_.frees, 0u);
  EXPECT_EQ(pool_.counters().free_huge_pages, 1u);
}

TEST_F(HugetlbPoolSurplus, PuttingASurplusFolioRestoresAndFreesItWithoutResizeLock) {
  pool_.set_nr_overcommit_huge_pages(1);
  const uint64_t free_before = buddy_free();
  const std::optional<Pfn> head = pool_.alloc_hugetlb_folio();
  ASSERT_TRUE(head);
  put(*head);
  // free_huge_folio(): surplus to shed, so remove_hugetlb_folio(h, folio,
  // true) and update_and_free_hugetlb_folio(); nothing is enqueued.
  EXPECT_EQ(ops_.frees, 1u);
  const PoolCounters c = pool_.counters();
  EXPECT_EQ(c.nr_huge_pages, 0u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_EQ(c.free_huge_pages, 0u);
  EXPECT_FALSE(pool_.folio_of(*head).has_value());
  EXPECT_EQ(buddy_free(), free_before);
  EXPECT_FALSE(pool_.resize_lock().is_locked());
  EXPECT_FALSE(machine_.violations().any()) << first_violation();
}

// The limit checked again after the allocation: another CPU's fault took
// the last surplus slot while this one's folio was being made, so this
// folio is freed again (the kernel's "temporary" folio) and the fault
// gets nothing.
TEST_F(HugetlbPoolSurplus, TheLimitIsCheckedAgainAfterTheAllocationAndAFolioOverItIsFreed) {
  pool_.set_nr_overcommit_huge_pages(1);
  const uint64_t free_before = buddy_free();
  std::optional<Pfn> other;
  ops_.during_prep = [&] {
    Task t{CpuId(1)};
    TaskScope s(t);
    other = pool_.alloc_hugetlb_folio();
  };
  EXPECT_FALSE(pool_.alloc_hugetlb_folio().has_value());
  ASSERT_TRUE(other);
  EXPECT_EQ(ops_.preps, 2u);
  EXPECT_EQ(ops_.frees, 1u);  // this CPU's folio, over the limit
  PoolCounters c = pool_.counters();
  EXPECT_EQ(c.nr_huge_pages, 1u);
  EXPECT_EQ(c.surplus_huge_pages, 1u);
  EXPECT_EQ(pool_.folios().size(), 1u);
  EXPECT_TRUE(pool_.check_counters());
  put(*other);
  c = pool_.counters();
  EXPECT_EQ(c.nr_huge_pages, 0u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_EQ(buddy_free(), free_before);
  EXPECT_FALSE(machine_.violations().any()) << first_violation();
}

// The same re-check against the sysctl: nr_overcommit_hugepages lowered
// while the folio was being made.
TEST_F(HugetlbPoolSurplus, AnOvercommitLoweredDuringTheAllocationFreesTheNewFolio) {
  pool_.set_nr_overcommit_huge_pages(1);
  const uint64_t free_before = buddy_free();
  ops_.during_prep = [&] { pool_.set_nr_overcommit_huge_pages(0); };
  EXPECT_FALSE(pool_.alloc_hugetlb_folio().has_value());
  EXPECT_EQ(ops_.frees, 1u);
  EXPECT_EQ(pool_.counters().nr_huge_pages, 0u);
  EXPECT_TRUE(pool_.folios().empty());
  EXPECT_EQ(buddy_free(), free_before);
  EXPECT_TRUE(pool_.check_counters());
}

// A larger count turns surplus folios into persistent ones before it
// allocates (adjust_pool_surplus(h, nodes_allowed, -1)): the owner's put of
// such a folio enqueues it.
TEST_F(HugetlbPoolSurplus, AResizeCountsSurplusFoliosAsPersistentFirst) {
  pool_.set_nr_overcommit_huge_pages(2);
  const std::optional<Pfn> head = pool_.alloc_hugetlb_folio();
  ASSERT_TRUE(head);
  EXPECT_EQ(pool_.set_max_huge_pages(2), 2u);
  EXPECT_EQ(ops_.preps, 2u);  // the fault's, then one for the second persistent folio
  PoolCounters c = pool_.counters();
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_EQ(c.free_huge_pages, 1u);
  put(*head);
  c = pool_.counters();
  EXPECT_EQ(c.nr_huge_pages, 2u);
  EXPECT_EQ(c.free_huge_pages, 2u);
  EXPECT_EQ(ops_.frees, 0u);
  EXPECT_TRUE(pool_.check_counters());
}

}  // namespace
}  // namespace hvo
