// The 7.1 model's own mechanisms and each of its reverts: the tails of every
// folio of one order mapped read-only onto the zone's one shared tail page,
// the head onto a private writable copy, the mask-encoded compound_info, the
// lockless install of the shared page (forced, and raced under the
// controlled scheduler), restore by copies of a valid tail, the savings, and
// for each revert knob of 7.1 alone a deterministic scenario that shows the
// bug on the reverted model and passes on the fixed one. What 7.1 shares
// with 6.10 (the pool's batched resize, frozen folios, flush-before-free,
// the hugetlb mark, every revert clean alone) is pool_6x_test.cc,
// instantiated here. Interleavings are forced with schedule hooks (nested
// tasks on another CPU) as in pool_v6_10_test.cc.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/hugetlb/compound_page.h"
#include "engine/pte.h"
#include "engine/sched/scenario.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "models/v7_1/v7_1_model.h"
#include "models/v7_1/vmemmap_tails.h"
#include "tests/models/pool_6x_scenarios.h"
#include "tests/models/pool_fixture.h"
#include "tests/models/pool_interleaving.h"

namespace hvo {
namespace {

// The pool fixture, its forced interleavings and the scenarios 6.10 and
// 7.1 share (pool_fixture.h, pool_interleaving.h, pool_6x_scenarios.h).
using namespace testing;

// Memory described by one vmemmap PMD: 2 MiB of struct pages = 32768 pfns.
constexpr uint64_t kPfnsPerVmemmapPmd = kPmdSize / kStructPageSize;

V71Model& v71(PoolWorld& w) { return dynamic_cast<V71Model&>(*w.model); }
uint64_t broken(PoolWorld& w, Invariant inv) {
  uint64_t n = 0;
  for (const Violation& v : w.machine.violations().snapshot()) n += v.invariant == inv ? 1 : 0;
  return n;
}
uint64_t page_table_frames(PoolWorld& w) { return w.machine.summary().page_table_frames; }
SoftWalk vmemmap_page(PoolWorld& w, Pfn head, uint64_t i) {
  return w.machine.page_tables().walk(pfn_to_page(head) + i * kPageSize);
}
// The install of a shared tail page: the cmpxchg() (or WRITE_ONCE()) on
// zone->vmemmap_tails[], the only kAtomic point of vmemmap_get_tail() that
// carries a value.
bool at_tail_install(const SchedulePoint& p) {
  return p.event == SchedEvent::kAtomic && p.value != 0 && current().operation == "vmemmap_get_tail";
}

// --- the shape: a private head page, the zone's shared tail page, the savings -------------------

class V71SharedTailTest : public ::testing::TestWithParam<Hstate> {};

TEST_P(V71SharedTailTest, TailsOfEveryFolioMapTheZonesOneTailPageReadOnlyTheHeadAPrivateCopy) {
  PoolWorld w("v7.1", GetParam());
  const Hstate& h = GetParam();
  const uint64_t boot_vmemmap = w.machine.summary().vmemmap_frames;
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u) << first_violation(w);
  const std::optional<Pfn> tail_page = w.model->shared_tail_page(h);
  ASSERT_TRUE(tail_page.has_value());
  EXPECT_EQ(w.machine.mem().state(*tail_page), FrameState::kVmemmap);
  EXPECT_EQ(w.model->shared_vmemmap_frames(), std::vector<Pfn>{*tail_page});
  std::set<uint64_t> head_frames;
  for (const FolioSnapshot& f : w.pool->folios()) {
    ASSERT_TRUE(w.model->vmemmap_optimized(f.head));
    const SoftWalk page0 = vmemmap_page(w, f.head, 0);
    EXPECT_TRUE(page0.writable);
    EXPECT_NE(page0.frame, *tail_page);
    head_frames.insert(page0.frame.value());
    for (uint64_t i = 1; i < h.vmemmap_pages(); ++i) {
      const SoftWalk wi = vmemmap_page(w, f.head, i);
      ASSERT_EQ(wi.frame, *tail_page) << "vmemmap page " << i;
      ASSERT_FALSE(wi.writable) << "vmemmap page " << i;
    }
  }
  EXPECT_EQ(head_frames.size(), 2u) << "each head has a page of its own";

