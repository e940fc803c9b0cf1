// The vmemmap remapping of 6.10 (mm/hugetlb_vmemmap.c): the PTE callbacks
// vmemmap_remap_pte() and vmemmap_restore_pte(), which the 6.x walk
// (models/common/vmemmap_remap_6x.h: vmemmap_remap_split(),
// vmemmap_remap_free(), vmemmap_remap_alloc() over vmemmap_remap_range())
// calls for each PTE.
//
// Differences from 5.18 (models/v5_18/vmemmap_remap.h):
//   - the head vmemmap page is remapped too (11aad2631bf7): vmemmap_remap_free()
//     allocates a new page, copies the head's vmemmap page into it, and the
//     walk maps it read-write at the head address (the reuse address) and
//     read-only at every other one; the old head page joins the pages to
//     free. If the new page cannot be had, the walk falls back to reusing
//     the old head page, found first, as 5.18 did;
//   - vmemmap_remap_free() does not free: it deposits the old pages on the
//     caller's list, and the caller frees them after its TLB flush (with
//     VMEMMAP_REMAP_NO_TLB_FLUSH the walk makes none; hugetlb_vmemmap.h);
//   - a split-only walk (vmemmap_remap_split()) lets the batched path split
//     every PMD first, VMEMMAP_SPLIT_NO_TLB_FLUSH, with one flush after;
//   - restore allocates with GFP_KERNEL | __GFP_RETRY_MAYFAIL and resets
//     NR_RESET_STRUCT_PAGE struct pages of each copy: 4 since the hugetlb
//     fields moved to page[3] (2025); revert `reset-3` resets 3.
#pragma once

#include <deque>

#include "engine/machine.h"
#include "models/common/vmemmap_remap_6x.h"
#include "models/common/vmemmap_walk_6x.h"

namespace hvo::v6_10 {

using models::VMEMMAP_REMAP_NO_TLB_FLUSH;
using models::VMEMMAP_SPLIT_NO_TLB_FLUSH;
using models::VMEMMAP_SYNCHRONIZE_RCU;
using models::VmemmapRemapWalk;
using models::VmemmapResult;
using models::VmemmapWalkFlags;

// NR_RESET_STRUCT_PAGE: 4 ("one head struct page struct and three tail
// struct page structs"); 3 before the 2025 fix.
inline constexpr unsigned kNrResetStructPage = 4;
inline constexpr unsigned kNrResetStructPageBefore2025 = 3;

class VmemmapRemapper : public models::VmemmapRemapper6x {
 public:
  // The 5.18 split fixes are in for good: no split revert on 6.10.
  VmemmapRemapper(Machine& machine, unsigned nr_reset_struct_page)
      : VmemmapRemapper6x(machine, models::SplitFixes{}, models::RemapPte::of<&VmemmapRemapper::vmemmap_remap_pte>(*this),
                          models::RemapPte::of<&VmemmapRemapper::vmemmap_restore_pte>(*this)),
        nr_reset_struct_page_(nr_reset_struct_page) {}

  // vmemmap_remap_free(start, end, reuse, vmemmap_pages, flags): remaps
  // [reuse, end) onto a new copy of the page at reuse (RW at reuse, RO
  // after), depositing the old pages on vmemmap_pages for the caller to
  // free. On -ENOMEM the part already remapped is walked back with the
  // deposited pages (one stays on the list: the caller frees it).
  [[nodiscard]] VmemmapResult vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                 std::deque<Pfn>& vmemmap_pages, VmemmapWalkFlags flags) {
    return VmemmapRemapper6x::vmemmap_remap_free(start, end, reuse, std::nullopt, vmemmap_pages, flags);
  }
  // vmemmap_remap_alloc(start, end, reuse, flags): allocates the pages
  // first (all or none), then maps each, a copy of the page at reuse,
  // read-write. kNoMemory when the pages cannot be had; nothing changed.
  [[nodiscard]] VmemmapResult vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                  VmemmapWalkFlags flags) {
    return VmemmapRemapper6x::vmemmap_remap_alloc(start, end, reuse, std::nullopt, flags);
  }

 private:
  // walk->remap_pte of vmemmap_remap_free(): the new head page read-write
  // at the reuse address, read-only at every other one.
  void vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // walk->remap_pte of vmemmap_remap_alloc(): the next page of the list, a
  // copy of the head's vmemmap page with its first struct pages reset.
  void vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // reset_struct_pages(to): page[0..n) of a restored copy = page[n..2n).
  void reset_struct_pages(Pfn page);

  const unsigned nr_reset_struct_page_;
};

}  // namespace hvo::v6_10
