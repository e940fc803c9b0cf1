#include "engine/tlb.h"

#include <gtest/gtest.h>

#include <thread>

namespace hvo {
namespace {

const VmemmapAddr kA(kVmemmapBase + 0x5000);
const VmemmapAddr kB(kVmemmapBase + 0x9000);

TEST(Tlb, FillThenHitThenLocalFlush) {
  Tlb tlb(64);
  EXPECT_EQ(tlb.lookup(kA), nullptr);
  tlb.fill(kA, Pfn(42), 3, /*writable=*/false, /*from_pmd_leaf=*/false);
  const TlbEntry* e = tlb.lookup(kA + 100);  // same page
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->frame, Pfn(42));
  EXPECT_EQ(e->generation, 3u);
  EXPECT_FALSE(e->writable);
  tlb.flush_range_local(kA, kA + kPageSize);
  EXPECT_EQ(tlb.lookup(kA), nullptr);
}

TEST(Tlb, RangeFlushLeavesOtherPages) {
  Tlb tlb(64);
  tlb.fill(kA, Pfn(1), 0, true, false);
  tlb.fill(kB, Pfn(2), 0, true, false);
  tlb.flush_range_local(kA, kA + kPageSize);
  EXPECT_EQ(tlb.lookup(kA), nullptr);
  EXPECT_NE(tlb.lookup(kB), nullptr);
  // A range wider than the TLB takes the scan path.
  tlb.flush_range_local(VmemmapAddr(kVmemmapBase), VmemmapAddr(kVmemmapBase + (uint64_t{1} << 30)));
  EXPECT_EQ(tlb.lookup(kB), nullptr);
}

TEST(Tlb, ConflictingPagesEvictEachOther) {
  Tlb tlb(64);
  tlb.fill(kA, Pfn(1), 0, true, false);
  tlb.fill(kA + 64 * kPageSize, Pfn(2), 0, true, false);  // same set
  EXPECT_EQ(tlb.lookup(kA), nullptr);
  EXPECT_NE(tlb.lookup(kA + 64 * kPageSize), nullptr);
}

TEST(Tlb, RemoteFlushIsAppliedBeforeTheOwnersNextLookup) {
  Tlb tlb(64);
  tlb.fill(kA, Pfn(1), 0, true, false);
  tlb.fill(kB, Pfn(2), 0, true, false);
  std::thread other([&] { tlb.post_flush(kA, kA + kPageSize); });
  other.join();
  // Posted but not yet applied: the owner drains before translating.
  tlb.drain_remote_flushes();
  EXPECT_EQ(tlb.lookup(kA), nullptr);
  EXPECT_NE(tlb.lookup(kB), nullptr);
  std::thread all([&] { tlb.post_flush_all(); });
  all.join();
  tlb.drain_remote_flushes();
  EXPECT_EQ(tlb.nr_valid(), 0u);
}

TEST(Tlb, TooManyQueuedRangesBecomeAFullFlush) {
  Tlb tlb(64);
  tlb.fill(kB, Pfn(2), 0, true, false);
  for (int i = 0; i < 40; ++i) tlb.post_flush(kA, kA + kPageSize);
  tlb.drain_remote_flushes();
  EXPECT_EQ(tlb.nr_valid(), 0u);
}

}  // namespace
}  // namespace hvo
