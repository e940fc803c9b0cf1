#include "engine/buddy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/alloc_failure.h"
#include "engine/check.h"
#include "engine/locks/lockdep.h"
#include "engine/locks/spinlock.h"
#include "engine/phys_mem.h"
#include "engine/task.h"
#include "engine/violation.h"

namespace hvo {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kGigantic = uint64_t{1} << 18;  // frames of a 1 GiB page
constexpr uint64_t kOrder10 = uint64_t{1} << 10;

// Seeds for the randomised tests: HVO_TEST_SEED=<n> replaces the defaults.
std::vector<uint64_t> test_seeds() {
  if (const char* s = std::getenv("HVO_TEST_SEED")) return {std::strtoull(s, nullptr, 0)};
  return {1, 2, 3, 0xdecafbad};
}

// One zone over `memory` bytes whose bottom `reserved` frames are memblock
// reserved and the rest handed to buddy, as Machine boots it.
class Zone {
 public:
  explicit Zone(uint64_t memory = 2 * kGiB, uint64_t reserved = 4096)
      : mem_(memory),
        buddy_(mem_, lockdep_, lockdep_.register_class("zone->lock", LockKind::kSpin), inject_),
        reserved_(reserved) {
    mem_.set_state(Pfn(0), reserved, FrameState::kBootReserved);
    buddy_.free_boot_range(Pfn(reserved), mem_.nr_frames() - reserved);
  }

  ViolationLog log_;
  Lockdep lockdep_{log_};
  PhysMem mem_;
  AllocFailureInjector inject_;
  BuddyAllocator buddy_;
  uint64_t reserved_;
};

class BuddyTest : public ::testing::Test {
 protected:
  // Bound before the zone boots, so every operation runs as a known task.
  Task task_{CpuId(0)};
  TaskScope scope_{task_};
  Zone zone_;
  PhysMem& mem_ = zone_.mem_;
  BuddyAllocator& buddy_ = zone_.buddy_;
  ViolationLog& log_ = zone_.log_;
  AllocFailureInjector& inject_ = zone_.inject_;
  const uint64_t managed_ = mem_.nr_frames() - zone_.reserved_;
  const Pfn first_free_{zone_.reserved_};

  void expect_pristine() {
    const BuddyAllocator::Counters c = buddy_.counters();
    EXPECT_EQ(c.free_pages, managed_);
    EXPECT_EQ(c.nr_free[BuddyAllocator::kMaxOrder.value()], managed_ / kOrder10);
    for (int k = 0; k < BuddyAllocator::kMaxOrder.value(); ++k) EXPECT_EQ(c.nr_free[k], 0u) << "order " << k;
    EXPECT_TRUE(buddy_.validate());
  }
  bool frames_are(Pfn pfn, uint64_t n, FrameState s) const {
    for (uint64_t i = 0; i < n; ++i)
      if (mem_.state(pfn + i) != s) return false;
    return true;
  }
};

// ---------------------------------------------------------------------------
// SummaryBitmap
// ---------------------------------------------------------------------------

TEST(SummaryBitmapTest, FindNextCrossesSummaryLevels) {
  SummaryBitmap b(uint64_t{1} << 20);  // three levels: 2^20 bits, 2^14 words, 2^8, 2^2, 1
  EXPECT_EQ(b.find_next(0), std::nullopt);
  for (uint64_t i : {5ull, 70000ull, 999999ull}) b.set(i);
  EXPECT_EQ(b.find_next(0), 5u);
  EXPECT_EQ(b.find_next(6), 70000u);
  EXPECT_EQ(b.find_next(70001), 999999u);
  EXPECT_EQ(b.find_next(1000000), std::nullopt);
  b.clear(70000);
  EXPECT_EQ(b.find_next(6), 999999u);
  EXPECT_EQ(b.count(), 2u);
  EXPECT_TRUE(b.summaries_consistent());
}

TEST(SummaryBitmapTest, RangeQueries) {
  SummaryBitmap b(300);
  for (uint64_t i = 60; i < 200; ++i) b.set(i);
  EXPECT_TRUE(b.all_set(60, 200));
  EXPECT_TRUE(b.all_set(64, 128));
  EXPECT_FALSE(b.all_set(59, 200));
  EXPECT_FALSE(b.all_set(60, 201));
  EXPECT_TRUE(b.any_set(0, 61));
  EXPECT_FALSE(b.any_set(0, 60));
  EXPECT_FALSE(b.any_set(200, 300));
  EXPECT_TRUE(b.all_set(7, 7));  // empty range
}

// ---------------------------------------------------------------------------
// Boot, round trips, split and merge
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, BootHandsEveryUnreservedFrameOverAsOrder10Blocks) {
  EXPECT_EQ(buddy_.counters().managed_pages, managed_);
  expect_pristine();
  EXPECT_EQ(log_.count(), 0u);
}

