// Splitting a PMD-mapped vmemmap block into a PTE table, as 6.10's
// mm/hugetlb_vmemmap.c does it from the walk's pmd_entry callback:
// vmemmap_pmd_entry() and vmemmap_split_pmd().
//
// The 5.18 races are fixed here for good: the leaf test and pmd_page(*pmd)
// are read together under init_mm.page_table_lock (3ce2c24cb68f) and the
// new table is installed under it only if the PMD is still a leaf, else
// freed (d8d55f5616cf). What 6.7 added is VMEMMAP_SPLIT_NO_TLB_FLUSH: the
// batched HVO path splits every PMD of a batch without flushing the old
// leaves and then makes one flush_tlb_all() (hugetlb_vmemmap.h).
//
// The caller holds mmap_read_lock(&init_mm): walks of different folios run
// in parallel and may split the same PMD at once.
#pragma once

#include <optional>

#include "engine/machine.h"
#include "models/v6_10/vmemmap_walk.h"

namespace hvo::v6_10 {

class VmemmapSplitter {
 public:
  explicit VmemmapSplitter(Machine& machine) : m_(machine) {}

  // vmemmap_pmd_entry(pmd, addr, next, walk): a split-only walk (no
  // remap_pte) does not descend to the PTEs; a leaf PMD is split.
  [[nodiscard]] VmemmapResult vmemmap_pmd_entry(PhysAddr pmd, VmemmapAddr addr, const VmemmapRemapWalk& walk,
                                                WalkAction& action);

 private:
  // `head = pmd_leaf(*pmd) ? pmd_page(*pmd) : NULL` under the lock.
  [[nodiscard]] std::optional<Pfn> pmd_page_if_leaf_locked(PhysAddr pmd, SpinLock& ptl) REQUIRES(ptl);
  // vmemmap_split_pmd(pmd, head, start, walk).
  [[nodiscard]] VmemmapResult vmemmap_split_pmd(PhysAddr pmd, Pfn head, VmemmapAddr start,
                                                const VmemmapRemapWalk& walk);
  // The table is private until installed: 512 set_pte_at() of head + i.
  void fill_table(Pfn pgtable, Pfn head, VmemmapAddr start);
  // The part under init_mm.page_table_lock: install (split_page, smp_wmb,
  // pmd_populate_kernel, the flush unless deferred) or pte_free_kernel.
  void install_or_free_locked(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags,
                              SpinLock& ptl) REQUIRES(ptl);
  // split_page(head, order): the block's pages become independent order-0
  // pages, each with its own reference, so that HVO can free them one by one.
  void split_page(Pfn head, Order order);

  Machine& m_;
};

}  // namespace hvo::v6_10
