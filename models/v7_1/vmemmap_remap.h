// The vmemmap remapping of 7.1 (mm/hugetlb_vmemmap.c after "mm/hugetlb:
// Remove fake head pages", 622026e87c40): the PTE callbacks
// vmemmap_remap_pte() and vmemmap_restore_pte(), which the 6.x walk
// (models/common/vmemmap_remap_6x.h: vmemmap_remap_split(),
// vmemmap_remap_free(), vmemmap_remap_alloc() over the generic
// walk_page_range_novma()) calls for each PTE, and the split reverts.
//
// Differences from 6.10 (models/v6_10/vmemmap_remap.h):
//   - the walk carries two pages: the head's new private page (a copy of
//     the head's vmemmap page, mapped read-write at the head address, as
//     11aad2631bf7 made it in 6.x) and the zone's shared tail page for the
//     folio's order (vmemmap_tails.h), mapped read-only at every other
//     vmemmap page of the folio. No vmemmap page aliases the head, so there
//     are no fake heads. If the new head page cannot be had, the old head
//     page is kept where it is (found first, not remapped);
//   - restore (vmemmap_restore_pte()) no longer copies the head's page and
//     resets NR_RESET_STRUCT_PAGE struct pages: it fills each new page with
//     copies of one valid tail, the last struct page of the head's vmemmap
//     page ("Use the value last tail page in the page with the head page to
//     initialize the rest of tail pages"), then smp_wmb() and set_pte_at().
//     Revert `restore-wmb` drops the smp_wmb() (fix 4 of docs/hvo-history.md;
//     only a weak memory model tells).
//
// The public record of the series is thin on the exact shape of
// vmemmap_remap_free() in the merged version; the head page follows the
// 6.x code (a new copy, the old page freed with the tails) as
// docs/hvo-history.md describes 7.1: "the head gets a private RW page".
#pragma once

#include <deque>

#include "engine/machine.h"
#include "models/common/vmemmap_remap_6x.h"
#include "models/common/vmemmap_split_6x.h"
#include "models/common/vmemmap_walk_6x.h"

namespace hvo::v7_1 {

using models::SplitFixes;
using models::VMEMMAP_REMAP_NO_TLB_FLUSH;
using models::VMEMMAP_SPLIT_NO_TLB_FLUSH;
using models::VmemmapRemapWalk;
using models::VmemmapResult;
using models::VmemmapWalkFlags;

class VmemmapRemapper : public models::VmemmapRemapper6x {
 public:
  // split_fixes: d8d55f5616cf, 3ce2c24cb68f (models/common/vmemmap_split_6x.h).
  VmemmapRemapper(Machine& machine, SplitFixes split_fixes, bool restore_wmb)
      : VmemmapRemapper6x(machine, split_fixes, models::RemapPte::of<&VmemmapRemapper::vmemmap_remap_pte>(*this),
                          models::RemapPte::of<&VmemmapRemapper::vmemmap_restore_pte>(*this)),
        restore_wmb_(restore_wmb) {}

  // vmemmap_remap_free(start, end, reuse, vmemmap_tail, vmemmap_pages,
  // flags): remaps the head's vmemmap page (reuse) onto a new copy of it,
  // read-write, and [start, end) onto vmemmap_tail read-only, depositing the
  // old pages on vmemmap_pages for the caller to free after its flush. On
  // -ENOMEM the part already remapped is walked back with the deposited
  // pages.
  [[nodiscard]] VmemmapResult vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                 Pfn vmemmap_tail, std::deque<Pfn>& vmemmap_pages,
                                                 VmemmapWalkFlags flags) {
    return VmemmapRemapper6x::vmemmap_remap_free(start, end, reuse, vmemmap_tail, vmemmap_pages, flags);
  }
  // vmemmap_remap_alloc(start, end, reuse, vmemmap_tail, flags): allocates
  // the pages first (all or none), then maps each, filled with copies of a
  // valid tail, read-write. kNoMemory when the pages cannot be had.
  [[nodiscard]] VmemmapResult vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                  Pfn vmemmap_tail, VmemmapWalkFlags flags) {
    return VmemmapRemapper6x::vmemmap_remap_alloc(start, end, reuse, vmemmap_tail, flags);
  }

 private:
  // walk->remap_pte of vmemmap_remap_free(): the head's new page read-write
  // at the reuse address, the shared tail page read-only at every other one.
  void vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // walk->remap_pte of vmemmap_remap_alloc(): the next page of the list,
  // filled with copies of a valid tail.
  void vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // `for (i..) *to++ = *from`: fills `page` with copies of the struct page
  // at vmemmap address `from`, read through the MMU on this CPU, written
  // through the direct map (the page is not mapped yet).
  void fill_with_copies_of(Pfn page, VmemmapAddr from);

  const bool restore_wmb_;
};

}  // namespace hvo::v7_1