  // The kernel's savings, per folio: 7 of 8, 4095 of 4096. The one shared
  // page is the zone's, not any folio's.
  const uint64_t saved = h.gigantic() ? 4095 : 7;
  EXPECT_EQ(w.model->vmemmap_pages_freed_per_folio(h), saved);
  EXPECT_EQ(kernel_savings_per_folio("v7.1", h), saved);
  EXPECT_EQ(w.pool->vmemmap_stats().pages_saved_now, 2 * saved);
  EXPECT_EQ(w.machine.summary().vmemmap_frames, boot_vmemmap - 2 * saved + 1);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  // Restored and freed, everything comes back but the zone's tail page,
  // which stays for the zone's lifetime, unmapped.
  w.pool->set_max_huge_pages(0);
  EXPECT_EQ(w.machine.summary().vmemmap_frames, boot_vmemmap + 1);
  EXPECT_EQ(w.model->shared_tail_page(h), tail_page);
  EXPECT_EQ(w.machine.mem().state(*tail_page), FrameState::kVmemmap);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(V71SharedTailTest, EveryTailOfAnOrderHoldsTheSameMaskAndCompoundHeadFindsItsOwnHead) {
  PoolWorld w("v7.1", GetParam());
  const Hstate& h = GetParam();
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
  StructPageAccess& pages = w.machine.pages();
  const uint64_t mask = compound_info_mask(h.order);
  EXPECT_TRUE(is_compound_info_mask(mask));
  EXPECT_FALSE(is_compound_info_mask(compound_head_value(Pfn(0x200))));
  for (const FolioSnapshot& f : w.pool->folios()) {
    EXPECT_TRUE(w.model->page_head(f.head));
    EXPECT_EQ(w.model->compound_head(f.head), f.head);
    for (uint64_t i : {uint64_t{1}, uint64_t{4}, uint64_t{63}, uint64_t{64}, uint64_t{65}, uint64_t{128},
                       h.nr_pages() / 2, h.nr_pages() - 1}) {
      const Pfn tail = f.head + i;
      // Read through the tail's own vmemmap address: from 64 on, the shared page.
      ASSERT_EQ(pages.load(tail, PageWord::kCompoundHead), mask) << "tail " << i;
      ASSERT_EQ(w.model->compound_head(tail), f.head) << "tail " << i;
      ASSERT_FALSE(w.model->page_head(tail)) << "tail " << i;  // no fake heads: 64, 128 are plain tails
      ASSERT_TRUE(w.model->page_huge(tail)) << "tail " << i;
    }
  }
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(V71SharedTailTest, TheCheckerCatchesATailThatDoesNotHoldTheMask) {
  PoolWorld w("v7.1", GetParam());
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = only_folio(w);
  // A 6.x pointer in one tail of the private head page: compound_head()
  // still finds the head, but the tail is not what 7.1 writes.
  ASSERT_TRUE(w.machine.pages().store(head + 10, PageWord::kCompoundHead, compound_head_value(head)));
  EXPECT_FALSE(w.checker->check_struct_page_contents(head, FolioState::kFree));
  EXPECT_EQ(broken(w, Invariant::kStructPageContents), 1u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, V71SharedTailTest, ::testing::Values(kHstate2M, kHstate1G),
                         [](const auto& info) { return std::string(info.param.size_name); });

// --- the lockless install of the shared tail page ------------------------------------------------

// CPU 0 grows the pool by one folio (the zone's first of its order); at its
// install of the shared tail page, CPU 1 faults a hugepage with none free,
// so alloc_surplus_hugetlb_folio() makes one (no resize_lock): a whole HVO
// that installs first. CPU 1 keeps its folio (in use, surplus).
struct InstallRace {
  Pfn first{0};      // CPU 0's folio
  Pfn second{0};     // CPU 1's folio
  Pfn first_page{0};  // the tail page CPU 0 filled and tried to install
};
InstallRace race_two_installs(PoolWorld& w) {
  InstallRace r;
  Script script({{at_tail_install, [&](const SchedulePoint& p) {
                    r.first_page = page_to_pfn(VmemmapAddr(p.value));
                    on_cpu(1, [&] { r.second = w.pool->alloc_hugetlb_folio().value(); });
                  }}});
  w.pool->set_nr_overcommit_huge_pages(1);
  w.task.hook = &script;
  EXPECT_EQ(w.pool->set_max_huge_pages(1), 2u);
  w.task.hook = nullptr;
  EXPECT_TRUE(script.done()) << "the forced interleaving did not happen";
  for (const FolioSnapshot& f : w.pool->folios())
    if (f.head != r.second) r.first = f.head;
  return r;
}

TEST(V71SharedTailInstallTest, TheLoserOfTheCmpxchgFreesItsPageAndUsesTheWinners) {
  PoolWorld w("v7.1", kHstate2M);
  const uint64_t boot_free = w.machine.buddy().counters().free_pages;
  const uint64_t boot_tables = page_table_frames(w);
  const InstallRace r = race_two_installs(w);
  const std::optional<Pfn> tail_page = w.model->shared_tail_page(kHstate2M);
  ASSERT_TRUE(tail_page.has_value());
  EXPECT_NE(*tail_page, r.first_page) << "CPU 1 installed first";
  // CPU 0 lost: its page went back to buddy, and both folios map the one
  // page CPU 1 installed.
  // (buddy hands the freed frame straight back: it is CPU 0's new head page
  // now, or free.)
  EXPECT_TRUE(w.machine.mem().state(r.first_page) == FrameState::kFree ||
              vmemmap_page(w, r.first, 0).frame == r.first_page);
  EXPECT_EQ(vmemmap_page(w, r.first, 1).frame, *tail_page);
  EXPECT_EQ(vmemmap_page(w, r.second, 1).frame, *tail_page);
  EXPECT_EQ(w.model->shared_vmemmap_frames(), std::vector<Pfn>{*tail_page});
  // Frames conserved: two folios, the PMD's new table, two head pages and
  // one tail page taken from buddy; the 2 x 8 boot vmemmap frames given to it.
  const uint64_t taken = 2 * kHstate2M.nr_pages() + (page_table_frames(w) - boot_tables) + 2 + 1;
  EXPECT_EQ(w.machine.buddy().counters().free_pages, boot_free - taken + 2 * 8);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.model->put_page(*w.pool, r.second);  // CPU 1's owner: free_huge_folio() restores and frees it
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST(V71SharedTailInstallTest, TailCmpxchgRevertedBothInstallAFolioMapsAnOrphanPageThatLeaks) {
  PoolWorld w("v7.1", kHstate2M, PteAccess::kOnce, {"tail-cmpxchg"});
  const InstallRace r = race_two_installs(w);
  const std::optional<Pfn> tail_page = w.model->shared_tail_page(kHstate2M);
  ASSERT_TRUE(tail_page.has_value());
  // CPU 0's WRITE_ONCE() came last: the zone knows CPU 0's page, while CPU
  // 1's folio maps the page CPU 1 installed first, an orphan now.
  EXPECT_EQ(*tail_page, r.first_page);
  const Pfn orphan = vmemmap_page(w, r.second, 1).frame;
  EXPECT_NE(orphan, *tail_page);
  EXPECT_EQ(w.machine.mem().state(orphan), FrameState::kVmemmap);
  EXPECT_FALSE(w.checker->check_vmemmap_shape(r.second, /*optimized=*/true));
  EXPECT_EQ(broken(w, Invariant::kVmemmapShape), 1u);
  // Its restore (its owner's put: free_huge_folio() of a surplus folio)
  // finds its tails mapping a page that is not the zone's.
  w.machine.violations().clear();
  w.model->put_page(*w.pool, r.second);
  w.pool->set_max_huge_pages(0);
  EXPECT_GE(count(w, ViolationKind::kBugOn), 1u) << first_violation(w);
}

// The same race under the controlled scheduler: two CPUs look the zone's
// empty slot up at once, every interleaving the strategy picks.
struct TailsWorld {
  explicit TailsWorld(bool cmpxchg) : machine(config()), tails(machine, cmpxchg, planted) {
    boot_free = machine.buddy().counters().free_pages;
  }
  static MachineConfig config() {
    MachineConfig c;
    c.memory_bytes = MachineConfig::kMinMemory;
    c.nr_cpus = 2;
    return c;
  }
  Machine machine;
  PlantedBugs planted;  // none
  v7_1::VmemmapTails tails;
  uint64_t boot_free = 0;
  std::optional<Pfn> got[2];
};

sched::Scenario install_race(bool cmpxchg) {
  return sched::Scenario{
      .name = cmpxchg ? "vmemmap_get_tail" : "vmemmap_get_tail (tail-cmpxchg reverted)",
      .setup =
          [cmpxchg](sched::Execution& e) {
            auto& s = e.make<TailsWorld>(cmpxchg);
            for (int cpu = 0; cpu < 2; ++cpu) e.cpu([&s, cpu] { s.got[cpu] = s.tails.vmemmap_get_tail(Order(9)); });
            e.check([&s] {
              // Exactly one page survives, both CPUs use it, and the loser's
              // went back: one frame fewer in buddy, whoever won.
              const std::optional<Pfn> installed = s.tails.peek(Order(9));
              const bool one = installed && s.got[0] == installed && s.got[1] == installed &&
                               s.tails.installed().size() == 1 &&
                               s.machine.buddy().counters().free_pages + 1 == s.boot_free;
              return one ? sched::Verdict::kPass : sched::Verdict::kViolation;
            });
          },
      .expected = cmpxchg ? sched::Verdict::kPass : sched::Verdict::kViolation,
  };
}

TEST(V71SharedTailInstallTest, UnderTheControlledSchedulerExactlyOnePageSurvivesEveryInterleaving) {
  for (sched::StrategyKind k : {sched::StrategyKind::kRandom, sched::StrategyKind::kPct}) {
    const sched::Report r = sched::explore(install_race(true), {.strategy = k, .executions = 500});
    EXPECT_TRUE(r.as_expected()) << (r.first_failure ? r.first_failure->message : "");
    EXPECT_EQ(r.count(sched::Verdict::kPass), 500u);
  }
  // Exhaustively, within two preemptions.
  const sched::Report b = sched::explore(install_race(true), {.strategy = sched::StrategyKind::kBounded, .executions = 0});
  EXPECT_TRUE(b.as_expected());
  EXPECT_TRUE(b.exhausted);
}

TEST(V71SharedTailInstallTest, TailCmpxchgRevertedTheControlledSchedulerFindsTwoInstalls) {
  const sched::Report r = sched::explore(install_race(false), {.strategy = sched::StrategyKind::kRandom, .executions = 500});
  EXPECT_TRUE(r.as_expected());
  EXPECT_GE(r.count(sched::Verdict::kViolation), 1u);
  ASSERT_TRUE(r.first_failure.has_value());
  // The failing schedule replays to the same failure.
  const sched::ExecutionResult again = sched::replay(install_race(false), r.first_failure->decisions);
  EXPECT_EQ(again.verdict, sched::Verdict::kViolation);
  EXPECT_EQ(again.trace_hash, r.first_failure->trace_hash);
}

// --- restore: copies of a valid tail, smp_wmb(), set_pte_at() ----------------------------------------

TEST(V71RestoreTest, RestoredPagesAreDistinctWritableCopiesOfAValidTail) {
  PoolWorld w("v7.1", kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = only_folio(w);
  const Pfn tail_page = *w.model->shared_tail_page(kHstate2M);
  // An owner's legal write to page[1] (the head's private page): the restore
  // must not lose it, nor copy it into the tails.
  ASSERT_TRUE(w.machine.pages().store(head + 1, PageWord::kPrivate, 0x5a));
  ASSERT_TRUE(v71(w).hugetlb_vmemmap().hugetlb_vmemmap_restore_folio(kHstate2M, head));
  EXPECT_FALSE(w.model->vmemmap_optimized(head));
  EXPECT_TRUE(w.checker->check_vmemmap_shape(head, /*optimized=*/false)) << first_violation(w);
  for (uint64_t i = 1; i < kHstate2M.vmemmap_pages(); ++i) EXPECT_NE(vmemmap_page(w, head, i).frame, tail_page);
  StructPageAccess& pages = w.machine.pages();
  EXPECT_EQ(pages.load(head + 1, PageWord::kPrivate), 0x5au);
  for (uint64_t i = 64; i < kHstate2M.nr_pages(); ++i) {
    ASSERT_EQ(pages.load(head + i, PageWord::kCompoundHead), compound_info_mask(kHstate2M.order)) << i;
    ASSERT_EQ(pages.load(head + i, PageWord::kMapping), kTailMapping) << i;
    ASSERT_EQ(pages.page_ref_count(head + i), 0) << i;
    ASSERT_EQ(pages.flags(head + i), 0u) << i;
  }
  // Writable again: a write to a tail reaches its own page, not the others.
  ASSERT_TRUE(pages.store(head + 100, PageWord::kIndex, 7));
  EXPECT_EQ(pages.load(head + 164, PageWord::kIndex), 0u);
  ASSERT_TRUE(pages.store(head + 100, PageWord::kIndex, 0));
  // The shared tail page is untouched and still the zone's.
  EXPECT_EQ(w.model->shared_tail_page(kHstate2M), tail_page);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// Records the stores to memory and the fences a restore makes, in order.
class RecordStoresAndFences : public MemoryHook {
 public:
  struct Event {
    bool fence;
    uint64_t address;
  };
  MemoryResult on_access(const sched::MemoryAccess& a, void*) override {
    if (a.kind == sched::AccessKind::kStore || a.kind == sched::AccessKind::kPlainStore)
      events.push_back({false, a.address});
    return {};
  }
  void on_acquire(const void*) override {}
  void on_release(const void*) override {}
  void on_fence(std::memory_order mo) override {
    if (mo == std::memory_order_release || mo == std::memory_order_seq_cst) events.push_back({true, 0});
  }
  std::vector<Event> events;
};

// What comes right before the restore's set_pte_at() of vmemmap page 1: a
// fence, or the last store of the page's contents.
RecordStoresAndFences::Event before_the_restored_pte(PoolWorld& w) {
  EXPECT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = only_folio(w);
  const uint64_t pte = vmemmap_page(w, head, 1).entry.value();
  RecordStoresAndFences rec;
  detail::memory_hook = &rec;
  const bool ok = v71(w).hugetlb_vmemmap().hugetlb_vmemmap_restore_folio(kHstate2M, head);
  detail::memory_hook = nullptr;
  EXPECT_TRUE(ok);
  const Pfn restored = vmemmap_page(w, head, 1).frame;
  for (size_t i = 1; i < rec.events.size(); ++i) {
    if (rec.events[i].fence || rec.events[i].address != pte) continue;
    // The contents were stored before (through the direct map).
    bool filled = false;
    for (size_t j = 0; j < i; ++j)
      filled = filled || (!rec.events[j].fence && rec.events[j].address >> kPageShift == restored.value());
    EXPECT_TRUE(filled) << "the page was not filled before its PTE was set";
    return rec.events[i - 1];
  }
  ADD_FAILURE() << "no store to the PTE of vmemmap page 1";
  return {false, 0};
}

TEST(V71RestoreTest, ASmpWmbOrdersTheCopiesBeforeTheRestoredPte) {
  PoolWorld w("v7.1", kHstate2M);
  EXPECT_TRUE(before_the_restored_pte(w).fence);
}

TEST(V71RestoreTest, RestoreWmbRevertedNoFenceBeforeTheRestoredPte) {
  PoolWorld w("v7.1", kHstate2M, PteAccess::kOnce, {"restore-wmb"});
  const RecordStoresAndFences::Event e = before_the_restored_pte(w);
  EXPECT_FALSE(e.fence);
  EXPECT_NE(e.address, 0u);  // the last copy's store
}

// --- the split races, forced: d8d55f5616cf and 3ce2c24cb68f ------------------------------------------------

// CPU 0 grows the pool by one folio, the first of its 128 MiB region, so its
// HVO splits the region's PMD; at the injection point inside that split
// (the first point of `event`, or the first point at all), CPU 1 faults a
// surplus hugepage of the same region (alloc_surplus_hugetlb_folio(), no
// resize_lock): a whole second split and remap. CPU 1 keeps its folio.
struct SplitRace {
  Pfn first{0};
  Pfn second{0};
};
SplitRace race_two_splits(PoolWorld& w, std::optional<SchedEvent> event) {
  SplitRace r;
  Script script({{[event](const SchedulePoint& p) {
                    return current().operation == "vmemmap_split_pmd" && (!event || p.event == *event);
                  },
                  [&](const SchedulePoint&) { on_cpu(1, [&] { r.second = w.pool->alloc_hugetlb_folio().value(); }); }}});
  w.pool->set_nr_overcommit_huge_pages(1);
  w.task.hook = &script;
  EXPECT_EQ(w.pool->set_max_huge_pages(1), 2u);
  w.task.hook = nullptr;
  EXPECT_TRUE(script.done()) << "the forced interleaving did not happen";
  for (const FolioSnapshot& f : w.pool->folios())
    if (f.head != r.second) r.first = f.head;
  EXPECT_EQ(r.first.value() / kPfnsPerVmemmapPmd, r.second.value() / kPfnsPerVmemmapPmd) << "not one region";
  return r;
}

constexpr SchedEvent kWhileFilling = SchedEvent::kPteStore;
constexpr std::optional<SchedEvent> kFirstPointOfTheSplit = std::nullopt;

class V71SplitRaceTest : public ::testing::TestWithParam<PteAccess> {};

TEST_P(V71SplitRaceTest, D8d55f5616cfSecondSplitterFreesItsTableUnderThePageTableLock) {
  PoolWorld w("v7.1", kHstate2M, GetParam());
  const uint64_t boot_tables = page_table_frames(w);
  const SplitRace r = race_two_splits(w, kWhileFilling);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.model->put_page(*w.pool, r.second);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// unlocked-split (synthetic; d8d55f5616cf's revert before issue 14).
TEST_P(V71SplitRaceTest, UnlockedSplitRevertedBothInstallOneTableLeaks) {
  PoolWorld w("v7.1", kHstate2M, GetParam(), {"unlocked-split"});
  const uint64_t boot_tables = page_table_frames(w);
  const SplitRace r = race_two_splits(w, kWhileFilling);
  EXPECT_EQ(page_table_frames(w), boot_tables + 2);  // both tables installed, one after the other
  // CPU 1's table, with its remap, was overwritten by CPU 0's.
  EXPECT_FALSE(w.checker->check_frame_conservation());
  EXPECT_GE(broken(w, Invariant::kFrameConservation), 1u);
  // CPU 1's folio was optimized through the lost table: its vmemmap maps
  // its old frames again (writable), which CPU 1 freed.
  EXPECT_FALSE(w.checker->check_vmemmap_shape(r.second, /*optimized=*/true));
  EXPECT_EQ(w.machine.mem().state(vmemmap_page(w, r.second, 1).frame), FrameState::kFree);
}

TEST_P(V71SplitRaceTest, Ce2c24cb68fSplitterReadsTheBlockUnderTheLockAndFindsItSplit) {
  PoolWorld w("v7.1", kHstate2M, GetParam());
  const uint64_t boot_tables = page_table_frames(w);
  const SplitRace r = race_two_splits(w, kFirstPointOfTheSplit);
  EXPECT_EQ(page_table_frames(w), boot_tables + 1);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  w.model->put_page(*w.pool, r.second);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

TEST_P(V71SplitRaceTest, Ce2c24cb68fRevertedSplitterMapsThePageTablePageAsTheBlock) {
  PoolWorld w("v7.1", kHstate2M, GetParam(), {"3ce2c24cb68f"});
  const SplitRace r = race_two_splits(w, kFirstPointOfTheSplit);
  ASSERT_GE(broken(w, Invariant::kVmemmapShape), 1u) << first_violation(w);
  const Violation v = w.machine.violations().snapshot().at(0);
  EXPECT_EQ(v.invariant, Invariant::kVmemmapShape);
  ASSERT_TRUE(v.frame.has_value());
  // The "block" it mapped is the table CPU 1 installed.
  const SoftWalk walk = w.machine.page_tables().walk(pfn_to_page(r.first));
  ASSERT_EQ(walk.level, SoftWalk::Level::kPte);
  EXPECT_EQ(*v.frame, walk.entry.pfn());
  EXPECT_EQ(w.machine.mem().state(*v.frame), FrameState::kPageTable);
}

INSTANTIATE_TEST_SUITE_P(Policies, V71SplitRaceTest, ::testing::Values(PteAccess::kOnce, PteAccess::kPlain),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// --- the registry and the reverts without concurrency ---------------------------------------------------

const std::vector<std::string> kReverts = {"d8d55f5616cf",      "unlocked-split", "3ce2c24cb68f",
                                           "restore-wmb",       "flush-before-free", "32c877191e02",
                                           "d8f5f7e445f0",      "2b21624fc232",   "tail-cmpxchg"};

TEST(V71RegistryTest, KnowsTheModelAndItsReverts) {
  const ModelInfo* info = find_model("v7.1");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->reserved_vmemmap_pages, 1u);
  EXPECT_EQ(info->vmemmap_mapping, VmemmapMapping::kPmdLeaves);
  EXPECT_EQ(info->folio_metadata_pages, 4u);
  EXPECT_EQ(check_model_and_reverts("v7.1", std::set<std::string>(kReverts.begin(), kReverts.end())), "");
  // The 6.x fixes 7.1 dropped with fake heads and RCU, and reset-3 (7.1
  // restores by copying a tail, with no reset), are not revertible here.
  for (const char* gone : {"fake-head", "bd225530a4c7", "c2a967f6ab0e", "ref-acquire", "reset-3"})
    EXPECT_NE(check_model_and_reverts("v7.1", {gone}), "") << gone;
}

// Free mode: one OS thread resizes the pool while another faults surplus
// hugepages and puts them back (no resize_lock): their first HVOs race to
// install the shared tail page and split the same PMD; the fixed model stays
// clean, with one shared tail page.
TEST(V71ConcurrentTest, AResizeAndSurplusFaultsAtOnceStayCleanWithOneTailPage) {
  PoolWorld w("v7.1", kHstate2M);
  resize_and_fault_surplus_from_two_threads(w);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  EXPECT_EQ(w.model->shared_vmemmap_frames().size(), 1u);
  w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// --- the tests 7.1 shares with 6.10 (pool_6x_test.cc) ----------------------------------------------

// No grace periods (7.1 dropped HVO's synchronize_rcu()); the fixes older
// than 6.7's batched resize: d8d55f5616cf (5.x), restore-wmb (2022),
// 2b21624fc232 (6.1), 3ce2c24cb68f, d8f5f7e445f0 and 32c877191e02 (6.5).
const Pool6xModel kV71{
    "v7.1",
    0,
    {"d8d55f5616cf", "restore-wmb", "2b21624fc232", "3ce2c24cb68f", "d8f5f7e445f0", "32c877191e02", "unlocked-split"}};
INSTANTIATE_TEST_SUITE_P(V71, Pool6xTest, ::testing::Values(kV71), pool_6x_test_name);
INSTANTIATE_TEST_SUITE_P(V71, Pool6xRevertTest, ::testing::Combine(::testing::Values(kV71), ::testing::ValuesIn(kReverts)),
                         pool_6x_revert_test_name);

}  // namespace
}  // namespace hvo
