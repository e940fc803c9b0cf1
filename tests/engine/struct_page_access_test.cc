#include "engine/struct_page_access.h"

#include <gtest/gtest.h>

#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::small_config;

class StructPageAccessTest : public ::testing::Test {
 protected:
  StructPageAccessTest() : m_(small_config()), t_(CpuId(1)), scope_(t_) {}
  Machine m_;
  Task t_;
  TaskScope scope_;
  const Pfn kPfn{0x9000};
};

TEST_F(StructPageAccessTest, WordsRoundTripAtTheirKernelOffsets) {
  StructPageAccess& p = m_.pages();
  for (PageWord w : {PageWord::kFlags, PageWord::kCompoundHead, PageWord::kCompoundInfo, PageWord::kMapping,
                     PageWord::kIndex, PageWord::kPrivate, PageWord::kMemcgData}) {
    EXPECT_TRUE(p.store(kPfn, w, 0x1000 + static_cast<uint64_t>(w)));
    EXPECT_EQ(p.load(kPfn, w), 0x1000 + static_cast<uint64_t>(w));
    // The bytes are where the kernel has them: frame + offset of the struct page.
    const SoftWalk walk = m_.page_tables().walk(pfn_to_page(kPfn));
    const PhysAddr a = pfn_to_phys(walk.frame) + pfn_to_page(kPfn).offset_in_page() + static_cast<unsigned>(w);
    EXPECT_EQ(m_.mem().load<uint64_t>(a, std::memory_order_relaxed), 0x1000 + static_cast<uint64_t>(w));
  }
  // Neighbouring struct pages are untouched.
  EXPECT_EQ(p.load(kPfn + 1, PageWord::kIndex), 0u);
}

TEST_F(StructPageAccessTest, RefcountAndMapcountAre32BitAtomics) {
  StructPageAccess& p = m_.pages();
  EXPECT_EQ(p.page_ref_count(kPfn), 0);
  EXPECT_EQ(p.load32(kPfn, PageWord32::kMapcount), -1);  // page_mapcount_reset() at boot
  int32_t expected = 0;
  EXPECT_EQ(p.cmpxchg32(kPfn, PageWord32::kRefcount, expected, 1), CasOutcome::kExchanged);
  expected = 0;
  EXPECT_EQ(p.cmpxchg32(kPfn, PageWord32::kRefcount, expected, 5), CasOutcome::kMismatch);
  EXPECT_EQ(expected, 1);
  RmwResult<int32_t> r = p.add_return32(kPfn, PageWord32::kRefcount, 2);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.value, 3);
  EXPECT_EQ(p.load32(kPfn, PageWord32::kMapcount), -1);  // the neighbour word is intact
}

TEST_F(StructPageAccessTest, FlagBits) {
  StructPageAccess& p = m_.pages();
  EXPECT_TRUE(p.set_flag(kPfn, PG_head));
  EXPECT_TRUE(p.set_flag(kPfn, PG_hwpoison));
  EXPECT_TRUE(p.test_flag(kPfn, PG_head));
  EXPECT_TRUE(p.clear_flag(kPfn, PG_head));
  EXPECT_FALSE(p.test_flag(kPfn, PG_head));
  EXPECT_EQ(p.flags(kPfn), page_flag(PG_hwpoison));
}

TEST_F(StructPageAccessTest, EveryAccessIsASchedulePoint) {
  const uint64_t before = t_.schedule_points;
  (void)m_.pages().load(kPfn, PageWord::kFlags);
  const uint64_t one_access = t_.schedule_points - before;
  EXPECT_GE(one_access, 1u);  // the access, plus the TLB fill on a miss
  const uint64_t hit_before = t_.schedule_points;
  (void)m_.pages().load(kPfn, PageWord::kFlags);  // TLB hit: exactly one
  EXPECT_EQ(t_.schedule_points - hit_before, 1u);
}

TEST_F(StructPageAccessTest, FaultingAccessesAreNotPerformedAndCounted) {
  const SoftWalk w = m_.page_tables().walk(pfn_to_page(kPfn));
  m_.page_tables().write_entry(w.entry, pte_wrprotect(w.value));
  m_.mmu().flush_tlb_all();
  StructPageAccess& p = m_.pages();
  EXPECT_FALSE(p.set_flag(kPfn, PG_hwpoison));
  int32_t expected = 0;
  EXPECT_EQ(p.cmpxchg32(kPfn, PageWord32::kRefcount, expected, 1), CasOutcome::kFault);
  EXPECT_FALSE(p.add_return32(kPfn, PageWord32::kRefcount, 1).ok);
  EXPECT_EQ(p.flags(kPfn), 0u);
  EXPECT_EQ(p.page_ref_count(kPfn), 0);
  EXPECT_EQ(p.faults(), 3u);
  EXPECT_EQ(m_.violations().count(ViolationKind::kRoTailWrite), 3u);
}

}  // namespace
}  // namespace hvo
