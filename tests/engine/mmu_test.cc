#include "engine/mmu.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/engine/eventually.h"
#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::eventually;
using testing::small_config;

class MmuTest : public ::testing::Test {
 protected:
  MmuTest() : m_(small_config()), cpu0_(CpuId(0)), cpu1_(CpuId(1)) {}

  // The PTE that maps pfn's struct page, and the frame behind it.
  SoftWalk pte_of(Pfn pfn) { return m_.page_tables().walk(pfn_to_page(pfn)); }
  VmemmapAddr page_start(Pfn pfn) { return pfn_to_page(pfn).page_aligned(); }

  // Remaps the vmemmap page holding pfn's struct page onto a fresh copy, the
  // way vmemmap_remap_alloc() restores a page, without flushing the TLB.
  // Returns the old frame.
  Pfn remap_to_copy(Pfn pfn) {
    const SoftWalk w = pte_of(pfn);
    std::optional<Pfn> copy = m_.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kVmemmap);
    EXPECT_TRUE(copy.has_value());
    m_.mem().copy_page(*copy, w.frame);
    m_.page_tables().write_entry(w.entry, pfn_pte(*copy, kPageKernel));
    return w.frame;
  }

  Machine m_;
  Task cpu0_, cpu1_;
  const Pfn kPfn{0x8000};
};

TEST_F(MmuTest, TranslatesThroughTheWalkThenTheTlb) {
  TaskScope s(cpu0_);
  Tlb& tlb = m_.mmu().tlb(CpuId(0));
  const uint64_t misses = tlb.misses();
  Translation t = m_.mmu().translate(CpuId(0), pfn_to_page(kPfn), AccessType::kRead);
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.frame, pte_of(kPfn).frame);
  EXPECT_EQ(t.phys, pfn_to_phys(t.frame) + pfn_to_page(kPfn).offset_in_page());
  EXPECT_EQ(tlb.misses(), misses + 1);
  const uint64_t hits = tlb.hits();
  EXPECT_TRUE(m_.mmu().translate(CpuId(0), pfn_to_page(kPfn) + 8, AccessType::kWrite).ok);
  EXPECT_EQ(tlb.hits(), hits + 1);
  EXPECT_FALSE(m_.violations().any());
}

TEST_F(MmuTest, WriteThroughReadOnlyPteIsRoTailWrite) {
  TaskScope s(cpu0_);
  OperationScope op("memory_failure");
  const SoftWalk w = pte_of(kPfn);
  m_.page_tables().write_entry(w.entry, pte_wrprotect(w.value));
  m_.mmu().flush_tlb_kernel_range(page_start(kPfn), page_start(kPfn) + kPageSize);

  EXPECT_FALSE(m_.pages().store(kPfn, PageWord::kPrivate, 5));
  ASSERT_EQ(m_.violations().count(ViolationKind::kRoTailWrite), 1u);
  const Violation v = m_.violations().snapshot().at(0);
  EXPECT_EQ(v.cpu, CpuId(0));
  EXPECT_EQ(v.address, (pfn_to_page(kPfn) + 40).value());
  EXPECT_EQ(v.pfn, kPfn);
  EXPECT_EQ(v.frame, w.frame);
  EXPECT_EQ(v.operation, "memory_failure");
  // Reads through a read-only entry are fine, and the write was not done.
  EXPECT_EQ(m_.pages().load(kPfn, PageWord::kPrivate), 0u);
  EXPECT_EQ(m_.violations().count(), 1u);
}

