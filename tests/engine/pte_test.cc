#include "engine/pte.h"

#include <gtest/gtest.h>

namespace hvo {
namespace {

TEST(Pte, KernelProtections) {
  const PteValue rw = pfn_pte(Pfn(0x1234), kPageKernel);
  EXPECT_TRUE(pte_present(rw));
  EXPECT_TRUE(pte_write(rw));
  EXPECT_FALSE(pmd_leaf(rw));
  EXPECT_EQ(pte_pfn(rw), Pfn(0x1234));
  const PteValue ro = pfn_pte(Pfn(0x1234), kPageKernelRo);
  EXPECT_TRUE(pte_present(ro));
  EXPECT_FALSE(pte_write(ro));
  EXPECT_EQ(pte_wrprotect(rw), ro);
  EXPECT_EQ(pte_mkwrite(ro), rw);
  EXPECT_TRUE(pte_none(PteValue(0)));
  EXPECT_FALSE(pte_present(PteValue(0)));
}

TEST(Pte, PmdLeaf) {
  const PteValue leaf = pfn_pmd_leaf(Pfn(512), kPageKernel);
  EXPECT_TRUE(pmd_leaf(leaf));
  EXPECT_EQ(pte_pfn(leaf), Pfn(512));
  // A non-present entry is never a leaf, whatever its other bits say.
  EXPECT_FALSE(pmd_leaf(PteValue(kPagePse)));
}

TEST(Pte, IndicesOfTheVmemmapBase) {
  // 0xffffea0000000000: pgd slot 468, everything below it zero.
  EXPECT_EQ(pgd_index(kVmemmapBase), 468u);
  EXPECT_EQ(pud_index(kVmemmapBase), 0u);
  const uint64_t va = kVmemmapBase + (uint64_t{3} << kPudShift) + (uint64_t{5} << kPmdShift) + (uint64_t{7} << 12);
  EXPECT_EQ(pud_index(va), 3u);
  EXPECT_EQ(pmd_index(va), 5u);
  EXPECT_EQ(pte_index(va), 7u);
  EXPECT_EQ(table_entry_addr(Pfn(2), 3).value(), 2 * kPageSize + 24);
}

}  // namespace
}  // namespace hvo