TEST(BuddyBootTest, BootRangeThatIsNotBlockAlignedIsSplitIntoAlignedBlocks) {
  Task t{CpuId(0)};
  TaskScope s(t);
  Zone zone(64 << 20, 16384);  // every frame reserved: nothing handed over
  EXPECT_EQ(zone.buddy_.counters().free_pages, 0u);
  // 3 frames at pfn 5: __free_pages_memory() makes blocks 5 (order 0) and 6 (order 1).
  zone.mem_.set_state(Pfn(5), 3, FrameState::kFree);
  zone.buddy_.free_boot_range(Pfn(5), 3);
  const BuddyAllocator::Counters c = zone.buddy_.counters();
  EXPECT_EQ(c.free_pages, 3u);
  EXPECT_EQ(c.nr_free[0], 1u);
  EXPECT_EQ(c.nr_free[1], 1u);
  EXPECT_TRUE(zone.buddy_.validate());
  EXPECT_THROW(zone.buddy_.free_boot_range(Pfn(6), 1), InternalError) << "handed over twice";
  zone.mem_.set_state(Pfn(9), 1, FrameState::kBootReserved);
  EXPECT_THROW(zone.buddy_.free_boot_range(Pfn(9), 1), InternalError) << "not kFree";
}

TEST_F(BuddyTest, RoundTripAtEveryOrderRestoresTheFreeCounts) {
  for (uint8_t k = 0; k <= BuddyAllocator::kMaxOrder.value(); ++k) {
    SCOPED_TRACE(::testing::Message() << "order " << int{k});
    const Order order(k);
    const BuddyAllocator::Counters before = buddy_.counters();
    const std::optional<Pfn> pfn = buddy_.alloc_pages(Gfp::kKernel, order, FrameState::kBuddy);
    ASSERT_TRUE(pfn);
    EXPECT_EQ(pfn->value() % order.nr_pages(), 0u) << "not naturally aligned";
    EXPECT_TRUE(frames_are(*pfn, order.nr_pages(), FrameState::kBuddy));
    EXPECT_EQ(buddy_.counters().free_pages, before.free_pages - order.nr_pages());
    EXPECT_TRUE(buddy_.validate());
    buddy_.free_pages(*pfn, order);
    EXPECT_TRUE(frames_are(*pfn, order.nr_pages(), FrameState::kFree));
    const BuddyAllocator::Counters after = buddy_.counters();
    EXPECT_EQ(after.free_pages, before.free_pages);
    for (int j = 0; j < BuddyAllocator::kNrOrders; ++j) EXPECT_EQ(after.nr_free[j], before.nr_free[j]);
    EXPECT_EQ(after.allocs, before.allocs + 1);
    EXPECT_EQ(after.frees, before.frees + 1);
  }
  expect_pristine();
}

