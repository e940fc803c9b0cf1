#include "engine/types.h"

#include <gtest/gtest.h>

#include "engine/check.h"

namespace hvo {
namespace {

TEST(Types, PfnToPageIsVmemmapBasePlus64PerPfn) {
  EXPECT_EQ(pfn_to_page(Pfn(0)).value(), kVmemmapBase);
  EXPECT_EQ(pfn_to_page(Pfn(1)).value(), kVmemmapBase + 64);
  EXPECT_EQ(page_to_pfn(pfn_to_page(Pfn(12345))), Pfn(12345));
  // Any byte inside a struct page belongs to that pfn.
  EXPECT_EQ(page_to_pfn(pfn_to_page(Pfn(7)) + 63), Pfn(7));
}

TEST(Types, OneVmemmapPageHolds64StructPages) {
  EXPECT_EQ(kStructPagesPerPage, 64u);
  // A 2 MiB hugepage (512 pfns) has 8 vmemmap pages, a 1 GiB one 4096.
  EXPECT_EQ(512 * kStructPageSize / kPageSize, 8u);
  EXPECT_EQ((uint64_t{1} << 18) * kStructPageSize / kPageSize, 4096u);
}

TEST(Types, ArithmeticThatWouldWrapIsAnInternalError) {
  EXPECT_THROW((void)(Pfn(1) - Pfn(2)), InternalError);
  EXPECT_THROW((void)(Pfn(~uint64_t{0}) + 1), InternalError);
  EXPECT_THROW((void)page_to_pfn(VmemmapAddr(kVmemmapBase - 1)), InternalError);
  EXPECT_EQ(Pfn(10) - Pfn(4), 6u);
}

TEST(Types, PhysAddrSplitsIntoPfnAndOffset) {
  const PhysAddr a = pfn_to_phys(Pfn(3)) + 100;
  EXPECT_EQ(a.pfn(), Pfn(3));
  EXPECT_EQ(a.offset_in_page(), 100u);
  EXPECT_EQ(Order(9).nr_pages(), 512u);
}

}  // namespace
}  // namespace hvo
