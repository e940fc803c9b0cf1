// The vmemmap remapping of 7.1 (mm/hugetlb_vmemmap.c after "mm/hugetlb:
// Remove fake head pages", 622026e87c40): vmemmap_remap_split(),
// vmemmap_remap_free() and vmemmap_remap_alloc() over the generic page-table
// walk (walk_page_range_novma() with vmemmap_pmd_entry() and
// vmemmap_pte_entry()), and the PTE callbacks vmemmap_remap_pte() and
// vmemmap_restore_pte().
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
//     Revert `restore-wmb` drops the smp_wmb() (fix 4 of HVO-HISTORY.md;
//     only a weak memory model tells).
//
// The public record of the series is thin on the exact shape of
// vmemmap_remap_free() in the merged version; the head page follows the
// 6.x code (a new copy, the old page freed with the tails) as
// HVO-HISTORY.md describes 7.1: "the head gets a private RW page".
#pragma once

#include <deque>
#include <optional>

#include "engine/gfp.h"
#include "engine/machine.h"
#include "models/common/walk_checks.h"
#include "models/v6_10/vmemmap_walk.h"
#include "models/v7_1/vmemmap_split.h"

namespace hvo::v7_1 {

using v6_10::VMEMMAP_REMAP_NO_TLB_FLUSH;
using v6_10::VMEMMAP_SPLIT_NO_TLB_FLUSH;

class VmemmapRemapper;

// struct vmemmap_remap_walk of 7.1.
struct VmemmapRemapWalk {
  // Called for each PTE after the reuse one; null for a split-only walk.
  void (VmemmapRemapper::*remap_pte)(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) = nullptr;
  uint64_t nr_walked = 0;         // PTEs walked, the reuse one included
  std::optional<Pfn> reuse_page;  // the head's new page, or the old one found first in the walk
  VmemmapAddr reuse_addr{0};      // the head's vmemmap page
  std::optional<Pfn> vmemmap_tail;  // the zone's shared tail page for the folio's order
  // The vmemmap pages to free (remap) or to map (restore), list_add() to
  // the front and list_first_entry() from the front, as the kernel's list.
  std::deque<Pfn>* vmemmap_pages = nullptr;
  VmemmapWalkFlags flags = 0;
  bool bugged = false;  // a BUG_ON fired: stop walking
};

class VmemmapRemapper {
 public:
  VmemmapRemapper(Machine& machine, SplitFixes split_fixes, bool restore_wmb)
      : m_(machine), checks_(machine, "mm/hugetlb_vmemmap.c"), split_(machine, split_fixes), restore_wmb_(restore_wmb) {}

  // vmemmap_remap_split(start, end, reuse): splits the PMDs backing
  // [reuse, end) without flushing (VMEMMAP_SPLIT_NO_TLB_FLUSH).
  [[nodiscard]] VmemmapResult vmemmap_remap_split(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse);
  // vmemmap_remap_free(start, end, reuse, vmemmap_tail, vmemmap_pages,
  // flags): remaps the head's vmemmap page (reuse) onto a new copy of it,
  // read-write, and [start, end) onto vmemmap_tail read-only, depositing the
  // old pages on vmemmap_pages for the caller to free after its flush. On
  // -ENOMEM the part already remapped is walked back with the deposited
  // pages.
  [[nodiscard]] VmemmapResult vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                 Pfn vmemmap_tail, std::deque<Pfn>& vmemmap_pages,
                                                 VmemmapWalkFlags flags);
  // vmemmap_remap_alloc(start, end, reuse, vmemmap_tail, flags): allocates
  // the pages first (all or none), then maps each, filled with copies of a
  // valid tail, read-write. kNoMemory when the pages cannot be had.
  [[nodiscard]] VmemmapResult vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                  Pfn vmemmap_tail, VmemmapWalkFlags flags);
  // free_vmemmap_page_list(list): free_vmemmap_page() of each, emptying it.
  void free_vmemmap_page_list(std::deque<Pfn>& list);

 private:
  // vmemmap_remap_range(start, end, walk): the walk under
  // mmap_read_lock(&init_mm), then flush_tlb_kernel_range(start, end) for a
  // remapping walk without VMEMMAP_REMAP_NO_TLB_FLUSH.
  [[nodiscard]] VmemmapResult vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  // walk_page_range_novma() -> walk_pgd/pud/pmd/pte_range() (p4d folded).
  [[nodiscard]] VmemmapResult walk_page_range_novma(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult walk_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
                                             VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult walk_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                             VmemmapRemapWalk& walk);
  void walk_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  // vmemmap_pte_entry(): the reuse page first (unless the walk brought a
  // new one), remap_pte() for the rest.
  void vmemmap_pte_entry(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  void vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  void vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // copy_page(page_to_virt(to), (void *)from) through from's vmemmap
  // address on this CPU.
  void copy_page_from_vmemmap(Pfn to, VmemmapAddr from);
  // `for (i..) *to++ = *from`: fills `page` with copies of the struct page
  // at vmemmap address `from`, read through the MMU on this CPU, written
  // through the direct map (the page is not mapped yet).
  void fill_with_copies_of(Pfn page, VmemmapAddr from);
  [[nodiscard]] bool alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, std::deque<Pfn>& list);

  Machine& m_;
  models::WalkChecks checks_;
  VmemmapSplitter split_;
  const bool restore_wmb_;
};

}  // namespace hvo::v7_1