TEST_F(BuddyTest, Order0FromAnOrder10BlockSplitsAndMergesBack) {
  const BuddyAllocator::Counters before = buddy_.counters();
  const std::optional<Pfn> pfn = buddy_.alloc_pages(Gfp::kAtomic, Order(0), FrameState::kPageTable);
  ASSERT_TRUE(pfn);
  EXPECT_EQ(*pfn, first_free_);
  BuddyAllocator::Counters c = buddy_.counters();
  // expand(): one free block of each order 0..9 is left of the split block.
  EXPECT_EQ(c.nr_free[10], before.nr_free[10] - 1);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(c.nr_free[k], 1u) << "order " << k;
  EXPECT_TRUE(buddy_.validate());
  buddy_.free_pages(*pfn, Order(0));
  expect_pristine();
}

TEST_F(BuddyTest, AllocationReturnsTheLowestFreeBlock) {
  std::vector<Pfn> got;
  for (int i = 0; i < 4; ++i) got.push_back(*buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy));
  EXPECT_EQ(got, (std::vector<Pfn>{first_free_, first_free_ + 1, first_free_ + 2, first_free_ + 3}));
  // A hole at +1 is refilled first; an order-2 request takes the lowest
  // order-2 block (+4), not a larger block further up.
  buddy_.free_pages(first_free_ + 1, Order(0));
  EXPECT_EQ(buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy), first_free_ + 1);
  EXPECT_EQ(buddy_.alloc_pages(Gfp::kKernel, Order(2), FrameState::kBuddy), first_free_ + 4);
  // The same operations on a fresh zone give the same pfns.
  Zone other;
  std::vector<Pfn> again;
  for (int i = 0; i < 4; ++i) again.push_back(*other.buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy));
  EXPECT_EQ(again, got);
}

// ---------------------------------------------------------------------------
// Bad frees
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, DoubleFreeIsRecordedAndNotPerformed) {
  const Pfn pfn = *buddy_.alloc_pages(Gfp::kKernel, Order(3), FrameState::kBuddy);
  buddy_.free_pages(pfn, Order(3));
  const BuddyAllocator::Counters before = buddy_.counters();
  const uint32_t gen = mem_.generation(pfn);
  buddy_.free_pages(pfn, Order(3));
  EXPECT_EQ(log_.count(ViolationKind::kDoubleFree), 1u);
  const std::vector<Violation> v = log_.snapshot();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].invariant, Invariant::kBuddyFreeLists);
  EXPECT_EQ(v[0].frame, pfn);
  const BuddyAllocator::Counters after = buddy_.counters();
  EXPECT_EQ(after.free_pages, before.free_pages);
  EXPECT_EQ(after.frees, before.frees);
  EXPECT_EQ(mem_.generation(pfn), gen) << "the refused free still bumped the generation";
  expect_pristine();
}

TEST_F(BuddyTest, FreeingABlockWithOneFreeFrameIsADoubleFree) {
  const Pfn pfn = *buddy_.alloc_pages(Gfp::kKernel, Order(1), FrameState::kBuddy);
  buddy_.free_pages(pfn, Order(1));
  const Pfn again = *buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
  ASSERT_EQ(again, pfn);
  buddy_.free_pages(pfn, Order(1));  // pfn + 1 is free
  EXPECT_EQ(log_.count(ViolationKind::kDoubleFree), 1u);
  EXPECT_EQ(mem_.state(pfn), FrameState::kBuddy);
  EXPECT_TRUE(buddy_.validate());
}

TEST_F(BuddyTest, FreeingABootReservedFrameIsABadFree) {
  buddy_.free_pages(Pfn(0), Order(0));
  EXPECT_EQ(log_.count(ViolationKind::kBadFree), 1u);
  EXPECT_EQ(mem_.state(Pfn(0)), FrameState::kBootReserved);
  EXPECT_EQ(buddy_.counters().frees, 0u);
  expect_pristine();
}

