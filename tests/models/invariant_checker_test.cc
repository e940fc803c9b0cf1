// The invariant checker must catch each kind of breakage it claims to: each
// test breaks one thing behind the model's back.
#include "models/invariant_checker.h"

#include <gtest/gtest.h>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "tests/models/pool_fixture.h"

namespace hvo {
namespace {

using testing::PoolWorld;

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() : w_("v17", kHstate2M) { w_.pool->set_max_huge_pages(4); }
  Pfn head() { return w_.pool->folios().at(0).head; }
  uint64_t broken(Invariant inv) {
    uint64_t n = 0;
    for (const Violation& v : w_.machine.violations().snapshot()) n += v.invariant == inv ? 1 : 0;
    return n;
  }
  PoolWorld w_;
};

TEST_F(CheckerTest, CleanPoolPasses) { EXPECT_TRUE(w_.checker->check_quiescent()); }

TEST_F(CheckerTest, WritableTailPteBreaksTheShape) {
  const SoftWalk walk = w_.machine.page_tables().walk(pfn_to_page(head()) + 5 * kPageSize);
  w_.machine.page_tables().write_entry(walk.entry, pte_mkwrite(walk.value));
  EXPECT_FALSE(w_.checker->check_quiescent());
  EXPECT_GE(broken(Invariant::kVmemmapShape), 1u);
}

TEST_F(CheckerTest, TailPteOnAnotherFrameBreaksTheShape) {
  // Point vmemmap page 5 at page 0's frame: read-only, but not the reuse page.
  const SoftWalk page0 = w_.machine.page_tables().walk(pfn_to_page(head()));
  const SoftWalk walk = w_.machine.page_tables().walk(pfn_to_page(head()) + 5 * kPageSize);
  w_.machine.page_tables().write_entry(walk.entry, pfn_pte(page0.frame, kPageKernelRo));
  EXPECT_FALSE(w_.checker->check_vmemmap_shape(head(), true));
  EXPECT_EQ(broken(Invariant::kVmemmapShape), 1u);
}

TEST_F(CheckerTest, WrongCompoundHeadBreaksTheContents) {
  // Written behind the MMU's back, into the reuse frame: every alias of it
  // now says the wrong head.
  const SoftWalk reuse = w_.machine.page_tables().walk(pfn_to_page(head()) + kPageSize);
  w_.machine.mem().store<uint64_t>(pfn_to_phys(reuse.frame) + 8, compound_head_value(head() + 512),
                                   std::memory_order_relaxed);
  EXPECT_FALSE(w_.checker->check_struct_page_contents(head(), FolioState::kFree));
  EXPECT_EQ(broken(Invariant::kStructPageContents), 1u);
}

TEST_F(CheckerTest, LeakedVmemmapFrameBreaksConservation) {
  (void)w_.machine.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kVmemmap);
  EXPECT_FALSE(w_.checker->check_frame_conservation());
  EXPECT_EQ(broken(Invariant::kFrameConservation), 1u);
}

TEST_F(CheckerTest, UnownedBuddyPageBreaksConservation) {
  (void)w_.machine.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
  EXPECT_FALSE(w_.checker->check_frame_conservation());
}

TEST_F(CheckerTest, SavingsFollowTheKernelFigures) {
  EXPECT_EQ(kernel_savings_per_folio("v17", kHstate2M), 6u);
  EXPECT_EQ(kernel_savings_per_folio("v17", kHstate1G), 4094u);
  EXPECT_EQ(kernel_savings_per_folio("v5.18", kHstate2M), 7u);
  EXPECT_EQ(kernel_savings_per_folio("v5.18", kHstate1G), 4095u);
  EXPECT_TRUE(w_.checker->check_savings());
}

TEST_F(CheckerTest, NotEverythingReturnedIsCaught) {
  EXPECT_FALSE(w_.checker->check_all_returned());
  EXPECT_GE(broken(Invariant::kPoolCounters), 1u);
}


// v7.1: the tails map the zone's shared tail page, a frame outside the
// folio; the checker knows it, and counts it in frame conservation.
class CheckerV71Test : public ::testing::Test {
 protected:
  CheckerV71Test() : w_("v7.1", kHstate2M) { w_.pool->set_max_huge_pages(4); }
  Pfn head() { return w_.pool->folios().at(0).head; }
  uint64_t broken(Invariant inv) {
    uint64_t n = 0;
    for (const Violation& v : w_.machine.violations().snapshot()) n += v.invariant == inv ? 1 : 0;
    return n;
  }
  PoolWorld w_;
};

TEST_F(CheckerV71Test, CleanPoolWithItsSharedTailPagePasses) {
  EXPECT_TRUE(w_.checker->check_quiescent());
  EXPECT_EQ(kernel_savings_per_folio("v7.1", kHstate2M), 7u);
  EXPECT_EQ(kernel_savings_per_folio("v7.1", kHstate1G), 4095u);
}

TEST_F(CheckerV71Test, ATailPteOnAnotherReadOnlyFrameThanTheSharedPageBreaksTheShape) {
  // A private copy of the shared page, mapped read-only at vmemmap page 3:
  // same contents, but not the zone's page (and a frame nobody else maps).
  const Pfn copy = *w_.machine.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kVmemmap);
  w_.machine.mem().copy_page(copy, *w_.model->shared_tail_page(kHstate2M));
  const SoftWalk walk = w_.machine.page_tables().walk(pfn_to_page(head()) + 3 * kPageSize);
  w_.machine.page_tables().write_entry(walk.entry, pfn_pte(copy, kPageKernelRo));
  EXPECT_FALSE(w_.checker->check_vmemmap_shape(head(), true));
  EXPECT_EQ(broken(Invariant::kVmemmapShape), 1u);
}

TEST_F(CheckerV71Test, ATailPointingAtItsHeadInsteadOfTheMaskBreaksTheContents) {
  // Written into the shared page behind the MMU's back: every folio's
  // tails at that slot now hold a 6.x pointer to one head.
  const Pfn shared = *w_.model->shared_tail_page(kHstate2M);
  w_.machine.mem().store<uint64_t>(pfn_to_phys(shared) + 8, compound_head_value(head()), std::memory_order_relaxed);
  EXPECT_FALSE(w_.checker->check_struct_page_contents(head(), FolioState::kFree));
  EXPECT_EQ(broken(Invariant::kStructPageContents), 1u);
}

TEST_F(CheckerV71Test, TheSharedPageStaysAVmemmapFrameOnceEveryFolioIsGone) {
  w_.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w_.checker->check_all_returned());
  // Freed behind the model's back, it is missed.
  w_.machine.buddy().free_pages(*w_.model->shared_tail_page(kHstate2M), Order(0));
  EXPECT_FALSE(w_.checker->check_frame_conservation());
  EXPECT_GE(broken(Invariant::kFrameConservation), 1u);
}

}  // namespace
}  // namespace hvo
