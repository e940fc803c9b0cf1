// The 6.10 model's own mechanisms and its reverts: the head vmemmap page
// remapped onto a new frame, savings, fake heads behind the static key,
// grace periods per batch and only when HVO applies, and for each revert
// knob of 6.10 alone a deterministic scenario that shows the bug on the
// reverted model and passes on the fixed one. What 6.10 shares with 7.1
// (the pool's batched resize, frozen folios, flush-before-free, the hugetlb
// mark, every revert clean alone) is pool_6x_test.cc, instantiated here.
// Interleavings are forced with schedule hooks: nested tasks on another CPU
// where the other side needs no waiting, two OS threads where RCU must wait
// for a reader.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "models/v6_10/v6_10_model.h"
#include "tests/models/pool_6x_scenarios.h"
#include "tests/models/pool_fixture.h"
#include "tests/models/pool_interleaving.h"

namespace hvo {
namespace {

// The pool fixture, its forced interleavings and the scenarios 6.10 and
// 7.1 share (pool_fixture.h, pool_interleaving.h, pool_6x_scenarios.h).
using namespace testing;

V610Model& v610(PoolWorld& w) { return dynamic_cast<V610Model&>(*w.model); }
// --- the head page, the savings, the shape ----------------------------------------------

class V610HeadPageTest : public ::testing::TestWithParam<Hstate> {};

TEST_P(V610HeadPageTest, TheHeadVmemmapPageIsRemappedOntoANewFrameWithTheSameContents) {
  PoolWorld w("v6.10", GetParam());
  const Hstate& h = GetParam();
  const uint64_t boot_vmemmap = w.machine.summary().vmemmap_frames;
  Pfn head{0}, old_head_frame{0};
  std::vector<uint64_t> old_contents(kPageSize / sizeof(uint64_t));
  Script script({{at_head_copy, [&](const SchedulePoint& p) {
                    head = head_of_copy(p);
                    old_head_frame = w.machine.page_tables().walk(pfn_to_page(head)).frame;
                    for (uint64_t i = 0; i < old_contents.size(); ++i)
                      old_contents[i] = w.machine.mem().load<uint64_t>(pfn_to_phys(old_head_frame) + i * 8,
                                                                       std::memory_order_relaxed);
                  }}});
  grow_one_with(w, script);
  ASSERT_EQ(only_folio(w), head);
  ASSERT_TRUE(w.model->vmemmap_optimized(head));

  // Page 0 maps a different, writable frame; the old one is back in buddy.
  const SoftWalk page0 = w.machine.page_tables().walk(pfn_to_page(head));
  EXPECT_NE(page0.frame, old_head_frame);
  EXPECT_TRUE(page0.writable);
  EXPECT_EQ(w.machine.mem().state(old_head_frame), FrameState::kFree);
  EXPECT_EQ(w.machine.mem().state(page0.frame), FrameState::kVmemmap);
  // Same contents: the copy was taken with the optimized flag already set.
  for (uint64_t i = 0; i < old_contents.size(); ++i)
    ASSERT_EQ(w.machine.mem().load<uint64_t>(pfn_to_phys(page0.frame) + i * 8, std::memory_order_relaxed),
              old_contents[i])
        << "word " << i;
  // Pages 1..N-1 map the new frame read-only.
  for (uint64_t i = 1; i < h.vmemmap_pages(); ++i) {
    const SoftWalk wi = w.machine.page_tables().walk(pfn_to_page(head) + i * kPageSize);
    ASSERT_EQ(wi.frame, page0.frame) << "vmemmap page " << i;
    ASSERT_FALSE(wi.writable) << "vmemmap page " << i;
  }

  // The kernel's savings: 7 of 8, 4095 of 4096; the new page replaces the old.
  const uint64_t saved = h.gigantic() ? 4095 : 7;
  EXPECT_EQ(w.model->vmemmap_pages_freed_per_folio(h), saved);
  EXPECT_EQ(w.pool->vmemmap_stats().pages_saved_now, saved);
  EXPECT_EQ(w.machine.summary().vmemmap_frames, boot_vmemmap - saved);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(V610HeadPageTest, FakeHeadsAreSeenThroughBehindTheStaticKey) {
  PoolWorld w("v6.10", GetParam());
  EXPECT_EQ(v610(w).hugetlb_vmemmap().hugetlb_optimize_vmemmap_key().count(), 0);
  w.pool->set_max_huge_pages(1);
  const Pfn head = only_folio(w);
  const Pfn fake = head + kStructPagesPerPage;  // the first struct page of vmemmap page 1
  EXPECT_EQ(v610(w).hugetlb_vmemmap().hugetlb_optimize_vmemmap_key().count(), 1);
  EXPECT_TRUE(w.machine.pages().test_flag(fake, PG_head));  // the head's struct page, through the alias
  EXPECT_EQ(w.model->compound_head(fake), head);
  EXPECT_FALSE(w.model->page_head(fake));
  EXPECT_TRUE(w.model->page_huge(fake));
  w.pool->set_max_huge_pages(0);
  EXPECT_EQ(v610(w).hugetlb_vmemmap().hugetlb_optimize_vmemmap_key().count(), 0);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

INSTANTIATE_TEST_SUITE_P(Sizes, V610HeadPageTest, ::testing::Values(kHstate2M, kHstate1G),
                         [](const auto& info) { return std::string(info.param.size_name); });

TEST(V610HeadPageTest, WithoutANewHeadPageTheOldOneIsReusedAsIn518) {
  PoolWorld w("v6.10", kHstate2M);
  // Allocation 1 is the folio, 2 the split's table, 3 the new head page.
  w.machine.alloc_failure().fail_nth(3);
  w.pool->set_max_huge_pages(1);
  const Pfn head = only_folio(w);
  EXPECT_TRUE(w.model->vmemmap_optimized(head));
  EXPECT_EQ(w.pool->vmemmap_stats().pages_saved_now, 7u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// --- batching, flushes, grace periods ----------------------------------------------------------

TEST(V610BatchTest, BatchedRestoreAndReoptimizeOfThreeFoliesSynchronizeRcuOncePerBatch) {
  PoolWorld w("v6.10", kHstate2M);
  w.pool->set_max_huge_pages(3);
  std::vector<Pfn> folios;
  for (const FolioSnapshot& f : w.pool->folios()) folios.push_back(f.head);
  v6_10::HugetlbVmemmap& hv = v610(w).hugetlb_vmemmap();
  Rcu& rcu = w.machine.rcu();

  uint64_t gp = rcu.grace_periods(), flushes = w.machine.mmu().flushes();
  std::vector<Pfn> list = folios, non_hvo;
  EXPECT_EQ(hv.hugetlb_vmemmap_restore_folios(kHstate2M, list, non_hvo), 3);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(non_hvo, folios);
  EXPECT_EQ(rcu.grace_periods() - gp, 1u);
  EXPECT_EQ(w.machine.mmu().flushes() - flushes, 1u);  // VMEMMAP_REMAP_NO_TLB_FLUSH, one flush_tlb_all()
  for (Pfn f : folios) EXPECT_TRUE(w.checker->check_vmemmap_shape(f, /*optimized=*/false)) << first_violation(w);

  gp = rcu.grace_periods();
  flushes = w.machine.mmu().flushes();
  hv.hugetlb_vmemmap_optimize_folios(kHstate2M, folios);
  EXPECT_EQ(rcu.grace_periods() - gp, 1u);
  EXPECT_EQ(w.machine.mmu().flushes() - flushes, 2u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  // The single-folio entry points: one grace period each.
  gp = rcu.grace_periods();
  ASSERT_TRUE(hv.hugetlb_vmemmap_restore_folio(kHstate2M, folios[0]));
  hv.hugetlb_vmemmap_optimize_folio(kHstate2M, folios[0]);
  EXPECT_EQ(rcu.grace_periods() - gp, 2u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

struct GracePeriods {
  uint64_t grow, shrink;
};
GracePeriods grace_periods_of_a_grow_and_shrink(PoolWorld& w) {
  Rcu& rcu = w.machine.rcu();
  const uint64_t before = rcu.grace_periods();
  w.pool->set_max_huge_pages(4);
  const uint64_t grown = rcu.grace_periods();
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
  return {grown - before, rcu.grace_periods() - grown};
}

// Without HVO, grace periods by entry point: the batched optimize of a
// grow, and the batched restore of update_and_free_pages_bulk(). (The
// pool's single-folio free path calls the restore only for an optimized
// folio, in either version.)
GracePeriods grace_periods_without_hvo(PoolWorld& w) {
  v610(w).hugetlb_vmemmap().set_vmemmap_optimize_enabled(false);  // vm.hugetlb_optimize_vmemmap = 0
  Rcu& rcu = w.machine.rcu();
  uint64_t before = rcu.grace_periods();
  w.pool->set_max_huge_pages(4);
  GracePeriods gp{rcu.grace_periods() - before, 0};
  std::vector<Pfn> list, non_hvo;
  for (const FolioSnapshot& f : w.pool->folios()) list.push_back(f.head);
  before = rcu.grace_periods();
  EXPECT_EQ(v610(w).hugetlb_vmemmap().hugetlb_vmemmap_restore_folios(kHstate2M, list, non_hvo), 0);
  EXPECT_EQ(non_hvo.size(), 4u);
  gp.shrink = rcu.grace_periods() - before;
  w.pool->set_max_huge_pages(0);
  EXPECT_EQ(w.pool->vmemmap_stats().optimized, 0u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
  return gp;
}

TEST(V610GracePeriodTest, C2a967f6ab0eNoneWhenHvoDoesNotApply) {
  PoolWorld w("v6.10", kHstate2M);
  const GracePeriods gp = grace_periods_without_hvo(w);
  EXPECT_EQ(gp.grow, 0u);
  EXPECT_EQ(gp.shrink, 0u);
}

TEST(V610GracePeriodTest, C2a967f6ab0eRevertedEveryBatchPaysOneEvenWithoutHvo) {
  PoolWorld w("v6.10", kHstate2M, PteAccess::kOnce, {"c2a967f6ab0e"});
  const GracePeriods gp = grace_periods_without_hvo(w);
  EXPECT_EQ(gp.grow, 1u);  // the vm-scalability regression: grace periods for nothing
  EXPECT_EQ(gp.shrink, 1u);
}

TEST(V610GracePeriodTest, Bd225530a4c7RevertedNone) {
  PoolWorld w("v6.10", kHstate2M, PteAccess::kOnce, {"bd225530a4c7"});
  const GracePeriods gp = grace_periods_of_a_grow_and_shrink(w);
  EXPECT_EQ(gp.grow, 0u);
  EXPECT_EQ(gp.shrink, 0u);
}

// --- bd225530a4c7: speculative walkers and synchronize_rcu() ------------------------------------------

// A one-shot signal between two OS threads.
class Baton {
 public:
  void post() {
    std::lock_guard<std::mutex> g(mu_);
    posted_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> g(mu_);
    cv_.wait(g, [&] { return posted_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool posted_ = false;
};

// The walker stops at its cmpxchg of _refcount: it has read a count that is
// not 0 and decided the page is writable.
class PauseAtCmpxchg : public ScheduleHook {
 public:
  PauseAtCmpxchg(Baton& paused, Baton& go) : paused_(paused), go_(go) {}
  void point(const SchedulePoint& p) override {
    if (done_ || p.event != SchedEvent::kPageRmw) return;
    done_ = true;
    paused_.post();
    go_.wait();
  }
  void blocked(const SchedulePoint&) override {}

 private:
  Baton& paused_;
  Baton& go_;
  bool done_ = false;
};

// CPU 0 lets the walker go at the first of: synchronize_rcu() waiting for
// it, or the old vmemmap pages being freed (the remap is done), and waits
// for it to finish.
class ReleaseWalker : public ScheduleHook {
 public:
  ReleaseWalker(Baton& go, Baton& walker_done) : go_(go), walker_done_(walker_done) {}
  void point(const SchedulePoint&) override {
    if (!released_ && in_operation("free_vmemmap_page_list")) release(false);
  }
  void blocked(const SchedulePoint&) override {
    if (!released_) release(true);
  }
  [[nodiscard]] bool released_by_rcu() const { return by_rcu_; }

 private:
  void release(bool by_rcu) {
    released_ = true;
    by_rcu_ = by_rcu;
    go_.post();
    walker_done_.wait();
  }
  Baton& go_;
  Baton& walker_done_;
  bool released_ = false;
  bool by_rcu_ = false;
};

struct SpeculativeWalk {
  Pfn page{0};      // the pfn the walker references: an aligned tail-to-be
  Pfn head{0};      // the folio it ends up in
  bool got = false;
  bool released_by_rcu = false;
};

// The race of bd225530a4c7: a walker (CPU 1, its own OS thread) reads the
// refcount of an in-use order-0 page, which is then freed and becomes tail
// 64 of a new hugepage whose HVO (CPU 0) makes it a read-only fake head;
// the walker's cmpxchg comes last.
SpeculativeWalk speculative_walker_against_hvo(PoolWorld& w) {
  SpeculativeWalk r;
  // The 2 MiB block the next hugepage will be (buddy gives the same block
  // again once it is freed whole), as 512 order-0 pages in use: split_page().
  const Order order = kHstate2M.order;
  const Pfn block = *w.machine.page_alloc().alloc_pages(Gfp::kKernel, order, FrameState::kBuddy);
  for (uint64_t i = 1; i < order.nr_pages(); ++i) w.machine.pages().store32(block + i, PageWord32::kRefcount, 1);
  r.page = block + 64;

  Baton paused, go, walker_done;
  std::thread walker([&] {
    Task t{CpuId(1)};
    TaskScope scope(t);
    PauseAtCmpxchg hook(paused, go);
    t.hook = &hook;
    r.got = w.model->get_page_unless_zero(r.page);
    t.hook = nullptr;
    walker_done.post();
  });
  paused.wait();
  for (uint64_t i = 0; i < order.nr_pages(); ++i) w.machine.page_alloc().free_pages(block + i, Order(0));
  ReleaseWalker release(go, walker_done);
  w.task.hook = &release;
  w.pool->set_max_huge_pages(1);
  w.task.hook = nullptr;
  walker.join();
  r.head = only_folio(w);
  r.released_by_rcu = release.released_by_rcu();
  EXPECT_EQ(r.head, block) << "the hugepage is not where the walker's page was";
  return r;
}

TEST(V610SpeculativeWalkerTest, Bd225530a4c7SynchronizeRcuWaitsForTheWalkerBeforeTheRemap) {
  PoolWorld w("v6.10", kHstate2M);
  const SpeculativeWalk r = speculative_walker_against_hvo(w);
  EXPECT_TRUE(r.released_by_rcu);  // HVO could not remap while the walker was inside rcu_read_lock()
  EXPECT_FALSE(r.got);             // its cmpxchg found the frozen tail's 0
  EXPECT_EQ(w.machine.pages().page_ref_count(r.page), 0);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V610SpeculativeWalkerTest, Bd225530a4c7RevertedTheWalkerWritesAReadOnlyFakeHead) {
  PoolWorld w("v6.10", kHstate2M, PteAccess::kOnce, {"bd225530a4c7"});
  const SpeculativeWalk r = speculative_walker_against_hvo(w);
  EXPECT_FALSE(r.released_by_rcu);  // nothing waited: HVO remapped under the walker
  EXPECT_FALSE(r.got);
  ASSERT_EQ(count(w, ViolationKind::kRoTailWrite), 1u) << first_violation(w);
  const Violation v = *first_of(w, ViolationKind::kRoTailWrite);
  EXPECT_EQ(v.pfn, r.page);
  EXPECT_EQ(v.cpu, CpuId(1));
}

// --- ref-acquire: the load order (the race itself: race catalogue entry ref-acquire, owner-tail-ref) ---

// Records the struct page loads of the hooked task.
class RecordLoads : public ScheduleHook {
 public:
  void point(const SchedulePoint& p) override {
    if (p.event == SchedEvent::kPageLoad) loads.push_back(p.address);
  }
  void blocked(const SchedulePoint&) override {}
  std::vector<uint64_t> loads;
};

std::vector<uint64_t> loads_of_a_speculative_reference_to_a_fake_head(PoolWorld& w, Pfn& fake) {
  w.pool->set_max_huge_pages(1);
  fake = only_folio(w) + 64;
  RecordLoads rec;
  w.task.hook = &rec;
  EXPECT_FALSE(w.model->get_page_unless_zero(fake));
  w.task.hook = nullptr;
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
  return rec.loads;
}

// The fix's load order: the refcount is loaded first, with acquire, and a
// count of 0 stops the walker before the fake-head check. The race the
// order closes (a walker that checked for a fake head before the remap and
// reads the count after the owner took the folio) is the catalogue's
// ref-acquire entry, found by the controlled search.
TEST(V610RefAcquireTest, TheRefcountIsReadFirstWithAcquire) {
  PoolWorld w("v6.10", kHstate2M);
  EXPECT_EQ(v610(w).page_ref().refcount_check_order(), std::memory_order_acquire);
  Pfn fake{0};
  const std::vector<uint64_t> loads = loads_of_a_speculative_reference_to_a_fake_head(w, fake);
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0], (pfn_to_page(fake) + static_cast<uint64_t>(PageWord32::kRefcount)).value());
}

TEST(V610RefAcquireTest, RevertedTheFakeHeadCheckComesFirstAndTheRefcountLoadIsRelaxed) {
  PoolWorld w("v6.10", kHstate2M, PteAccess::kOnce, {"ref-acquire"});
  EXPECT_EQ(v610(w).page_ref().refcount_check_order(), std::memory_order_relaxed);
  Pfn fake{0};
  const std::vector<uint64_t> loads = loads_of_a_speculative_reference_to_a_fake_head(w, fake);
  ASSERT_GE(loads.size(), 2u);
  EXPECT_EQ(loads[0], (pfn_to_page(fake) + static_cast<uint64_t>(PageWord::kFlags)).value());  // PG_head
}

// --- reset-3 ---------------------------------------------------------------------------------------------

TEST(V610ResetStructPagesTest, FourStructPagesAreResetSoRestoredTailsAreOrdinary) {
  PoolWorld w("v6.10", kHstate2M);
  w.pool->set_max_huge_pages(1);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V610ResetStructPagesTest, Reset3RevertedTailsKeepPage3sHugetlbFieldBadPageState) {
  PoolWorld w("v6.10", kHstate2M, PteAccess::kOnce, {"reset-3"});
  w.pool->set_max_huge_pages(1);
  const Pfn head = only_folio(w);
  w.pool->set_max_huge_pages(0);
  ASSERT_EQ(count(w, ViolationKind::kBadPageState), 1u) << first_violation(w);
  const Violation v = *first_of(w, ViolationKind::kBadPageState);
  EXPECT_NE(v.message.find("corrupted mapping in tail page"), std::string::npos) << v.message;
  // The first struct page of the first restored vmemmap page: the reset
  // copied page[3] (the hugetlb fields) over it, and left slot 3 a copy of
  // page[3] too. With 4, both are copies of page[4], an ordinary tail.
  EXPECT_EQ(v.pfn, head + 64);
}

// --- the registry and the reverts without concurrency ---------------------------------------------------

TEST(V610RegistryTest, KnowsTheModelAndItsReverts) {
  const ModelInfo* info = find_model("v6.10");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->reserved_vmemmap_pages, 1u);
  EXPECT_EQ(info->vmemmap_mapping, VmemmapMapping::kPmdLeaves);
  EXPECT_EQ(info->folio_metadata_pages, 4u);
  EXPECT_EQ(check_model_and_reverts("v6.10", {"flush-before-free", "bd225530a4c7", "c2a967f6ab0e", "ref-acquire",
                                              "32c877191e02", "d8f5f7e445f0", "reset-3", "2b21624fc232",
                                              "5596d9e8b553"}),
            "");
  EXPECT_NE(check_model_and_reverts("v6.10", {"fake-head"}), "");
}

// Free mode: one OS thread resizes the pool while another faults surplus
// hugepages and puts them back (no resize_lock): the fixed model stays
// clean, the static key back at 0.
TEST(V610ConcurrentTest, AResizeAndSurplusFaultsAtOnceStayClean) {
  PoolWorld w("v6.10", kHstate2M);
  resize_and_fault_surplus_from_two_threads(w);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_EQ(v610(w).hugetlb_vmemmap().hugetlb_optimize_vmemmap_key().count(), 0);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// --- the tests 6.10 shares with 7.1 (pool_6x_test.cc) ----------------------------------------------

// One grace period per optimize or restore batch; the fixes older than
// 6.7's batched resize: 2b21624fc232 (6.1), d8f5f7e445f0 and 32c877191e02
// (6.5).
const Pool6xModel kV610{"v6.10", 1, {"2b21624fc232", "d8f5f7e445f0", "32c877191e02"}};
INSTANTIATE_TEST_SUITE_P(V610, Pool6xTest, ::testing::Values(kV610), pool_6x_test_name);

// Every revert but reset-3 (whose bug is sequential) and c0f398c3b2cf (demote only).
INSTANTIATE_TEST_SUITE_P(V610, Pool6xRevertTest,
                         ::testing::Combine(::testing::Values(kV610),
                                            ::testing::Values("flush-before-free", "bd225530a4c7", "c2a967f6ab0e",
                                                              "ref-acquire", "32c877191e02", "d8f5f7e445f0",
                                                              "2b21624fc232", "5596d9e8b553")),
                         pool_6x_revert_test_name);

}  // namespace
}  // namespace hvo