TEST_F(BuddyTest, MisalignedAndOutOfMemoryFreesAreBadFrees) {
  const Pfn pfn = *buddy_.alloc_pages(Gfp::kKernel, Order(2), FrameState::kBuddy);
  buddy_.free_pages(pfn + 1, Order(1));
  buddy_.free_pages(mem_.end_pfn(), Order(0));
  EXPECT_EQ(log_.count(ViolationKind::kBadFree), 2u);
  EXPECT_TRUE(frames_are(pfn, 4, FrameState::kBuddy));
  buddy_.free_pages(pfn, Order(2));
  expect_pristine();
}

TEST_F(BuddyTest, OrderAboveMaxIsAnInternalError) {
  EXPECT_THROW((void)buddy_.alloc_pages(Gfp::kKernel, Order(11), FrameState::kBuddy), InternalError);
  EXPECT_THROW((void)buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kFree), InternalError);
  EXPECT_THROW((void)buddy_.alloc_contig_pages(Gfp::kKernel, kOrder10, FrameState::kHugetlbData), InternalError);
  EXPECT_THROW((void)buddy_.alloc_contig_pages(Gfp::kKernel, 3 * kOrder10, FrameState::kHugetlbData), InternalError);
}

// ---------------------------------------------------------------------------
// Re-tagging
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, SetStateRetagsAllocatedFramesOnly) {
  const Pfn pfn = *buddy_.alloc_pages(Gfp::kKernel, Order(1), FrameState::kBuddy);
  buddy_.set_state(pfn, 2, FrameState::kVmemmap);
  EXPECT_TRUE(frames_are(pfn, 2, FrameState::kVmemmap));
  buddy_.set_state(pfn + 1, 2, FrameState::kPageTable);  // pfn + 2 is free
  EXPECT_EQ(log_.count(ViolationKind::kBadFree), 1u);
  EXPECT_EQ(mem_.state(pfn + 1), FrameState::kVmemmap) << "a refused re-tag changed a frame";
  EXPECT_THROW(buddy_.set_state(pfn, 1, FrameState::kFree), InternalError);
  buddy_.free_pages(pfn, Order(1));
  expect_pristine();
}

// ---------------------------------------------------------------------------
// Exhaustion, gigantic pages
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, ExhaustedMemoryFailsCleanly) {
  std::vector<Pfn> blocks;
  while (std::optional<Pfn> p = buddy_.alloc_pages(Gfp::kKernel, Order(10), FrameState::kHugetlbData))
    blocks.push_back(*p);
  EXPECT_EQ(blocks.size(), managed_ / kOrder10);
  EXPECT_EQ(buddy_.alloc_pages(Gfp::kKernel | Gfp::kNoWarn, Order(0), FrameState::kBuddy), std::nullopt);
  BuddyAllocator::Counters c = buddy_.counters();
  EXPECT_EQ(c.free_pages, 0u);
  EXPECT_EQ(c.failures_no_memory, 2u);
  EXPECT_EQ(c.failure_warnings, 1u) << "__GFP_NOWARN suppresses warn_alloc()";
  EXPECT_EQ(c.failures_injected, 0u);
  EXPECT_TRUE(buddy_.validate());
  for (Pfn p : blocks) buddy_.free_pages(p, Order(10));
  expect_pristine();
  EXPECT_EQ(log_.count(), 0u);
}

TEST_F(BuddyTest, GiganticPageNeedsAFullyFreeAlignedRange) {
  // 2 GiB with 16 MiB reserved at the bottom: only [1 GiB, 2 GiB) qualifies.
  const std::optional<Pfn> giga = buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData);
  ASSERT_TRUE(giga);
  EXPECT_EQ(*giga, Pfn(kGigantic));
  EXPECT_TRUE(frames_are(*giga, kGigantic, FrameState::kHugetlbData));
  EXPECT_EQ(buddy_.counters().free_pages, managed_ - kGigantic);
  EXPECT_TRUE(buddy_.validate());

  EXPECT_EQ(buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData), std::nullopt);
  BuddyAllocator::Counters c = buddy_.counters();
  EXPECT_EQ(c.contig_allocs, 1u);
  EXPECT_EQ(c.failures_no_memory, 1u);

  buddy_.free_contig_range(*giga, kGigantic);
  EXPECT_EQ(buddy_.counters().contig_frees, 1u);
  expect_pristine();
  EXPECT_EQ(log_.count(), 0u);
}

