// The 5.18 model's own mechanisms: the on-demand split of the PMD-mapped
// vmemmap, fake heads behind the static key, the reverts, and the two split
// races (d8d55f5616cf, 3ce2c24cb68f) forced deterministically with a
// schedule hook.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "models/v5_18/v5_18_model.h"
#include "tests/models/pool_fixture.h"

namespace hvo {
namespace {

using testing::PoolWorld;

// Memory described by one vmemmap PMD: 2 MiB of struct pages = 32768 pfns.
constexpr uint64_t kPfnsPerVmemmapPmd = kPmdSize / kStructPageSize;

V518Model& v518(PoolWorld& w) { return dynamic_cast<V518Model&>(*w.model); }
uint64_t page_table_frames(PoolWorld& w) { return w.machine.summary().page_table_frames; }
std::string first_violation(PoolWorld& w) {
  const std::vector<Violation> v = w.machine.violations().snapshot();
  return v.empty() ? "" : v.front().to_string();
}
uint64_t broken(PoolWorld& w, Invariant inv) {
  uint64_t n = 0;
  for (const Violation& v : w.machine.violations().snapshot()) n += v.invariant == inv ? 1 : 0;
  return n;
}

// --- the split -----------------------------------------------------------------------

// 5.18 had no batched restore: update_and_free_pages_bulk() was a loop of
// update_and_free_page(), each restore flushing on its own. A shrink of 4
// optimized folios costs four times the TLB flushes of a shrink of 1.
TEST(V518ShrinkTest, AShrinkRestoresFolioByFolioEachWithItsOwnFlushes) {
  PoolWorld w("v5.18", kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(5), 5u);
  uint64_t flushes = w.machine.mmu().flushes();
  ASSERT_EQ(w.pool->set_max_huge_pages(4), 4u);
  const uint64_t one = w.machine.mmu().flushes() - flushes;
  ASSERT_GE(one, 1u);
  flushes = w.machine.mmu().flushes();
  ASSERT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(w.machine.mmu().flushes() - flushes, 4 * one);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 5u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V518SplitTest, FirstOptimizationInARegionSplitsItsPmdOnce) {
  PoolWorld w("v5.18", kHstate2M);
  const uint64_t boot_tables = page_table_frames(w);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn first = w.pool->folios().at(0).head;
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  const SoftWalk walk = w.machine.page_tables().walk(pfn_to_page(first));
  EXPECT_FALSE(walk.pmd_leaf);
  EXPECT_EQ(walk.level, SoftWalk::Level::kPte);
  // A region no folio lives in keeps its leaf.
  const Pfn elsewhere(w.machine.mem().nr_frames() - 1);
  ASSERT_NE(elsewhere.value() / kPfnsPerVmemmapPmd, first.value() / kPfnsPerVmemmapPmd);
  EXPECT_TRUE(w.machine.page_tables().walk(pfn_to_page(elsewhere)).pmd_leaf);

  // A second folio of the same 128 MiB region finds the table: no split.
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
  Pfn second = w.pool->folios().at(0).head == first ? w.pool->folios().at(1).head : w.pool->folios().at(0).head;
  ASSERT_EQ(second.value() / kPfnsPerVmemmapPmd, first.value() / kPfnsPerVmemmapPmd);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  // The split stays; everything else comes back.
  w.pool->set_max_huge_pages(0);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V518SplitTest, AGigantic1GFolioSplitsTheEightPmdsOfItsVmemmap) {
  PoolWorld w("v5.18", kHstate1G);
  const uint64_t boot_tables = page_table_frames(w);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  // 4096 vmemmap pages = 16 MiB of vmemmap = 8 PMDs.
  EXPECT_EQ(page_table_frames(w), boot_tables + 8);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V518SplitTest, ASplitThatCannotAllocateItsTableLeavesTheFolioUnoptimized) {
  PoolWorld w("v5.18", kHstate2M);
  const uint64_t boot_tables = page_table_frames(w);
  // Allocation 1 is the folio's 2 MiB, allocation 2 the split's PTE table.
  w.machine.alloc_failure().fail_nth(2);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = w.pool->folios().at(0).head;
  EXPECT_FALSE(w.model->vmemmap_optimized(head));
  EXPECT_EQ(page_table_frames(w), boot_tables);
  EXPECT_EQ(v518(w).hugetlb_free_vmemmap_enabled_key().count(), 0);
  EXPECT_EQ(w.pool->vmemmap_stats().pages_saved_now, 0u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V518SplitTest, A1GSplitFailingHalfWayWalksBackWhatItRemapped) {
  PoolWorld w("v5.18", kHstate1G);
  const uint64_t boot_tables = page_table_frames(w);
  // Allocation 1 is the folio, 2..9 the eight splits: the fifth split fails
  // after four PMDs' worth of vmemmap was remapped.
  w.machine.alloc_failure().fail_nth(6);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = w.pool->folios().at(0).head;
  EXPECT_FALSE(w.model->vmemmap_optimized(head));
  EXPECT_EQ(page_table_frames(w), boot_tables + 4);
  EXPECT_EQ(v518(w).hugetlb_free_vmemmap_enabled_key().count(), 0);
  EXPECT_TRUE(w.checker->check_vmemmap_shape(head, /*optimized=*/false)) << first_violation(w);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// --- fake heads --------------------------------------------------------------------------

class V518FakeHeadTest : public ::testing::TestWithParam<Hstate> {};

TEST_P(V518FakeHeadTest, AnAlignedTailIsAFakeHeadThatCompoundHeadSeesThrough) {
  PoolWorld w("v5.18", GetParam());
  w.pool->set_max_huge_pages(1);
  const Pfn head = w.pool->folios().at(0).head;
  const Pfn fake = head + kStructPagesPerPage;  // the first struct page of vmemmap page 1
  EXPECT_EQ(v518(w).hugetlb_free_vmemmap_enabled_key().count(), 1);
  // Its struct page is the head's, seen through the read-only alias.
  EXPECT_TRUE(w.machine.pages().test_flag(fake, PG_head));
  EXPECT_FALSE(is_tail_word(w.machine.pages().load(fake, PageWord::kCompoundHead)));
  EXPECT_EQ(w.model->compound_head(fake), head);
  EXPECT_FALSE(w.model->page_head(fake));
  EXPECT_TRUE(v518(w).fake_heads().page_tail(fake));
  EXPECT_TRUE(w.model->page_head(head));
  EXPECT_FALSE(v518(w).fake_heads().page_tail(head));
  // memory_failure() on it poisons the real head and dissolves the folio.
  w.model->memory_failure(*w.pool, fake);
  EXPECT_EQ(w.pool->counters().nr_huge_pages, 0u);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
  // No optimized folio is left: the key is off again.
  EXPECT_EQ(v518(w).hugetlb_free_vmemmap_enabled_key().count(), 0);
}

TEST_P(V518FakeHeadTest, RevertedFakeHeadCheckReportsAnAlignedTailAsAHead) {
  PoolWorld w("v5.18", GetParam(), PteAccess::kOnce, {"fake-head"});
  w.pool->set_max_huge_pages(1);
  const Pfn head = w.pool->folios().at(0).head;
  const Pfn fake = head + kStructPagesPerPage;
  EXPECT_EQ(w.model->compound_head(fake), fake);
  EXPECT_TRUE(w.model->page_head(fake));
  // And what follows from it: memory_failure() poisons the "head" it
  // found, a read-only alias.
  w.model->memory_failure(*w.pool, fake);
  ASSERT_EQ(w.machine.violations().count(ViolationKind::kRoTailWrite), 1u);
  EXPECT_EQ(w.machine.violations().snapshot().at(0).pfn, fake);
}

TEST_P(V518FakeHeadTest, TheCheckerCatchesAnAlignedTailThatDoesNotReadAsTheHead) {
  PoolWorld w("v5.18", GetParam());
  w.pool->set_max_huge_pages(1);
  const Pfn head = w.pool->folios().at(0).head;
  EXPECT_TRUE(w.checker->check_struct_page_contents(head, FolioState::kFree));
  // Behind the model's back: vmemmap page 1 now maps a copy of page 0
  // whose first struct page lost PG_head.
  KernelPageTables& pt = w.machine.page_tables();
  const Pfn copy = *w.machine.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kVmemmap);
  w.machine.mem().copy_page(copy, pt.walk(pfn_to_page(head)).frame);
  w.machine.mem().store<uint64_t>(pfn_to_phys(copy), 0, std::memory_order_relaxed);
  pt.write_entry(pt.walk(pfn_to_page(head) + kPageSize).entry, pfn_pte(copy, kPageKernelRo));
  w.machine.mmu().flush_tlb_all();
  EXPECT_FALSE(w.checker->check_struct_page_contents(head, FolioState::kFree));
  EXPECT_EQ(broken(w, Invariant::kStructPageContents), 1u);
  EXPECT_EQ(w.machine.violations().snapshot().at(0).pfn, head + kStructPagesPerPage);
}

INSTANTIATE_TEST_SUITE_P(Sizes, V518FakeHeadTest, ::testing::Values(kHstate2M, kHstate1G),
                         [](const auto& info) { return std::string(info.param.size_name); });

// --- reverts, sequentially ----------------------------------------------------------------

class V518RevertTest : public ::testing::TestWithParam<std::string> {};

TEST_P(V518RevertTest, IsConstructibleAndCleanWithoutConcurrency) {
  PoolWorld w("v5.18", kHstate2M, PteAccess::kOnce, {GetParam()});
  EXPECT_TRUE(w.model->reverted(GetParam()));
  ASSERT_EQ(w.pool->set_max_huge_pages(8), 8u);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

INSTANTIATE_TEST_SUITE_P(Reverts, V518RevertTest,
                         ::testing::Values("d8d55f5616cf", "unlocked-split", "3ce2c24cb68f", "fake-head",
                                           "restore-wmb"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

TEST(V518RegistryTest, KnowsTheModelAndItsReverts) {
  const ModelInfo* info = find_model("v5.18");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->reserved_vmemmap_pages, 1u);
  EXPECT_EQ(info->vmemmap_mapping, VmemmapMapping::kPmdLeaves);
  EXPECT_EQ(check_model_and_reverts("v5.18", {"d8d55f5616cf", "unlocked-split", "3ce2c24cb68f", "fake-head",
                                              "restore-wmb"}),
            "");
  EXPECT_NE(check_model_and_reverts("v5.18", {"raw-hwpoison"}), "");
}

// --- the split races, forced -------------------------------------------------------------

// Runs `action` once, at the first schedule point the hooked task makes
// inside split_vmemmap_huge_pmd() (of `event`, when one is given).
class InjectInSplit : public ScheduleHook {
 public:
  InjectInSplit(std::optional<SchedEvent> event, std::function<void()> action)
      : event_(event), action_(std::move(action)) {}
  void point(const SchedulePoint& p) override {
    if (fired_ || current().operation != "split_vmemmap_huge_pmd") return;
    if (event_ && p.event != *event_) return;
    fired_ = true;
    action_();
  }
  void blocked(const SchedulePoint&) override {}
  [[nodiscard]] bool fired() const { return fired_; }

 private:
  std::optional<SchedEvent> event_;
  std::function<void()> action_;
  bool fired_ = false;
};

struct Race {
  Pfn first{0};   // the folio of the interrupted split (CPU 0)
  Pfn second{0};  // the folio of the split run inside it (CPU 1)
  bool fired = false;
};

// CPU 0 grows the pool by one folio, the first of its 128 MiB region, so
// its HVO splits the region's PMD. At the injection point inside that
// split, CPU 1 faults a hugepage with none free, so
// alloc_surplus_hugetlb_folio() (no resize_lock) makes one of the same
// region: a whole second split, remap and free of the same PMD, run to
// completion. CPU 1 keeps its folio (in use, surplus).
Race race_two_splits(PoolWorld& w, std::optional<SchedEvent> event) {
  Race r;
  InjectInSplit hook(event, [&] {
    Task other(CpuId(1));
    TaskScope scope(other);
    r.second = w.pool->alloc_hugetlb_folio().value();
  });
  w.pool->set_nr_overcommit_huge_pages(1);
  w.task.hook = &hook;
  const uint64_t nr = w.pool->set_max_huge_pages(1);
  w.task.hook = nullptr;
  r.fired = hook.fired();
  EXPECT_EQ(nr, 2u);
  for (const FolioSnapshot& f : w.pool->folios())
    if (f.head != r.second) r.first = f.head;
  EXPECT_EQ(r.first.value() / kPfnsPerVmemmapPmd, r.second.value() / kPfnsPerVmemmapPmd) << "not one region";
  return r;
}

class V518SplitRaceTest : public ::testing::TestWithParam<PteAccess> {};

// d8d55f5616cf: CPU 1 splits while CPU 0 fills its own table.
constexpr SchedEvent kWhileFilling = SchedEvent::kPteStore;

TEST_P(V518SplitRaceTest, D8d55f5616cfSecondSplitterFreesItsTableUnderThePageTableLock) {
  PoolWorld w("v5.18", kHstate2M, GetParam());
  const uint64_t boot_tables = page_table_frames(w);
  const Race r = race_two_splits(w, kWhileFilling);
  ASSERT_TRUE(r.fired);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);  // CPU 0 found the PMD split and freed its table
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.model->put_page(*w.pool, r.second);  // CPU 1's owner: free_huge_folio() restores and frees it
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// d8d55f5616cf reverted is 5.15-5.16's code: vmemmap_remap_free() holds
// mmap_write_lock(&init_mm) through the split, so another walk cannot even
// start (CPU 1's down_read_trylock() fails), where the fixed model's read
// lock lets it in and the page-table lock keeps the two splits apart.
TEST_P(V518SplitRaceTest, D8d55f5616cfRevertedTheSplitHoldsInitMmsMmapLockForWrite) {
  for (const bool reverted : {false, true}) {
    PoolWorld w("v5.18", kHstate2M, GetParam(),
                reverted ? std::set<std::string>{"d8d55f5616cf"} : std::set<std::string>{});
    const uint64_t boot_tables = page_table_frames(w);
    RwSemaphore& mmap_lock = w.machine.page_tables().init_mm().mmap_lock;
    std::optional<bool> another_walk_enters;
    InjectInSplit hook(kWhileFilling, [&] {
      Task other(CpuId(1));
      TaskScope scope(other);
      const bool got = mmap_lock.down_read_trylock();
      if (got) mmap_lock.up_read();
      another_walk_enters = got;
    });
    w.task.hook = &hook;
    EXPECT_EQ(w.pool->set_max_huge_pages(1), 1u);
    w.task.hook = nullptr;
    ASSERT_TRUE(another_walk_enters.has_value()) << "reverted " << reverted;
    EXPECT_EQ(*another_walk_enters, !reverted);
    EXPECT_EQ(page_table_frames(w), boot_tables + 1);
    EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
    w.pool->set_max_huge_pages(0);
    EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
    EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
  }
}

// unlocked-split (synthetic): the read lock of 5.17 with 5.16's lock-free
// split. Was d8d55f5616cf's revert before issue 14.
TEST_P(V518SplitRaceTest, UnlockedSplitRevertedBothInstallOneTableLeaksAndARemapIsLost) {
  PoolWorld w("v5.18", kHstate2M, GetParam(), {"unlocked-split"});
  const uint64_t boot_tables = page_table_frames(w);
  const Race r = race_two_splits(w, kWhileFilling);
  ASSERT_TRUE(r.fired);
  EXPECT_EQ(page_table_frames(w), boot_tables + 2);  // both tables allocated, neither freed
  // CPU 1's table, with its remap, was overwritten by CPU 0's: it is
  // unreachable, and the second folio's vmemmap maps the frames CPU 1 freed.
  EXPECT_FALSE(w.checker->check_frame_conservation());
  EXPECT_GE(broken(w, Invariant::kFrameConservation), 2u);
  EXPECT_TRUE(w.model->vmemmap_optimized(r.second));
  EXPECT_FALSE(w.checker->check_vmemmap_shape(r.second, /*optimized=*/true));
}

// 3ce2c24cb68f: CPU 1 splits just before CPU 0 reads pmd_page(*pmd).
constexpr std::optional<SchedEvent> kFirstPointOfTheSplit = std::nullopt;

TEST_P(V518SplitRaceTest, Ce2c24cb68fSplitterReadsTheBlockUnderTheLockAndFindsItSplit) {
  PoolWorld w("v5.18", kHstate2M, GetParam());
  const uint64_t boot_tables = page_table_frames(w);
  const Race r = race_two_splits(w, kFirstPointOfTheSplit);
  ASSERT_TRUE(r.fired);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.model->put_page(*w.pool, r.second);  // CPU 1's owner: free_huge_folio() restores and frees it
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// 3ce2c24cb68f reverted is 5.17-6.4's split_vmemmap_huge_pmd(): the leaf
// test in its own init_mm.page_table_lock section before the split, the
// block read after the lock is dropped. Before issue 14 the revert tested
// the leaf with no lock at all (5.16's vmemmap_pmd_range(), a release that
// had no page-table lock to take).
TEST_P(V518SplitRaceTest, Ce2c24cb68fRevertedTheLeafTestIsUnderThePageTableLock) {
  for (const bool reverted : {false, true}) {
    PoolWorld w("v5.18", kHstate2M, GetParam(),
                reverted ? std::set<std::string>{"3ce2c24cb68f"} : std::set<std::string>{});
    const uint64_t ptl = w.machine.page_tables().init_mm().page_table_lock.sched_address();
    struct CountLeafTests : ScheduleHook {
      uint64_t ptl = 0;
      unsigned before_the_split = 0;
      void point(const SchedulePoint& p) override {
        if (p.event == SchedEvent::kLockAcquire && p.address == ptl && current().operation == "vmemmap_remap_free")
          ++before_the_split;
      }
      void blocked(const SchedulePoint&) override {}
    } hook;
    hook.ptl = ptl;
    w.task.hook = &hook;
    EXPECT_EQ(w.pool->set_max_huge_pages(1), 1u);
    w.task.hook = nullptr;
    // Fixed: the test and the read are one section inside the split.
    EXPECT_EQ(hook.before_the_split, reverted ? 1u : 0u);
    EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
  }
}

TEST_P(V518SplitRaceTest, Ce2c24cb68fRevertedSplitterMapsThePageTablePageAsTheBlock) {
  PoolWorld w("v5.18", kHstate2M, GetParam(), {"3ce2c24cb68f"});
  const Race r = race_two_splits(w, kFirstPointOfTheSplit);
  ASSERT_TRUE(r.fired);
  ASSERT_GE(broken(w, Invariant::kVmemmapShape), 1u) << first_violation(w);
  const Violation v = w.machine.violations().snapshot().at(0);
  EXPECT_EQ(v.invariant, Invariant::kVmemmapShape);
  ASSERT_TRUE(v.frame.has_value());
  // The frame it mapped is the table CPU 1 installed, the one the PMD
  // points to now (the frame holding the PTEs of the region).
  const SoftWalk walk = w.machine.page_tables().walk(pfn_to_page(r.first));
  ASSERT_EQ(walk.level, SoftWalk::Level::kPte);
  EXPECT_EQ(*v.frame, walk.entry.pfn());
  EXPECT_EQ(w.machine.mem().state(*v.frame), FrameState::kPageTable);
}

// Free mode: CPU 1 grows the pool while CPU 2 faults surplus hugepages and
// puts them back (alloc_surplus_hugetlb_folio(), free_huge_folio(): no
// resize_lock), so their first HVOs split the same PMD concurrently, for
// real, and restores run beside HVOs. Whatever the interleaving, the fixed
// model ends with one table and nothing broken; under TSan the
// READ_ONCE/WRITE_ONCE walk and the locks are checked too.
TEST(V518ConcurrentTest, AResizeAndSurplusFaultsAtOnceStayClean) {
  PoolWorld w("v5.18", kHstate2M, PteAccess::kOnce);
  const uint64_t boot_tables = page_table_frames(w);
  w.pool->set_nr_overcommit_huge_pages(8);
  std::thread a([&] { resize_on_cpu(w, 1, {16}); });
  std::thread b([&] { fault_surplus_on_cpu(w, 2, 8); });
  a.join();
  b.join();
  // Every surplus folio was freed by its owner's put; the resize made
  // (or turned surplus into) 16 persistent ones.
  const PoolCounters c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 16u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  EXPECT_EQ(v518(w).hugetlb_free_vmemmap_enabled_key().count(), 16);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

INSTANTIATE_TEST_SUITE_P(Policies, V518SplitRaceTest, ::testing::Values(PteAccess::kOnce, PteAccess::kPlain),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// --- 32c877191e02: the hugetlb mark at removal ------------------------------------------------

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

TEST(V518MarkTest, C32c877191e02TheMarkIsClearedOnlyAfterTheRestore) {
  PoolWorld w("v5.18", kHstate2M);
  (void)memory_failure_as_the_restore_starts(w);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// As shipped (the v17 posting, 5.14-6.4): the mark is cleared under
// hugetlb_lock at removal, so memory_failure() takes the tail, still
// read-only, for an ordinary page and sets PG_hwpoison on it.
TEST(V518MarkTest, C32c877191e02RevertedMemoryFailureWritesAReadOnlyTail) {
  PoolWorld w("v5.18", kHstate2M, PteAccess::kOnce, {"32c877191e02"});
  const Pfn head = memory_failure_as_the_restore_starts(w);
  ASSERT_EQ(w.machine.violations().count(ViolationKind::kRoTailWrite), 1u) << first_violation(w);
  const std::vector<Violation> v = w.machine.violations().snapshot();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front().kind, ViolationKind::kRoTailWrite);
  EXPECT_EQ(v.front().pfn, head + kReadOnlyTail);
}

}  // namespace
}  // namespace hvo
