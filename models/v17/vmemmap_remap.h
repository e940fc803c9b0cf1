// The vmemmap remapping walk of the v17 series (mm/sparse-vmemmap.c):
// vmemmap_remap_free() and vmemmap_remap_alloc(), with their walk
// descriptor and remap_pte callbacks, step for step as posted.
//
// As posted, the walk takes no lock and reads entries with plain `*pte`;
// every entry access here goes through KernelPageTables with the run's
// PteAccess policy, so `--pte-access plain` is the patch as posted and
// `--pte-access once` the READ_ONCE()/WRITE_ONCE() the review asked about.
// Where the kernel reads an entry twice (BUG_ON(pmd_leaf(*pmd)) and then
// pte_offset_kernel(pmd, addr)), so does this.
//
// The patch's BUG_ON()s are recorded as kBugOn violations and end the walk.
#pragma once

#include <optional>
#include <vector>

#include "engine/gfp.h"
#include "engine/machine.h"
#include "models/planted_bugs.h"
#include "models/common/walk_checks.h"

namespace hvo::v17 {

class VmemmapRemapper;

// struct vmemmap_remap_walk.
struct VmemmapRemapWalk {
  // The callback for each PTE of the range after the reuse page.
  void (VmemmapRemapper::*remap_pte)(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) = nullptr;
  std::optional<Pfn> reuse_page;  // found first in the walk
  VmemmapAddr reuse_addr{0};
  std::vector<Pfn>* vmemmap_pages = nullptr;  // the list of pages to free, or the pages to map
  bool bugged = false;                        // a BUG_ON fired: stop walking
};

class VmemmapRemapper {
 public:
  explicit VmemmapRemapper(Machine& machine) : m_(machine), checks_(machine, "mm/sparse-vmemmap.c") {}

  // vmemmap_remap_free(start, end, reuse): remaps [start, end) read-only
  // onto the page mapped at reuse (reuse + PAGE_SIZE == start), flushes the
  // TLB for [start, end) and only then frees the old pages. Returns the
  // number of pages freed.
  uint64_t vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse);
  // vmemmap_remap_alloc(start, end, reuse, gfp): allocates the pages first
  // (all or none), then copies the reuse page into each and maps it
  // read-write. False (-ENOMEM) when the pages cannot be had; nothing is
  // changed then.
  [[nodiscard]] bool vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse, Gfp gfp);

  // The model's test-only planted bugs (models/planted_bugs.h), consulted
  // by vmemmap_remap_range()'s flush; set once by the model at construction.
  void set_planted(const PlantedBugs& planted) { planted_ = &planted; }

 private:
  void vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  void vmemmap_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  void vmemmap_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  void vmemmap_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  void vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  void vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  [[nodiscard]] bool alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, Gfp gfp, std::vector<Pfn>& list);
  void free_vmemmap_page_list(const std::vector<Pfn>& list);

  // pud_offset()/pmd_offset()/pte_offset_kernel(): reads the upper entry
  // (again) and returns the entry for addr in the table it points to, or
  // nullopt after recording a BUG when it does not point to a page table.
  [[nodiscard]] std::optional<PhysAddr> offset(PhysAddr upper, unsigned index, VmemmapRemapWalk& walk);
  // pte_page(*pte) for an entry read: nullopt (and a BUG) if it maps no
  // frame of memory.
  [[nodiscard]] std::optional<Pfn> pte_page(PteValue pte, VmemmapRemapWalk& walk);
  // BUG_ON(cond): records the violation and marks the walk.
  bool bug_on(bool cond, const char* what, VmemmapRemapWalk& walk);

  Machine& m_;
  const PlantedBugs* planted_ = nullptr;
  models::WalkChecks checks_;
};

}  // namespace hvo::v17
