// The vmemmap remapping walk of 5.18 (mm/sparse-vmemmap.c):
// vmemmap_remap_free() and vmemmap_remap_alloc() with their walk descriptor
// and remap_pte callbacks, in the kernel's order of operations.
//
// Differences from the v17 walk:
//   - one reserved page (e7d324850bfc): the reuse page is the head's own
//     vmemmap page (page 0); pages 1..N-1 are remapped onto it;
//   - the vmemmap may be PMD-mapped: vmemmap_pmd_range() splits a leaf
//     first (vmemmap_split.h), which can fail with -ENOMEM; a failed
//     vmemmap_remap_free() walks back over what it had remapped;
//   - both entry points hold mmap_read_lock(&init_mm) around the walk
//     (d8d55f5616cf: read, no longer write; splits serialize on
//     init_mm.page_table_lock), so walks on different folios run in parallel;
//     with d8d55f5616cf reverted vmemmap_remap_free() holds the write lock,
//     as 5.15-5.16 did;
//   - the restored pages are copies of the head's vmemmap page, so their
//     first struct pages are copies of the head and page[1], page[2]:
//     reset_struct_pages() overwrites the first NR_RESET_STRUCT_PAGE (3)
//     with a copy of page[3], an ordinary tail;
//   - smp_wmb() between the copy and set_pte_at() in vmemmap_restore_pte()
//     ("Missing smp_wmb() before set_pte_at()", 2022, after 5.18). Revert
//     `restore-wmb` removes it; it matters under a weak memory model only.
//
// Every entry access goes through KernelPageTables with the run's PteAccess
// policy. BUG_ON()s, and the oopses a walk through a corrupt entry would
// cause, are recorded as kBugOn violations and end the walk.
#pragma once

#include <deque>
#include <optional>

#include "engine/gfp.h"
#include "engine/machine.h"
#include "models/planted_bugs.h"
#include "models/common/walk_checks.h"
#include "models/v5_18/vmemmap_split.h"

namespace hvo::v5_18 {

class VmemmapRemapper;

// struct vmemmap_remap_walk.
struct VmemmapRemapWalk {
  void (VmemmapRemapper::*remap_pte)(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) = nullptr;
  std::optional<Pfn> reuse_page;  // found first in the walk
  VmemmapAddr reuse_addr{0};
  // The list of pages: those to free (vmemmap_remap_free) or those to map
  // (vmemmap_remap_alloc); list_add_tail() to the back, list_first_entry()
  // from the front.
  std::deque<Pfn>* vmemmap_pages = nullptr;
  uint64_t nr_walked = 0;  // PTEs walked, the reuse one included
  bool bugged = false;     // a BUG_ON fired: stop walking
};

// vmemmap_remap_free()'s outcome: 0 or -ENOMEM, and the pages it freed.
struct RemapFreeResult {
  VmemmapResult result;
  uint64_t pages_freed;
};

class VmemmapRemapper {
 public:
  VmemmapRemapper(Machine& machine, SplitFixes split_fixes, bool restore_wmb)
      : m_(machine), checks_(machine, "mm/sparse-vmemmap.c"), split_(machine, split_fixes), restore_wmb_(restore_wmb) {}

  // vmemmap_remap_free(start, end, reuse): remaps [start, end) read-only
  // onto the page mapped at reuse (reuse + PAGE_SIZE == start), flushes the
  // TLB for [start, end) and only then frees the old pages. On -ENOMEM (a
  // split could not allocate its table) the part already remapped is
  // restored with the removed pages and nothing is freed.
  // `rollback_short`: a test's planted bug (Model::kPlantedRollbackShort).
  RemapFreeResult vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                     bool rollback_short = false);
  // vmemmap_remap_alloc(start, end, reuse, gfp): allocates the pages first
  // (all or none), then maps each, as a copy of the reuse page, read-write.
  // kNoMemory when the pages cannot be had; nothing is changed then.
  [[nodiscard]] VmemmapResult vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse, Gfp gfp);

  // The model's test-only planted bugs (models/planted_bugs.h), consulted
  // by vmemmap_remap_range()'s flush; set once by the model at construction.
  void set_planted(const PlantedBugs& planted) { planted_ = &planted; }

 private:
  [[nodiscard]] VmemmapResult vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult vmemmap_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
                                              VmemmapRemapWalk& walk);
  [[nodiscard]] VmemmapResult vmemmap_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                              VmemmapRemapWalk& walk);
  void vmemmap_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk);
  void vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  void vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  // reset_struct_pages(to): page[0..2] of a restored page = page[3].
  void reset_struct_pages(Pfn page);
  [[nodiscard]] bool alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, Gfp gfp, std::deque<Pfn>& list);
  void free_vmemmap_page_list(const std::deque<Pfn>& list);

  // pud_offset()/pmd_offset()/pte_offset_kernel(): reads the upper entry
  // and returns the entry for `index` in the table it points to, or nullopt
  // after recording an oops when it points to no page table.
  [[nodiscard]] std::optional<PhysAddr> offset(PhysAddr upper, unsigned index, VmemmapRemapWalk& walk);
  // pte_page(*pte) of an entry read: nullopt (and an oops) if it maps no
  // frame of memory.
  [[nodiscard]] std::optional<Pfn> pte_page(PteValue pte, VmemmapRemapWalk& walk);
  // BUG_ON(cond): records the violation and marks the walk.
  bool bug_on(bool cond, const char* what, VmemmapRemapWalk& walk);

  Machine& m_;
  const PlantedBugs* planted_ = nullptr;
  models::WalkChecks checks_;
  VmemmapSplitter split_;
  const bool restore_wmb_;
};

}  // namespace hvo::v5_18