TEST_F(BuddyTest, OneAllocatedFrameInTheRangeBlocksTheGiganticPage) {
  // Fill the lower GiB so that the next order-0 page lands in the upper one.
  std::vector<Pfn> low;
  while (true) {
    const Pfn p = *buddy_.alloc_pages(Gfp::kKernel, Order(10), FrameState::kBuddy);
    if (p.value() >= kGigantic) {
      buddy_.free_pages(p, Order(10));
      break;
    }
    low.push_back(p);
  }
  const Pfn intruder = *buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
  EXPECT_EQ(intruder, Pfn(kGigantic));
  EXPECT_EQ(buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData), std::nullopt);
  buddy_.free_pages(intruder, Order(0));
  const std::optional<Pfn> giga = buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData);
  EXPECT_EQ(giga, Pfn(kGigantic));
  buddy_.free_contig_range(*giga, kGigantic);
  for (Pfn p : low) buddy_.free_pages(p, Order(10));
  expect_pristine();
}

TEST_F(BuddyTest, FreeContigRangeOfAPartAndADoubleFree) {
  const Pfn giga = *buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData);
  // Demote-like: free an unaligned middle part, then the rest around it.
  buddy_.free_contig_range(giga + 3, 1000);
  EXPECT_TRUE(buddy_.validate());
  buddy_.free_contig_range(giga + 500, 1);
  EXPECT_EQ(log_.count(ViolationKind::kDoubleFree), 1u);
  buddy_.free_contig_range(giga, 3);
  buddy_.free_contig_range(giga + 1003, kGigantic - 1003);
  expect_pristine();
}

// ---------------------------------------------------------------------------
// Failure injection through the allocator
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, FailNthFailsExactlyThatAllocation) {
  inject_.fail_nth(3);
  std::vector<bool> ok;
  std::vector<Pfn> held;
  for (int i = 0; i < 5; ++i) {
    std::optional<Pfn> p = buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
    ok.push_back(p.has_value());
    if (p) held.push_back(*p);
  }
  EXPECT_EQ(ok, (std::vector<bool>{true, true, false, true, true}));
  const BuddyAllocator::Counters c = buddy_.counters();
  EXPECT_EQ(c.failures_injected, 1u);
  EXPECT_EQ(c.failures_no_memory, 0u);
  EXPECT_EQ(c.free_pages, managed_ - 4) << "the failed allocation took frames";
  EXPECT_EQ(inject_.injected(), 1u);
  for (Pfn p : held) buddy_.free_pages(p, Order(0));
  expect_pristine();
}

TEST_F(BuddyTest, InjectedFailuresAreDeterministicPerSeed) {
  auto pattern = [&](uint64_t seed) {
    inject_.fail_with_probability(0.3, seed);
    std::vector<bool> failed;
    std::vector<Pfn> held;
    for (int i = 0; i < 400; ++i) {
      std::optional<Pfn> p = buddy_.alloc_pages(Gfp::kAtomic, Order(i % 3), FrameState::kBuddy);
      failed.push_back(!p);
      if (p) held.push_back(*p);
    }
    for (size_t i = 0, j = 0; i < failed.size(); ++i)
      if (!failed[i]) buddy_.free_pages(held[j++], Order(i % 3));
    return failed;
  };
  const std::vector<bool> a = pattern(42);
  const std::vector<bool> b = pattern(42);
  const std::vector<bool> other = pattern(43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  const auto n = std::count(a.begin(), a.end(), true);
  EXPECT_GT(n, 80);
  EXPECT_LT(n, 160);
  expect_pristine();
}

TEST_F(BuddyTest, GiganticAllocationsCanBeFailedByInjection) {
  inject_.fail_nth(1);
  EXPECT_EQ(buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData), std::nullopt);
  EXPECT_EQ(buddy_.counters().failures_injected, 1u);
  EXPECT_EQ(buddy_.counters().failures_no_memory, 0u);
  expect_pristine();
}