TEST_F(MmuTest, CachedWritablePermissionSurvivesUntilTheFlush) {
  TaskScope s0(cpu0_);
  {
    TaskScope s1(cpu1_);
    EXPECT_TRUE(m_.pages().store(kPfn, PageWord::kIndex, 1));  // fills CPU 1's TLB, writable
  }
  const SoftWalk w = pte_of(kPfn);
  m_.page_tables().write_entry(w.entry, pte_wrprotect(w.value));
  {
    TaskScope s1(cpu1_);
    EXPECT_TRUE(m_.pages().store(kPfn, PageWord::kIndex, 2));  // stale but harmless: frame still live
  }
  m_.mmu().flush_tlb_kernel_range(page_start(kPfn), page_start(kPfn) + kPageSize);
  {
    TaskScope s1(cpu1_);
    EXPECT_FALSE(m_.pages().store(kPfn, PageWord::kIndex, 3));
  }
  EXPECT_EQ(m_.violations().count(ViolationKind::kRoTailWrite), 1u);
  EXPECT_EQ(m_.violations().count(), 1u);
}

TEST_F(MmuTest, NotPresentEntryIsRecorded) {
  TaskScope s(cpu0_);
  m_.page_tables().write_entry(pte_of(kPfn).entry, PteValue(0));
  m_.mmu().flush_tlb_all();
  EXPECT_EQ(m_.pages().load(kPfn, PageWord::kFlags), 0u);
  EXPECT_EQ(m_.violations().count(ViolationKind::kNotPresent), 1u);
}

TEST_F(MmuTest, AccessToAFreedFrameIsUseAfterFree) {
  TaskScope s(cpu0_);
  const SoftWalk w = pte_of(kPfn);
  m_.buddy().free_pages(w.frame, Order(0));  // freed while still mapped
  m_.mmu().flush_tlb_all();
  (void)m_.pages().load(kPfn, PageWord::kFlags);
  ASSERT_EQ(m_.violations().count(ViolationKind::kUseAfterFree), 1u);
  EXPECT_EQ(m_.violations().snapshot().at(0).frame, w.frame);
}

TEST_F(MmuTest, StaleTlbEntryUsedAfterTheOldFrameWasFreedIsCaught) {
  TaskScope s0(cpu0_);
  {
    TaskScope s1(cpu1_);
    (void)m_.pages().load(kPfn, PageWord::kFlags);  // CPU 1 caches the translation
  }
  const Pfn old = remap_to_copy(kPfn);
  m_.buddy().free_pages(old, Order(0));  // freed with no flush in between: the bug
  {
    TaskScope s1(cpu1_);
    (void)m_.pages().load(kPfn, PageWord::kFlags);
  }
  ASSERT_EQ(m_.violations().count(ViolationKind::kStaleTlbUseAfterFree), 1u);
  const Violation v = m_.violations().snapshot().at(0);
  EXPECT_EQ(v.cpu, CpuId(1));
  EXPECT_EQ(v.frame, old);
}

TEST_F(MmuTest, StaleTlbEntryIsCaughtAfterTheFrameWasReused) {
  TaskScope s0(cpu0_);
  {
    TaskScope s1(cpu1_);
    (void)m_.pages().load(kPfn, PageWord::kFlags);
  }
  const Pfn old = remap_to_copy(kPfn);
  m_.buddy().free_pages(old, Order(0));
  // Reallocated as vmemmap again (buddy hands out the lowest free frame):
  // the same state as before, a newer generation.
  ASSERT_EQ(m_.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kVmemmap), old);
  {
    TaskScope s1(cpu1_);
    (void)m_.pages().load(kPfn, PageWord::kFlags);
  }
  EXPECT_EQ(m_.violations().count(ViolationKind::kStaleTlbUseAfterFree), 1u);
}

TEST_F(MmuTest, FlushBeforeFreeIsClean) {
  TaskScope s0(cpu0_);
  {
    TaskScope s1(cpu1_);
    EXPECT_TRUE(m_.pages().store(kPfn, PageWord::kIndex, 1));
  }
  const Pfn old = remap_to_copy(kPfn);
  EXPECT_TRUE(m_.pages().store(kPfn, PageWord::kIndex, 2));  // written into the copy by CPU 0
  m_.mmu().flush_tlb_kernel_range(page_start(kPfn), page_start(kPfn) + kPageSize);
  m_.buddy().free_pages(old, Order(0));
  {
    TaskScope s1(cpu1_);
    EXPECT_EQ(m_.pages().load(kPfn, PageWord::kIndex), 2u);  // CPU 1 now sees the new frame
  }
  EXPECT_FALSE(m_.violations().any());
}

