// The vmemmap remapping skeleton 6.10 and 7.1 share (mm/hugetlb_vmemmap.c):
// vmemmap_remap_split(), vmemmap_remap_free() and vmemmap_remap_alloc()
// over one page-table walk (vmemmap_remap_range(): walk_page_range_novma()
// with vmemmap_pmd_entry() and vmemmap_pte_entry()), free_vmemmap_page_list()
// and alloc_vmemmap_page_list().
//
// What a generation does to one PTE is its own, as in the kernel, where the
// walk calls walk->remap_pte: each generation's VmemmapRemapper derives from
// this class and hands it its vmemmap_remap_pte() and vmemmap_restore_pte()
// (models/v6_10/vmemmap_remap.h, models/v7_1/vmemmap_remap.h). 7.1's shared
// tail page rides in the walk (VmemmapRemapWalk::vmemmap_tail), unset in 6.10.
//
// Every entry access goes through KernelPageTables with the run's PteAccess
// policy. BUG_ON()s, and the oopses of a walk through a corrupt entry, are
// recorded as kBugOn violations and end the walk.
#pragma once

#include <deque>
#include <optional>

#include "engine/machine.h"
#include "models/common/vmemmap_split_6x.h"
#include "models/common/vmemmap_walk_6x.h"
#include "models/common/walk_checks.h"
#include "models/planted_bugs.h"

namespace hvo::models {

class VmemmapRemapper6x {
 public:
  // vmemmap_remap_split(start, end, reuse): splits the PMDs backing
  // [reuse, end) without flushing (VMEMMAP_SPLIT_NO_TLB_FLUSH).
  [[nodiscard]] VmemmapResult vmemmap_remap_split(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse);
  // free_vmemmap_page_list(list): free_vmemmap_page() of each, emptying it.
  void free_vmemmap_page_list(std::deque<Pfn>& list);
  // The model's test-only planted bugs (models/planted_bugs.h), consulted
  // by vmemmap_remap_range(); set once by the owner at construction.
  void set_planted(const PlantedBugs& planted) { planted_ = &planted; }

 protected:
  // remap_pte and restore_pte: the generation's vmemmap_remap_pte() and
  // vmemmap_restore_pte() (RemapPte::of<&Derived::...>(*this)).
  VmemmapRemapper6x(Machine& machine, SplitFixes split_fixes, RemapPte remap_pte, RemapPte restore_pte)
      : m_(machine),
        checks_(machine, "mm/hugetlb_vmemmap.c"),
        split_(machine, split_fixes),
        remap_pte_(remap_pte),
        restore_pte_(restore_pte) {}

  // vmemmap_remap_free(start, end, reuse, vmemmap_pages, flags): remaps the
  // head's vmemmap page (reuse) onto a new copy of it, read-write, and
  // [start, end) as the generation's remap_pte says (read-only), depositing
  // the old pages on vmemmap_pages for the caller to free after its flush.
  // On -ENOMEM the part already remapped is walked back with the deposited
  // pages (restore_pte; one stays on the list: the caller frees it).
  // vmemmap_tail: 7.1's shared tail page, nullopt in 6.10.
  [[nodiscard]] VmemmapResult vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                 std::optional<Pfn> vmemmap_tail, std::deque<Pfn>& vmemmap_pages,
                                                 VmemmapWalkFlags flags);
  // vmemmap_remap_alloc(start, end, reuse, flags): allocates the pages
  // first (all or none), then maps each as restore_pte fills it, read-write.
  // kNoMemory when the pages cannot be had; nothing changed.
  [[nodiscard]] VmemmapResult vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                  std::optional<Pfn> vmemmap_tail, VmemmapWalkFlags flags);

  // copy_page(page_to_virt(to), (void *)from): the source read through its
  // vmemmap address on this CPU, the destination through the direct map.
  void copy_page_from_vmemmap(Pfn to, VmemmapAddr from);

  Machine& m_;
  WalkChecks checks_;

 private:
  // vmemmap_remap_range(start, end, walk): the walk under
  // mmap_read_lock(&init_mm), then flush_tlb_kernel_range(start, end) for a
  // remapping walk without VMEMMAP_REMAP_NO_TLB_FLUSH.
  // `splitting`: the walk of vmemmap_remap_split() or vmemmap_remap_free(),
  // which takes mmap_write_lock(&init_mm) instead when d8d55f5616cf is
  // reverted (SplitFixes::mmap_write_lock()).
  [[nodiscard]] VmemmapResult vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk,
                                                  bool splitting = false);
  // walk_page_range_novma(&init_mm, start, end, &vmemmap_remap_ops, NULL,
  // walk): walk_pgd_range() -> walk_pud_range() -> walk_pmd_range() ->
  // walk_pte_range() (the p4d level is folded).
  [[nodiscard]] VmemmapResult walk_page_range_novma(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult walk_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
                                             VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult walk_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                             VmemmapRemapWalk& walk);
  void walk_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  // vmemmap_pte_entry(): the reuse page first (unless the walk brought a
  // new one), remap_pte() for the rest.
  void vmemmap_pte_entry(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  [[nodiscard]] bool alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, std::deque<Pfn>& list);

  VmemmapSplitter split_;
  const PlantedBugs* planted_ = nullptr;
  const RemapPte remap_pte_;
  const RemapPte restore_pte_;
};

}  // namespace hvo::models
