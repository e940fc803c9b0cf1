#include "models/common/vmemmap_remap_6x.h"

#include "engine/pte.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::models {

namespace {
// vmemmap_remap_free()'s new head page: GFP_KERNEL | __GFP_NORETRY |
// __GFP_NOWARN, "Fallback to the currently mapped head page in case should
// it fail to allocate."
constexpr Gfp kGfpNewHeadPage = Gfp::kKernel | Gfp::kNoRetry | Gfp::kNoWarn;
// alloc_vmemmap_page_list(): GFP_KERNEL | __GFP_RETRY_MAYFAIL (6.x).
constexpr Gfp kGfpRestorePage = Gfp::kKernel | Gfp::kRetryMayFail;
}  // namespace

void VmemmapRemapper6x::copy_page_from_vmemmap(Pfn to, VmemmapAddr from) {
  sched_point(SchedEvent::kMemCopy, from.value(), to.value());
  const Translation t = m_.mmu().translate(current().cpu, from, AccessType::kRead);
  if (t.ok) m_.mem().copy_page(to, t.frame);
}

// --- the walk ------------------------------------------------------------------------

VmemmapResult VmemmapRemapper6x::vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk,
                                                     bool splitting) {
  if (checks_.bug_on(start.value() % kPageSize != 0 || end.value() % kPageSize != 0,
                     "VM_BUG_ON(!PAGE_ALIGNED(start | end))", walk.bugged))
    return VmemmapResult::kBug;
  VmemmapResult ret;
  RwSemaphore& mmap_lock = m_.page_tables().init_mm().mmap_lock;
  if (splitting && split_.fixes().mmap_write_lock()) {
    // d8d55f5616cf reverted: the walk that may split excludes every other
    // walk, as vmemmap_remap_free() did in 5.15-5.16.
    WriteGuard g(mmap_lock);  // mmap_write_lock(&init_mm)
    ret = walk_page_range_novma(start, end, walk);
  } else {
    ReadGuard g(mmap_lock);  // mmap_read_lock(&init_mm)
    ret = walk_page_range_novma(start, end, walk);
  }
  if (ret != VmemmapResult::kOk) return ret;
  // Planted (remap-without-flush): the PTEs changed, no flush for them.
  const bool no_flush = planted_ != nullptr && planted_->has(PlantedBugs::kRemapWithoutFlush);
  if (walk.remap_pte && (walk.flags & VMEMMAP_REMAP_NO_TLB_FLUSH) == 0 && !no_flush)
    m_.mmu().flush_tlb_kernel_range(start, end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper6x::walk_page_range_novma(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk) {
  KernelPageTables& pt = m_.page_tables();
  pt.init_mm().mmap_lock.AssertHeld();  // mmap_assert_locked(walk.mm)
  VmemmapAddr addr = start;
  PhysAddr pgd = pt.pgd_offset_k(addr);
  do {
    const VmemmapAddr next = addr_end(addr, end, kPgdShift);
    // walk_p4d_range() is folded: straight to the puds.
    const VmemmapResult ret = walk_pud_range(pgd, addr, next, walk);
    if (ret != VmemmapResult::kOk) return ret;
    pgd = pgd + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper6x::walk_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
                                                VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pud = checks_.offset(pgd, pud_index(addr.value()), walk.bugged);
  if (!pud) return VmemmapResult::kBug;
  do {
    const VmemmapAddr next = addr_end(addr, end, kPudShift);
    const VmemmapResult ret = walk_pmd_range(*pud, addr, next, walk);
    if (ret != VmemmapResult::kOk) return ret;
    *pud = *pud + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper6x::walk_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                                VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pmd = checks_.offset(pud, pmd_index(addr.value()), walk.bugged);
  if (!pmd) return VmemmapResult::kBug;
  for (;;) {
    const VmemmapAddr next = addr_end(addr, end, kPmdShift);
    // pmd_none(*pmd): a hole; vmemmap_remap_ops has no pte_hole callback.
    if (!pte_none(m_.page_tables().read_entry(*pmd))) {
      WalkAction action = WalkAction::kSubtree;
      const VmemmapResult ret =
          split_.vmemmap_pmd_entry(*pmd, addr, /*split_only=*/!walk.remap_pte, walk.flags, action);
      if (ret != VmemmapResult::kOk) return ret;
      // `if ((!walk->vma && (pmd_leaf(*pmd) || !pmd_present(*pmd))) ||
      // walk->action == ACTION_CONTINUE || !(ops->pte_entry)) continue;`
      const PteValue e = m_.page_tables().read_entry(*pmd);
      if (action == WalkAction::kSubtree && pte_present(e) && !pmd_leaf(e)) {
        walk_pte_range(*pmd, addr, next, walk);
        if (walk.bugged) return VmemmapResult::kBug;
      }
    }
    *pmd = *pmd + sizeof(uint64_t);
    addr = next;
    if (addr == end) return VmemmapResult::kOk;
  }
}

void VmemmapRemapper6x::walk_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk) {
  // pte_offset_kernel(pmd, addr): init_mm's PTE tables are neither mapped
  // per walk nor locked.
  std::optional<PhysAddr> pte = checks_.offset(pmd, pte_index(addr.value()), walk.bugged);
  if (!pte) return;
  for (;;) {
    vmemmap_pte_entry(*pte, addr, walk);
    if (walk.bugged || addr.value() >= end.value() - kPageSize) return;
    addr = addr + kPageSize;
    *pte = *pte + sizeof(uint64_t);
  }
}

void VmemmapRemapper6x::vmemmap_pte_entry(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  // "The reuse_page is found 'first' in page table walking before starting
  // remapping." Unless vmemmap_remap_free() brought its own (the new head
  // page): then the reuse address itself is remapped too.
  if (!walk.reuse_page) {
    walk.reuse_page = checks_.pte_page(m_.page_tables().read_entry(pte), walk.bugged);
    if (!walk.reuse_page) return;
  } else {
    walk.remap_pte(pte, addr, walk);  // walk->remap_pte(pte, addr, walk)
    if (walk.bugged) return;
  }
  ++walk.nr_walked;
}

// --- remapping -----------------------------------------------------------------------

VmemmapResult VmemmapRemapper6x::vmemmap_remap_split(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse) {
  OperationScope op("vmemmap_remap_split");
  VmemmapRemapWalk walk;
  walk.flags = VMEMMAP_SPLIT_NO_TLB_FLUSH;
  // "See the comment in the vmemmap_remap_free()."
  if (checks_.bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk.bugged))
    return VmemmapResult::kBug;
  return vmemmap_remap_range(reuse, end, walk, /*splitting=*/true);
}

VmemmapResult VmemmapRemapper6x::vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                    std::optional<Pfn> vmemmap_tail, std::deque<Pfn>& vmemmap_pages,
                                                    VmemmapWalkFlags flags) {
  OperationScope op("vmemmap_remap_free");
  VmemmapRemapWalk walk;
  walk.remap_pte = remap_pte_;
  walk.reuse_addr = reuse;
  walk.vmemmap_tail = vmemmap_tail;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  // "Allocate a new head vmemmap page to avoid breaking a contiguous block
  // of struct page memory when freeing it back to page allocator in
  // free_vmemmap_page_list()." The copy is taken now, before the walk:
  // a store to the head's struct pages between here and the head's PTE
  // switch goes to the old page and is lost, which is why the folio must
  // be frozen (2b21624fc232) and why its optimized flag is set before.
  walk.reuse_page = m_.page_alloc().alloc_pages(kGfpNewHeadPage, Order(0), FrameState::kVmemmap);
  if (walk.reuse_page) {
    copy_page_from_vmemmap(*walk.reuse_page, walk.reuse_addr);
    vmemmap_pages.push_front(*walk.reuse_page);  // list_add(&walk.reuse_page->lru, vmemmap_pages)
  }
  // "The range [@start, @end) and the range [@reuse, @reuse + PAGE_SIZE)
  // should be continuous ... The @reuse address is the first in the
  // complete range."
  if (checks_.bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk.bugged))
    return VmemmapResult::kBug;
  const VmemmapResult ret = vmemmap_remap_range(reuse, end, walk, /*splitting=*/true);
  if (ret == VmemmapResult::kNoMemory && walk.nr_walked != 0) {
    note_error_path(error_path::kRemapFreeFailed);
    // "vmemmap_pages contains pages from the previous vmemmap_remap_range
    // call which failed. These are pages which were removed from the
    // vmemmap. They will be restored in the following call." The head keeps
    // the page it has now (found first); the tails get pages back.
    const VmemmapAddr walked_end = reuse + walk.nr_walked * kPageSize;
    walk = VmemmapRemapWalk{};
    walk.remap_pte = restore_pte_;
    walk.reuse_addr = reuse;
    walk.vmemmap_tail = vmemmap_tail;
    walk.vmemmap_pages = &vmemmap_pages;
    walk.flags = 0;
    (void)vmemmap_remap_range(reuse, walked_end, walk);
  }
  return ret;
}

