// The pool tests 6.10 and 7.1 share, written once (pool_6x_scenarios.h
// declares the suites; pool_v6_10_test.cc and pool_v7_1_test.cc
// instantiate them): the pool's batched resize of 6.7 (one optimize batch
// per grow, one restore batch per shrink, bulk_vmemmap_restore_error()'s
// fallbacks) and its per-folio form with a fix older than 6.7 reverted;
// folios frozen from allocation (2b21624fc232); the batch's flush before
// the old pages are freed (flush-before-free); the hugetlb mark set before
// HVO and cleared after the restore (d8f5f7e445f0, 32c877191e02); every
// revert clean without concurrency.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "models/common/hugetlb_folio_6x.h"
#include "tests/models/pool_6x_scenarios.h"
#include "tests/models/pool_fixture.h"
#include "tests/models/pool_interleaving.h"

namespace hvo {
namespace {

using namespace testing;

// --- the pool's batched resize (update_and_free_pages_bulk(), prep_and_add_allocated_folios()) --

// A grow by one: the batch's splits, flush_tlb_all(), its remaps, then
// flush_tlb_all() before the old pages are freed; no per-split, per-remap
// flush_tlb_kernel_range().
TEST_P(Pool6xTest, AGrowSplitsThenFlushesOnceAndFlushesOnceMoreBeforeFreeing) {
  PoolWorld w(GetParam().name, kHstate2M);
  const uint64_t flushes = w.machine.mmu().flushes();
  w.pool->set_max_huge_pages(1);
  EXPECT_EQ(w.machine.mmu().flushes() - flushes, 2u);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// Shrinking 8 optimized folios: one hugetlb_vmemmap_restore_folios() of the
// whole list, so one flush_tlb_all() (and in 6.10 one grace period); per
// folio it would be 8 of each.
TEST_P(Pool6xTest, AShrinkOfEightOptimizedFoliosIsOneBatchedRestoreWithOneFlush) {
  PoolWorld w(GetParam().name, kHstate2M);
  ASSERT_TRUE(w.model->pool_allocates_in_batches());
  ASSERT_EQ(w.pool->set_max_huge_pages(8), 8u);
  const uint64_t gp = w.machine.rcu().grace_periods(), flushes = w.machine.mmu().flushes();
  EXPECT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(w.machine.rcu().grace_periods() - gp, GetParam().grace_periods_per_batch);
  EXPECT_EQ(w.machine.mmu().flushes() - flushes, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 8u);
  EXPECT_EQ(w.pool->vmemmap_stats().restore_failures, 0u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// Growing by 8: every folio allocated first, then one
// hugetlb_vmemmap_optimize_folios(): the splits' flush and the remaps' flush
// (and in 6.10 one grace period).
TEST_P(Pool6xTest, AGrowOfEightIsOneBatchedOptimizeWithTwoFlushes) {
  PoolWorld w(GetParam().name, kHstate2M);
  const uint64_t gp = w.machine.rcu().grace_periods(), flushes = w.machine.mmu().flushes();
  ASSERT_EQ(w.pool->set_max_huge_pages(8), 8u);
  EXPECT_EQ(w.machine.rcu().grace_periods() - gp, GetParam().grace_periods_per_batch);
  EXPECT_EQ(w.machine.mmu().flushes() - flushes, 2u);
  EXPECT_EQ(w.pool->vmemmap_stats().optimized, 8u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
}

// The batch fails on its first folio and nothing was restored before it:
// bulk_vmemmap_restore_error() retries folio by folio, the first succeeds
// (the failure was one allocation), is freed, and the batch is retried:
// the kernel's forward progress, nothing put back.
TEST_P(Pool6xTest, ABatchThatFailsOnceIsRetriedFolioByFolioAndEverythingIsFreed) {
  PoolWorld w(GetParam().name, kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(4), 4u);
  w.machine.alloc_failure().fail_nth(1);
  EXPECT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(w.machine.alloc_failure().injected(), 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().restore_failures, 0u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 4u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// The batch restores the first folio, then runs out of memory for good:
// the restored one is freed (the first branch of
// bulk_vmemmap_restore_error()), the retried batch fails at once, and each
// of the other three, failing alone too, goes back to the pool as a
// surplus folio, still optimized.
TEST_P(Pool6xTest, FoliosWhoseRestoreFailsForGoodGoBackAsSurplusStillOptimized) {
  PoolWorld w(GetParam().name, kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(4), 4u);
  // A 2 MiB folio's restore allocates its 7 vmemmap pages.
  const uint64_t per_restore = kHstate2M.vmemmap_pages() - models::HugetlbFolio6x::kReservedVmemmapPages;
  w.machine.alloc_failure().fail_every_from(per_restore + 1);
  EXPECT_EQ(w.pool->set_max_huge_pages(0), 3u);
  w.machine.alloc_failure().disable();
  const PoolCounters c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 3u);
  EXPECT_EQ(c.surplus_huge_pages, 3u);
  EXPECT_EQ(c.free_huge_pages, 3u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().restore_failures, 3u);
  for (const FolioSnapshot& f : w.pool->folios()) {
    EXPECT_TRUE(w.model->vmemmap_optimized(f.head));
    EXPECT_TRUE(w.machine.pages().test_flag(f.head, PG_hugetlb));  // add_hugetlb_folio(): still hugetlb
  }
  EXPECT_TRUE(w.pool->check_counters());
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  // Memory again: the surplus folios go with the next shrink.
  EXPECT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// A fix older than 6.7 reverted models a kernel before the batched resize:
// one folio, one batch at a time. A grow by 4 is 4 optimize batches (the
// splits' flush and the remaps' flush each), a shrink 4 single-folio
// restores (each remap walk flushes its range).
TEST_P(Pool6xTest, AFixOlderThanTheBatchedResizeRevertedResizesOneFolioAtATime) {
  ASSERT_FALSE(GetParam().fixes_older_than_batched_resize.empty());
  for (const std::string& fix : GetParam().fixes_older_than_batched_resize) {
    SCOPED_TRACE(fix);
    PoolWorld w(GetParam().name, kHstate2M, PteAccess::kOnce, {fix});
    EXPECT_FALSE(w.model->pool_allocates_in_batches());
    Rcu& rcu = w.machine.rcu();
    uint64_t gp = rcu.grace_periods(), flushes = w.machine.mmu().flushes();
    ASSERT_EQ(w.pool->set_max_huge_pages(4), 4u);
    EXPECT_EQ(rcu.grace_periods() - gp, 4 * GetParam().grace_periods_per_batch);
    EXPECT_EQ(w.machine.mmu().flushes() - flushes, 4 * 2u);
    gp = rcu.grace_periods();
    flushes = w.machine.mmu().flushes();
    EXPECT_EQ(w.pool->set_max_huge_pages(0), 0u);
    EXPECT_EQ(rcu.grace_periods() - gp, 4 * GetParam().grace_periods_per_batch);
    EXPECT_EQ(w.machine.mmu().flushes() - flushes, 4u);
    EXPECT_EQ(w.pool->vmemmap_stats().restored, 4u);
    EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  }
}

// --- frozen folios (2b21624fc232) ---------------------------------------------------------------

TEST_P(Pool6xTest, FoliosStayFrozenFromAllocationThroughHvoAndWhileFree) {
  PoolWorld w(GetParam().name, kHstate2M);
  StructPageAccess& pages = w.machine.pages();
  std::optional<int32_t> during_hvo;
  Script grow({{at_head_copy, [&](const SchedulePoint& p) {
                  on_cpu(1, [&] { during_hvo = pages.page_ref_count(head_of_copy(p)); });
                }}});
  grow_one_with(w, grow);
  EXPECT_EQ(during_hvo, 0);
  const Pfn head = only_folio(w);
  EXPECT_EQ(pages.page_ref_count(head), 0);
  // An owner unfreezes it; giving it back freezes it again (refcount 0).
  ASSERT_EQ(w.pool->alloc_hugetlb_folio(), head);
  EXPECT_EQ(pages.page_ref_count(head), 1);
  w.model->put_page(*w.pool, head);
  EXPECT_EQ(pages.page_ref_count(head), 0);
  // The restore runs frozen too.
  std::optional<int32_t> during_restore;
  Script shrink({{[](const SchedulePoint&) { return current().operation == "vmemmap_remap_alloc"; },
                  [&](const SchedulePoint&) { on_cpu(1, [&] { during_restore = pages.page_ref_count(head); }); }}});
  w.task.hook = &shrink;
  w.pool->set_max_huge_pages(0);
  w.task.hook = nullptr;
  EXPECT_EQ(during_restore, 0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(Pool6xTest, ASpeculativeReferenceBeforeTheFreezeMakesTheAllocationRetry) {
  PoolWorld w(GetParam().name, kHstate2M);
  std::optional<Pfn> first;
  bool got = false;
  // folio_ref_freeze(folio, 1): the cmpxchg of the head's _refcount to 0.
  Script script({{[](const SchedulePoint& p) {
                    return p.event == SchedEvent::kPageRmw && current().operation == "alloc_buddy_hugetlb_folio" &&
                           (p.address - kVmemmapBase) % kStructPageSize == static_cast<uint64_t>(PageWord32::kRefcount);
                  },
                  [&](const SchedulePoint& p) {
                    first = page_to_pfn(VmemmapAddr(p.address));
                    on_cpu(1, [&] { got = w.model->get_page_unless_zero(*first); });
                  }}});
  grow_one_with(w, script);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(got);
  // The first folio was put back and another one allocated ("retry once").
  const Pfn head = only_folio(w);
  EXPECT_NE(head, *first);
  EXPECT_EQ(w.machine.pages().page_ref_count(*first), 1);  // the speculative holder's
  EXPECT_FALSE(w.model->page_huge(*first));
  // The holder's put_page() frees it, an ordinary compound page.
  on_cpu(1, [&] { w.model->put_page(*w.pool, *first); });
  EXPECT_EQ(w.machine.mem().state(*first), FrameState::kFree);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(Pool6xTest, B2b21624fc232AFrozenHeadTakesNoReferenceWhileItIsCopied) {
  PoolWorld w(GetParam().name, kHstate2M);
  const LostUpdate r = reference_the_head_during_its_copy(w);
  EXPECT_FALSE(r.got);
  EXPECT_EQ(w.machine.pages().page_ref_count(r.head), 0);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(Pool6xTest, B2b21624fc232RevertedTheReferenceGoesToTheOldHeadPageAndIsLost) {
  PoolWorld w(GetParam().name, kHstate2M, PteAccess::kOnce, {"2b21624fc232"});
  const LostUpdate r = reference_the_head_during_its_copy(w);
  ASSERT_TRUE(r.got);
  // The reference went to the old head page, freed since: the folio is
  // free at 0, a reference the folio does not count.
  EXPECT_EQ(w.pool->folios().at(0).state, FolioState::kFree);
  EXPECT_EQ(w.machine.pages().page_ref_count(r.head), 0);
  // The holder's put_page() drives the free folio's count negative.
  on_cpu(1, [&] { w.model->put_page(*w.pool, r.head); });
  EXPECT_EQ(w.machine.pages().page_ref_count(r.head), -1);
  EXPECT_FALSE(w.checker->check_quiescent());
  const std::optional<Violation> v = first_of(w, ViolationKind::kInvariantBroken);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->invariant, Invariant::kStructPageContents);
  EXPECT_EQ(v->pfn, r.head);
}

// --- flush-before-free ------------------------------------------------------------------------------

TEST_P(Pool6xTest, TheBatchFlushesBeforeTheOldPagesAreFreed) {
  PoolWorld w(GetParam().name, kHstate2M);
  (void)read_a_tail_across_the_free(w);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(Pool6xTest, FlushBeforeFreeRevertedAStaleTlbEntryReachesTheFreedFrame) {
  PoolWorld w(GetParam().name, kHstate2M, PteAccess::kOnce, {"flush-before-free"});
  const StaleTlb r = read_a_tail_across_the_free(w);
  ASSERT_EQ(count(w, ViolationKind::kStaleTlbUseAfterFree), 1u) << first_violation(w);
  const Violation v = *first_of(w, ViolationKind::kStaleTlbUseAfterFree);
  EXPECT_EQ(v.cpu, CpuId(1));
  EXPECT_EQ(v.frame, r.old_frame);
  EXPECT_EQ(v.pfn, r.head + 64);
}

// --- the hugetlb mark: d8f5f7e445f0 and 32c877191e02 ----------------------------------------------------

TEST_P(Pool6xTest, D8f5f7e445f0TheMarkIsSetBeforeHvo) {
  PoolWorld w(GetParam().name, kHstate2M);
  (void)memory_failure_right_after_hvo(w);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// The write reaches the frame the tail maps read-only (6.10: the head's
// new page; 7.1: the zone's shared tail page, every folio's tail had it
// succeeded).
TEST_P(Pool6xTest, D8f5f7e445f0RevertedMemoryFailureWritesAReadOnlyTail) {
  PoolWorld w(GetParam().name, kHstate2M, PteAccess::kOnce, {"d8f5f7e445f0"});
  const PoisonedTail r = memory_failure_right_after_hvo(w);
  ASSERT_EQ(count(w, ViolationKind::kRoTailWrite), 1u) << first_violation(w);
  const Violation v = *first_of(w, ViolationKind::kRoTailWrite);
  EXPECT_EQ(v.pfn, r.head + kPoisonedTail);
  EXPECT_EQ(v.frame, r.read_only_frame);
}

TEST_P(Pool6xTest, C32c877191e02TheMarkIsClearedOnlyAfterTheRestore) {
  PoolWorld w(GetParam().name, kHstate2M);
  (void)memory_failure_as_the_restore_starts(w);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(Pool6xTest, C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail) {
  PoolWorld w(GetParam().name, kHstate2M, PteAccess::kOnce, {"32c877191e02"});
  const PoisonedTail r = memory_failure_as_the_restore_starts(w);
  ASSERT_EQ(count(w, ViolationKind::kRoTailWrite), 1u) << first_violation(w);
  const Violation v = *first_of(w, ViolationKind::kRoTailWrite);
  EXPECT_EQ(v.pfn, r.head + kPoisonedTail);
  EXPECT_EQ(v.frame, r.read_only_frame);
}

TEST_P(Pool6xTest, MemoryFailureOnAFreeFolioDissolvesItAndPoisonsTheRawPage) {
  PoolWorld w(GetParam().name, kHstate2M);
  w.pool->set_max_huge_pages(2);
  const Pfn head = w.pool->folios().at(0).head;
  w.model->memory_failure(*w.pool, head + kPoisonedTail);
  EXPECT_EQ(w.pool->counters().nr_huge_pages, 1u);
  EXPECT_EQ(w.machine.mem().state(head), FrameState::kFree);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// --- every revert without concurrency ---------------------------------------------------------

// A revert's bug needs a race to show (reset-3, sequential, is not in the
// lists): alone, grow and shrink stay clean, one folio at a time exactly
// when the fix is older than 6.7's batched resize.
TEST_P(Pool6xRevertTest, IsCleanWithoutConcurrency) {
  const auto& [model, fix] = GetParam();
  PoolWorld w(model.name, kHstate2M, PteAccess::kOnce, {fix});
  EXPECT_TRUE(w.model->reverted(fix));
  const std::vector<std::string>& older = model.fixes_older_than_batched_resize;
  EXPECT_EQ(w.model->pool_allocates_in_batches(), std::find(older.begin(), older.end(), fix) == older.end());
  ASSERT_EQ(w.pool->set_max_huge_pages(8), 8u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

}  // namespace
}  // namespace hvo