// ---------------------------------------------------------------------------
// might_sleep
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, SleepingAllocationUnderASpinlockIsReported) {
  SpinLock other(zone_.lockdep_.register_class("hugetlb_lock", LockKind::kSpin));
  std::optional<Pfn> atomic_page;
  std::optional<Pfn> kernel_page;
  {
    SpinLockGuard g(other);
    atomic_page = buddy_.alloc_pages(Gfp::kAtomic, Order(0), FrameState::kBuddy);
    EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 0u) << "GFP_ATOMIC never sleeps";
    kernel_page = buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
    EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1u);
  }
  ASSERT_TRUE(atomic_page && kernel_page);
  buddy_.free_pages(*atomic_page, Order(0));
  buddy_.free_pages(*kernel_page, Order(0));
  const Pfn p = *buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
  EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1u) << "GFP_KERNEL without a lock held is fine";
  buddy_.free_pages(p, Order(0));
  expect_pristine();
}

TEST_F(BuddyTest, GfpZeroClearsTheFrames) {
  const Pfn p = *buddy_.alloc_pages(Gfp::kKernel, Order(1), FrameState::kPageTable);
  mem_.store<uint64_t>(pfn_to_phys(p + 1) + 8, 0xdeadbeef, std::memory_order_relaxed);
  buddy_.free_pages(p, Order(1));
  const Pfn again = *buddy_.alloc_pages(Gfp::kKernel | Gfp::kZero, Order(1), FrameState::kPageTable);
  ASSERT_EQ(again, p);
  EXPECT_EQ(mem_.load<uint64_t>(pfn_to_phys(p + 1) + 8, std::memory_order_relaxed), 0u);
  buddy_.free_pages(p, Order(1));
}

TEST(GfpTest, FlagsPrintAsTheKernelNamesThem) {
  EXPECT_TRUE(may_sleep(Gfp::kKernel | Gfp::kNoWarn));
  EXPECT_FALSE(may_sleep(Gfp::kAtomic));
  EXPECT_FALSE(may_sleep(Gfp::kNoWait));
  EXPECT_EQ(to_string(Gfp::kKernel | Gfp::kNoRetry | Gfp::kThisNode), "GFP_KERNEL|__GFP_NORETRY|__GFP_THISNODE");
  EXPECT_EQ(to_string(Gfp::kAtomic), "GFP_ATOMIC");
  EXPECT_EQ(to_string(Gfp::kNoWait), "GFP_NOWAIT");
}

// ---------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------

struct Held {
  Pfn pfn;
  uint64_t nr_pages;
  bool contig;
};

// A seeded random program of allocations and frees; the validator holds
// after each batch and the zone is pristine once everything is returned.
class BuddyRandomTest : public BuddyTest, public ::testing::WithParamInterface<uint64_t> {
 protected:
  void release(const Held& h) {
    if (h.contig) {
      buddy_.free_contig_range(h.pfn, h.nr_pages);
    } else {
      buddy_.free_pages(h.pfn, Order(static_cast<uint8_t>(std::countr_zero(h.nr_pages))));
    }
  }
};