void VmemmapRemapper6x::free_vmemmap_page_list(std::deque<Pfn>& list) {
  OperationScope op("free_vmemmap_page_list");
  for (Pfn page : list) {
    // free_vmemmap_page(): memblock memory (PG_reserved, the boot vmemmap)
    // goes through free_bootmem_page(), which without
    // CONFIG_HAVE_BOOTMEM_INFO_NODE's bookkeeping is free_reserved_page();
    // a page from buddy (a new head page, a restored page) by __free_page().
    if (m_.pages().test_flag(page, PG_reserved))
      m_.page_alloc().free_reserved_page(page);
    else
      m_.page_alloc().free_pages(page, Order(0));
  }
  list.clear();
}

// --- restoring ---------------------------------------------------------------------------

bool VmemmapRemapper6x::alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, std::deque<Pfn>& list) {
  const uint64_t nr_pages = (end - start) / kPageSize;
  for (uint64_t i = 0; i < nr_pages; ++i) {
    // alloc_pages_node(nid, gfp_mask, 0): one node here.
    const std::optional<Pfn> page = m_.page_alloc().alloc_pages(kGfpRestorePage, Order(0), FrameState::kVmemmap);
    if (!page) {
      for (Pfn p : list) m_.page_alloc().free_pages(p, Order(0));  // __free_page(page)
      list.clear();
      return false;
    }
    list.push_front(*page);  // list_add(&page->lru, list)
  }
  return true;
}

VmemmapResult VmemmapRemapper6x::vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                     std::optional<Pfn> vmemmap_tail, VmemmapWalkFlags flags) {
  OperationScope op("vmemmap_remap_alloc");
  std::deque<Pfn> vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = restore_pte_;
  walk.reuse_addr = reuse;
  walk.vmemmap_tail = vmemmap_tail;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  // "See the comment in the vmemmap_remap_free()."
  if (checks_.bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk.bugged))
    return VmemmapResult::kBug;
  if (!alloc_vmemmap_page_list(start, end, vmemmap_pages)) return VmemmapResult::kNoMemory;
  return vmemmap_remap_range(reuse, end, walk);
}

}  // namespace hvo::models
