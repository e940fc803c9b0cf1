// Splitting a PMD-mapped vmemmap block into a PTE table in 7.1
// (mm/hugetlb_vmemmap.c: vmemmap_pmd_entry(), vmemmap_split_pmd()).
//
// The kernel code is 6.10's (models/v6_10/vmemmap_split.h: the batched
// path's VMEMMAP_SPLIT_NO_TLB_FLUSH, split_page() of a buddy-allocated
// block); what differs here is that the two 5.18 fixes of this step can be
// reverted on 7.1, as they can on v5.18 (models/v5_18/vmemmap_split.h):
//   d8d55f5616cf  the table is installed under init_mm.page_table_lock and
//                 only if the PMD is still a leaf, else freed. Revert: the
//                 leaf test, pmd_page() and the install without the lock;
//                 two splitters both install, one table leaks and the
//                 remaps made through it are lost.
//   3ce2c24cb68f  the leaf test and pmd_page(*pmd) are read together under
//                 the lock. Revert: the leaf tested first, pmd_page(*pmd)
//                 read later without the lock: if another split installed
//                 its table in between, the "block" is that page-table page.
//
// The caller holds mmap_read_lock(&init_mm): walks of different folios run
// in parallel and may split the same PMD at once.
#pragma once

#include <optional>

#include "engine/machine.h"
#include "models/v6_10/vmemmap_walk.h"

namespace hvo::v7_1 {

using v6_10::VmemmapResult;
using v6_10::VmemmapWalkFlags;
using v6_10::WalkAction;

struct SplitFixes {
  bool page_table_lock = true;      // d8d55f5616cf
  bool pmd_page_under_lock = true;  // 3ce2c24cb68f
};

class VmemmapSplitter {
 public:
  VmemmapSplitter(Machine& machine, SplitFixes fixes) : m_(machine), fixes_(fixes) {}

  // vmemmap_pmd_entry(pmd, addr, next, walk): a split-only walk
  // (`split_only`: no remap_pte) does not descend to the PTEs; a leaf PMD
  // is split.
  [[nodiscard]] VmemmapResult vmemmap_pmd_entry(PhysAddr pmd, VmemmapAddr addr, bool split_only,
                                                VmemmapWalkFlags flags, WalkAction& action);

 private:
  // `head = pmd_leaf(*pmd) ? pmd_page(*pmd) : NULL` under the lock (or,
  // with d8d55f5616cf reverted, without it).
  [[nodiscard]] std::optional<Pfn> pmd_page_if_leaf(PhysAddr pmd);
  [[nodiscard]] std::optional<Pfn> pmd_page_if_leaf_locked(PhysAddr pmd, SpinLock& ptl) REQUIRES(ptl);
  // vmemmap_split_pmd(pmd, head, start, walk); with 3ce2c24cb68f reverted
  // `head` is nullopt and read here, unlocked.
  [[nodiscard]] VmemmapResult vmemmap_split_pmd(PhysAddr pmd, std::optional<Pfn> head, VmemmapAddr start,
                                                VmemmapWalkFlags flags);
  // The table is private until installed: 512 set_pte_at() of head + i.
  void fill_table(Pfn pgtable, Pfn head, VmemmapAddr start);
  // The install under init_mm.page_table_lock: the leaf test again, then
  // populate or pte_free_kernel().
  void install_or_free_locked(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags,
                              SpinLock& ptl) REQUIRES(ptl);
  // split_page(head, PMD_ORDER) where the block is from buddy, smp_wmb(),
  // pmd_populate_kernel(), the flush unless deferred.
  void populate(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags);

  Machine& m_;
  const SplitFixes fixes_;
};

}  // namespace hvo::v7_1
