// The vmemmap remapping of 6.10 (mm/hugetlb_vmemmap.c): vmemmap_remap_split(),
// vmemmap_remap_free() and vmemmap_remap_alloc() over one page-table walk
// (vmemmap_remap_range(): walk_page_range_novma() with vmemmap_pmd_entry()
// and vmemmap_pte_entry()), and the PTE callbacks vmemmap_remap_pte() and
// vmemmap_restore_pte().
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
//
// Every entry access goes through KernelPageTables with the run's PteAccess
// policy. BUG_ON()s, and the oopses of a walk through a corrupt entry, are
// recorded as kBugOn violations and end the walk.
#pragma once

#include <deque>
#include <optional>

#include "engine/gfp.h"
#include "engine/machine.h"
#include "models/common/walk_checks.h"
#include "models/v6_10/vmemmap_split.h"
#include "models/v6_10/vmemmap_walk.h"

namespace hvo::v6_10 {

// NR_RESET_STRUCT_PAGE: 4 ("one head struct page struct and three tail
// struct page structs"); 3 before the 2025 fix.
inline constexpr unsigned kNrResetStructPage = 4;
inline constexpr unsigned kNrResetStructPageBefore2025 = 3;

class VmemmapRemapper {
 public:
  VmemmapRemapper(Machine& machine, unsigned nr_reset_struct_page)
      : m_(machine), checks_(machine, "mm/hugetlb_vmemmap.c"), split_(machine), nr_reset_struct_page_(nr_reset_struct_page) {}

  // vmemmap_remap_split(start, end, reuse): splits the PMDs backing
  // [reuse, end) without flushing (VMEMMAP_SPLIT_NO_TLB_FLUSH).
  [[nodiscard]] VmemmapResult vmemmap_remap_split(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse);
  // vmemmap_remap_free(start, end, reuse, vmemmap_pages, flags): remaps
  // [reuse, end) onto a new copy of the page at reuse (RW at reuse, RO
  // after), depositing the old pages on vmemmap_pages for the caller to
  // free. On -ENOMEM the part already remapped is walked back with the
  // deposited pages (one stays on the list: the caller frees it).
  [[nodiscard]] VmemmapResult vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                 std::deque<Pfn>& vmemmap_pages, VmemmapWalkFlags flags);
  // vmemmap_remap_alloc(start, end, reuse, flags): allocates the pages
  // first (all or none), then maps each, a copy of the page at reuse,
  // read-write. kNoMemory when the pages cannot be had; nothing changed.
  [[nodiscard]] VmemmapResult vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                  VmemmapWalkFlags flags);
  // free_vmemmap_page_list(list): free_vmemmap_page() of each, emptying it.
  void free_vmemmap_page_list(std::deque<Pfn>& list);

 private:
  // vmemmap_remap_range(start, end, walk): the walk under
  // mmap_read_lock(&init_mm), then flush_tlb_kernel_range(start, end) for a
  // remapping walk without VMEMMAP_REMAP_NO_TLB_FLUSH.
  [[nodiscard]] VmemmapResult vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  // walk_page_range_novma(&init_mm, start, end, &vmemmap_remap_ops, NULL,
  // walk): walk_pgd_range() -> walk_pud_range() -> walk_pmd_range() ->
  // walk_pte_range() (the p4d level is folded).
  [[nodiscard]] VmemmapResult walk_page_range_novma(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult walk_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
                                             VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult walk_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                             VmemmapRemapWalk& walk);
  void walk_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  // vmemmap_pte_entry(): the reuse page first, remap_pte() for the rest.
  void vmemmap_pte_entry(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  void vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  void vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // reset_struct_pages(to): page[0..n) of a restored copy = page[n..2n).
  void reset_struct_pages(Pfn page);
  // copy_page(page_to_virt(to), (void *)from): the source read through its
  // vmemmap address on this CPU, the destination through the direct map.
  void copy_page_from_vmemmap(Pfn to, VmemmapAddr from);
  [[nodiscard]] bool alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, std::deque<Pfn>& list);

  // pud_offset()/pmd_offset()/pte_offset_kernel(): the entry for `index`
  // in the table `upper` points to, or nullopt after an oops when it points
  // to no page table.
  [[nodiscard]] std::optional<PhysAddr> offset(PhysAddr upper, unsigned index, VmemmapRemapWalk& walk);
  // pte_page(ptep_get(pte)): nullopt (and an oops) if it maps no frame.
  [[nodiscard]] std::optional<Pfn> pte_page(PteValue pte, VmemmapRemapWalk& walk);
  // BUG_ON(cond): records the violation and marks the walk.
  bool bug_on(bool cond, const char* what, VmemmapRemapWalk& walk);

  Machine& m_;
  models::WalkChecks checks_;
  VmemmapSplitter split_;
  const unsigned nr_reset_struct_page_;
};

}  // namespace hvo::v6_10