// The kernel's flush_tlb_kernel_range() waits for every CPU to take its
// IPI, between instructions: a CPU that found the old translation finishes
// its access before the flusher goes on to free the frame. Free mode, real
// threads: CPU 1 translates inside an Instruction, CPU 0 remaps and
// flushes, and the flush must not return before CPU 1 has left it.
TEST_F(MmuTest, FlushReturnsOnlyAfterAnInstructionUnderWayOnAnotherCpuHasEnded) {
  std::atomic<bool> inside{false}, flushing{false}, left{false}, flushed{false};
  bool flush_returned_while_inside = false;
  Pfn used{0};
  std::thread cpu1([&] {
    TaskScope s1(cpu1_);
    {
      const Mmu::Instruction insn(m_.mmu(), CpuId(1));
      const Translation t = m_.mmu().translate(CpuId(1), pfn_to_page(kPfn), AccessType::kRead);
      used = t.frame;
      inside.store(true);
      ASSERT_TRUE(eventually([&] { return flushing.load(); }));
      // A flush that does not wait has every chance to return meanwhile.
      // (The sleep can only hide the bug on a stalled machine, never fake it.)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      flush_returned_while_inside = flushed.load();
      left.store(true);
    }
  });
  {
    TaskScope s0(cpu0_);
    ASSERT_TRUE(eventually([&] { return inside.load(); }));
    const Pfn old = remap_to_copy(kPfn);
    flushing.store(true);
    m_.mmu().flush_tlb_kernel_range(page_start(kPfn), page_start(kPfn) + kPageSize);
    flushed.store(true);
    EXPECT_TRUE(left.load());
    EXPECT_EQ(used, old);
    m_.buddy().free_pages(old, Order(0));
  }
  cpu1.join();
  EXPECT_FALSE(flush_returned_while_inside);
  // CPU 1's next instruction drains the flush: the new frame, no finding.
  {
    TaskScope s1(cpu1_);
    const Mmu::Instruction insn(m_.mmu(), CpuId(1));
    const Translation t = m_.mmu().translate(CpuId(1), pfn_to_page(kPfn), AccessType::kRead);
    EXPECT_TRUE(t.ok);
    EXPECT_NE(t.frame, used);
  }
  EXPECT_FALSE(m_.violations().any());
}

// A CPU outside any instruction does not hold a flush up: its next
// instruction drains the flush before its lookup.
TEST_F(MmuTest, FlushDoesNotWaitForAnIdleCpu) {
  {
    TaskScope s1(cpu1_);
    EXPECT_TRUE(m_.pages().store(kPfn, PageWord::kIndex, 1));  // an entry in CPU 1's TLB
  }
  TaskScope s0(cpu0_);
  const Pfn old = remap_to_copy(kPfn);
  m_.mmu().flush_tlb_kernel_range(page_start(kPfn), page_start(kPfn) + kPageSize);  // returns: nobody inside
  m_.buddy().free_pages(old, Order(0));
  {
    TaskScope s1(cpu1_);
    EXPECT_EQ(m_.pages().load(kPfn, PageWord::kIndex), 1u);  // copied by remap_to_copy()
  }
  EXPECT_FALSE(m_.violations().any());
}

TEST_F(MmuTest, FlushCountsAndFlushAll) {
  TaskScope s0(cpu0_);
  const uint64_t before = m_.mmu().flushes();
  (void)m_.pages().load(kPfn, PageWord::kFlags);
  m_.mmu().flush_tlb_all();
  EXPECT_EQ(m_.mmu().tlb(CpuId(0)).nr_valid(), 0u);
  EXPECT_EQ(m_.mmu().flushes(), before + 1);
}

}  // namespace
}  // namespace hvo