TEST_P(BuddyRandomTest, ValidatorHoldsAfterRandomOperations) {
  std::mt19937_64 rng(GetParam());
  std::vector<Held> held;
  for (int step = 0; step < 4000; ++step) {
    const unsigned what = rng() % 100;
    if (what < 55) {
      const Order order(static_cast<uint8_t>(std::min<uint64_t>(rng() % 16, 10)));
      if (std::optional<Pfn> p = buddy_.alloc_pages(Gfp::kAtomic, order, FrameState::kBuddy))
        held.push_back({*p, order.nr_pages(), false});
    } else if (what < 57) {
      const uint64_t nr_pages = uint64_t{1} << (11 + rng() % 8);
      if (std::optional<Pfn> p = buddy_.alloc_contig_pages(Gfp::kKernel, nr_pages, FrameState::kHugetlbData))
        held.push_back({*p, nr_pages, true});
    } else if (!held.empty()) {
      const size_t i = rng() % held.size();
      release(held[i]);
      held[i] = held.back();
      held.pop_back();
    }
    if (step % 500 == 0) {
      ASSERT_TRUE(buddy_.validate()) << "step " << step;
    }
  }
  for (const Held& h : held) release(h);
  expect_pristine();
  EXPECT_EQ(log_.count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, BuddyRandomTest, ::testing::ValuesIn(test_seeds()));

TEST_F(BuddyTest, ValidatorCatchesAFreeFrameTakenBehindTheAllocatorsBack) {
  const Pfn victim(mem_.nr_frames() - 7);
  mem_.set_state(victim, 1, FrameState::kVmemmap);
  EXPECT_FALSE(buddy_.validate());
  EXPECT_GE(log_.count(ViolationKind::kInvariantBroken), 1u);
  bool named = false;
  for (const Violation& v : log_.snapshot()) {
    EXPECT_EQ(v.invariant, Invariant::kBuddyFreeLists);
    named |= v.frame == victim;
  }
  EXPECT_TRUE(named) << "no violation names the frame";
}

TEST_F(BuddyTest, ValidatorCatchesAFrameFreedBehindTheAllocatorsBack) {
  const Pfn p = *buddy_.alloc_pages(Gfp::kKernel, Order(0), FrameState::kBuddy);
  mem_.set_state(p, 1, FrameState::kFree);
  EXPECT_FALSE(buddy_.validate());
  bool named = false;
  for (const Violation& v : log_.snapshot()) named |= v.frame == p && v.invariant == Invariant::kBuddyFreeLists;
  EXPECT_TRUE(named);
}

// ---------------------------------------------------------------------------
// Concurrency and scale
// ---------------------------------------------------------------------------

TEST_F(BuddyTest, TwoThreadsConserveFrames) {
  constexpr int kOps = 100'000;
  auto worker = [&](uint32_t cpu) {
    Task t{CpuId(cpu)};
    TaskScope s(t);
    std::mt19937_64 rng(cpu);
    std::vector<std::pair<Pfn, Order>> held;
    for (int i = 0; i < kOps; ++i) {
      if (held.size() < 32 && (held.empty() || rng() % 2 == 0)) {
        const Order order(static_cast<uint8_t>(rng() % 4));
        if (std::optional<Pfn> p = buddy_.alloc_pages(Gfp::kKernel, order, FrameState::kBuddy))
          held.emplace_back(*p, order);
      } else {
        buddy_.free_pages(held.back().first, held.back().second);
        held.pop_back();
      }
    }
    for (auto [p, o] : held) buddy_.free_pages(p, o);
  };
  std::thread a(worker, 1);
  std::thread b(worker, 2);
  a.join();
  b.join();
  const BuddyAllocator::Counters c = buddy_.counters();
  EXPECT_EQ(c.allocs, c.frees);
  EXPECT_GT(c.allocs, uint64_t{kOps});
  expect_pristine();
  EXPECT_EQ(log_.count(), 0u);
}

TEST(BuddyScaleTest, SixtyFourGiBKeepsTheBitmapsSmall) {
  Task t{CpuId(0)};
  TaskScope s(t);
  Zone zone(64 * kGiB);
  EXPECT_LT(zone.buddy_.bitmap_bytes(), uint64_t{5} << 20);
  EXPECT_EQ(zone.buddy_.counters().free_pages, zone.mem_.nr_frames() - 4096);
  const Pfn giga = *zone.buddy_.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData);
  EXPECT_EQ(giga, Pfn(kGigantic));
  zone.buddy_.free_contig_range(giga, kGigantic);
}

}  // namespace
}  // namespace hvo
