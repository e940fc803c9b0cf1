// Splitting a PMD-mapped vmemmap block into a PTE table, as 6.x's
// mm/hugetlb_vmemmap.c does it from the walk's pmd_entry callback
// (vmemmap_pmd_entry(), vmemmap_split_pmd()); one splitter for 6.10 and 7.1,
// whose kernel code is the same.
//
// What 6.7 added is VMEMMAP_SPLIT_NO_TLB_FLUSH: the batched HVO path splits
// every PMD of a batch without flushing the old leaves and then makes one
// flush_tlb_all() (models/*/hugetlb_vmemmap.h); and split_page() of a block
// from buddy. The two 5.18 fixes of this step are in (SplitFixes{}, 6.10
// always), and can be reverted on 7.1 as on v5.18
// (models/v5_18/vmemmap_split.h):
//   d8d55f5616cf  the table is installed under init_mm.page_table_lock and
//                 only if the PMD is still a leaf, else freed. Revert: the
//                 splitting walks (vmemmap_remap_split(), vmemmap_remap_free())
//                 under mmap_write_lock(&init_mm) and the leaf test,
//                 pmd_page() and the install without the page-table lock,
//                 as 5.15-5.16: splits never overlap, no race.
//   unlocked-split (synthetic) the read lock with the lock-free split: two
//                 splitters both install, one table leaks and the remaps
//                 made through it are lost.
//   3ce2c24cb68f  the leaf test and pmd_page(*pmd) are read together under
//                 the lock. Revert: the leaf tested under the lock first,
//                 pmd_page(*pmd) read after it is dropped (5.17-6.4): if
//                 another split installed its table in between, the "block"
//                 is that page-table page.
//
// The caller holds mmap_read_lock(&init_mm): walks of different folios run
// in parallel and may split the same PMD at once.
#pragma once

#include <optional>

#include "engine/machine.h"
#include "models/common/vmemmap_pmd_split.h"
#include "models/common/vmemmap_walk_6x.h"

namespace hvo::models {

class VmemmapSplitter {
 public:
  VmemmapSplitter(Machine& machine, SplitFixes fixes) : m_(machine), fixes_(fixes) {}

  // vmemmap_pmd_entry(pmd, addr, next, walk): a split-only walk
  // (`split_only`: no remap_pte) does not descend to the PTEs; a leaf PMD
  // is split.
  [[nodiscard]] VmemmapResult vmemmap_pmd_entry(PhysAddr pmd, VmemmapAddr addr, bool split_only,
                                                VmemmapWalkFlags flags, WalkAction& action);
  [[nodiscard]] const SplitFixes& fixes() const { return fixes_; }

 private:
  // vmemmap_split_pmd(pmd, head, start, walk); with 3ce2c24cb68f reverted
  // `head` is nullopt and read here, unlocked.
  [[nodiscard]] VmemmapResult vmemmap_split_pmd(PhysAddr pmd, std::optional<Pfn> head, VmemmapAddr start,
                                                VmemmapWalkFlags flags);
  // The install under init_mm.page_table_lock: the leaf test again, then
  // populate or pte_free_kernel().
  void install_or_free_locked(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags,
                              SpinLock& ptl) REQUIRES(ptl);
  // split_page(head, PMD_ORDER) where the block is from buddy, smp_wmb(),
  // pmd_populate_kernel(), the flush unless deferred.
  void populate(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags);
  // split_page(head, order): the block's pages become independent order-0
  // pages, each with its own reference, so that HVO can free them one by one.
  void split_page(Pfn head, Order order);

  Machine& m_;
  const SplitFixes fixes_;
};

}  // namespace hvo::models
