#include "engine/phys_mem.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/check.h"

namespace hvo {
namespace {

constexpr uint64_t k64M = uint64_t{64} << 20;

TEST(PhysMem, FramesStartFreeAtGenerationZero) {
  PhysMem mem(k64M);
  EXPECT_EQ(mem.nr_frames(), k64M / kPageSize);
  EXPECT_EQ(mem.state(Pfn(0)), FrameState::kFree);
  EXPECT_EQ(mem.generation(Pfn(100)), 0u);
  EXPECT_TRUE(mem.valid(Pfn(mem.nr_frames() - 1)));
  EXPECT_FALSE(mem.valid(mem.end_pfn()));
}

TEST(PhysMem, FreeingBumpsTheGenerationAndNothingElseDoes) {
  PhysMem mem(k64M);
  mem.set_state(Pfn(10), 4, FrameState::kVmemmap);
  EXPECT_EQ(mem.generation(Pfn(10)), 0u);
  EXPECT_EQ(mem.state(Pfn(13)), FrameState::kVmemmap);
  EXPECT_EQ(mem.state(Pfn(14)), FrameState::kFree);
  mem.set_state(Pfn(10), 4, FrameState::kFree);
  EXPECT_EQ(mem.generation(Pfn(10)), 1u);
  mem.set_state(Pfn(10), 1, FrameState::kPageTable);
  EXPECT_EQ(mem.generation(Pfn(10)), 1u);
}

TEST(PhysMem, CountsFramesPerState) {
  PhysMem mem(k64M);
  mem.set_state(Pfn(0), 8, FrameState::kBootReserved);
  mem.set_state(Pfn(8), 2, FrameState::kPageTable);
  uint64_t counts[kNumFrameStates];
  mem.count_states(counts);
  EXPECT_EQ(counts[static_cast<int>(FrameState::kBootReserved)], 8u);
  EXPECT_EQ(counts[static_cast<int>(FrameState::kPageTable)], 2u);
  EXPECT_EQ(counts[static_cast<int>(FrameState::kFree)], mem.nr_frames() - 10);
}

// The counters count_states() returns are kept by set_state(): after any
// sequence of ranges, overlapping ones and same-state ones included, they
// equal a scan of the shadow words.
TEST(PhysMem, StateCountersMatchAScanAfterAnySequence) {
  PhysMem mem(k64M);
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 2000; ++i) {
    const uint64_t start = next() % mem.nr_frames();
    const uint64_t n = 1 + next() % std::min<uint64_t>(600, mem.nr_frames() - start);
    mem.set_state(Pfn(start), n, static_cast<FrameState>(next() % kNumFrameStates));
    if (i % 100 != 0) continue;
    uint64_t counted[kNumFrameStates], scanned[kNumFrameStates];
    mem.count_states(counted);
    mem.scan_states(scanned);
    for (int st = 0; st < kNumFrameStates; ++st) ASSERT_EQ(counted[st], scanned[st]) << "state " << st << " after " << i;
  }
}

TEST(PhysMem, WordAccessesAndPageCopies) {
  PhysMem mem(k64M);
  const PhysAddr a = pfn_to_phys(Pfn(5)) + 8;
  mem.store<uint64_t>(a, 0xdeadbeef, std::memory_order_relaxed);
  EXPECT_EQ(mem.load<uint64_t>(a, std::memory_order_relaxed), 0xdeadbeefu);
  uint64_t expected = 1;
  EXPECT_FALSE(mem.compare_exchange<uint64_t>(a, expected, 2, std::memory_order_seq_cst));
  EXPECT_EQ(expected, 0xdeadbeefu);
  mem.copy_page(Pfn(6), Pfn(5));
  EXPECT_EQ(mem.load<uint64_t>(pfn_to_phys(Pfn(6)) + 8, std::memory_order_relaxed), 0xdeadbeefu);
  mem.clear_page(Pfn(6));
  EXPECT_EQ(mem.load<uint64_t>(pfn_to_phys(Pfn(6)) + 8, std::memory_order_relaxed), 0u);
  mem.store_plain32(a, 7);
  EXPECT_EQ(mem.load_plain32(a), 7u);
}

TEST(PhysMem, ContentsAreBackedOnlyWhenWritten) {
  // 8 GiB simulated: nothing resident until written.
  PhysMem mem(uint64_t{8} << 30);
  EXPECT_LT(mem.resident_backing_bytes(), uint64_t{1} << 20);
  for (uint64_t i = 0; i < 256; ++i) mem.clear_page(Pfn(i * 1000));
  EXPECT_GE(mem.resident_backing_bytes(), 256 * kPageSize);
  EXPECT_LT(mem.resident_backing_bytes(), uint64_t{4} << 20);
}

TEST(PhysMem, RejectsSizesThatAreNotWholeHugepages) {
  EXPECT_THROW(PhysMem(k64M + kPageSize), InternalError);
  EXPECT_THROW(PhysMem(0), InternalError);
}

}  // namespace
}  // namespace hvo
