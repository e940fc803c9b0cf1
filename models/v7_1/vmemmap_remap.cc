#include "models/v7_1/vmemmap_remap.h"

#include <algorithm>
#include <array>
#include <atomic>

#include "engine/check.h"
#include "engine/pte.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/v5_18/set_pte.h"

namespace hvo::v7_1 {

using models::addr_end;

namespace {
// The head's new page: GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, "Fallback
// to the currently mapped head page in case should it fail to allocate."
constexpr Gfp kGfpNewHeadPage = Gfp::kKernel | Gfp::kNoRetry | Gfp::kNoWarn;
// alloc_vmemmap_page_list(): GFP_KERNEL | __GFP_RETRY_MAYFAIL.
constexpr Gfp kGfpRestorePage = Gfp::kKernel | Gfp::kRetryMayFail;
// The struct page restore copies: the last one of the head's vmemmap page,
// an ordinary tail (the folio's own fields live in page[1..3]).
constexpr uint64_t kLastTailOfTheHeadPage = kStructPagesPerPage - 1;
}  // namespace

void VmemmapRemapper::copy_page_from_vmemmap(Pfn to, VmemmapAddr from) {
  sched_point(SchedEvent::kMemCopy, from.value(), to.value());
  const Translation t = m_.mmu().translate(current().cpu, from, AccessType::kRead);
  if (t.ok) m_.mem().copy_page(to, t.frame);
}

void VmemmapRemapper::fill_with_copies_of(Pfn page, VmemmapAddr from) {
  sched_point(SchedEvent::kMemCopy, from.value(), page.value());
  const Translation t = m_.mmu().translate(current().cpu, from, AccessType::kRead);
  if (!t.ok) return;  // recorded by the MMU
  const PhysAddr src = pfn_to_phys(t.frame) + from.value() % kPageSize;
  std::array<uint64_t, kStructPageSize / sizeof(uint64_t)> words{};
  for (uint64_t w = 0; w < words.size(); ++w)
    words[w] = m_.mem().load<uint64_t>(src + w * sizeof(uint64_t), std::memory_order_relaxed);
  const PhysAddr dst = pfn_to_phys(page);
  for (uint64_t i = 0; i < kStructPagesPerPage; ++i)
    for (uint64_t w = 0; w < words.size(); ++w)
      m_.mem().store<uint64_t>(dst + i * kStructPageSize + w * sizeof(uint64_t), words[w], std::memory_order_relaxed);
}

// --- the walk (the generic walk_page_range_novma(), as 6.x) ---------------------------------

VmemmapResult VmemmapRemapper::vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk) {
  if (checks_.bug_on(start.value() % kPageSize != 0 || end.value() % kPageSize != 0,
                     "VM_BUG_ON(!PAGE_ALIGNED(start | end))", walk.bugged))
    return VmemmapResult::kBug;
  VmemmapResult ret;
  {
    ReadGuard g(m_.page_tables().init_mm().mmap_lock);  // mmap_read_lock(&init_mm)
    ret = walk_page_range_novma(start, end, walk);
  }
  if (ret != VmemmapResult::kOk) return ret;
  if (walk.remap_pte != nullptr && (walk.flags & VMEMMAP_REMAP_NO_TLB_FLUSH) == 0)
    m_.mmu().flush_tlb_kernel_range(start, end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper::walk_page_range_novma(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk) {
  KernelPageTables& pt = m_.page_tables();
  pt.init_mm().mmap_lock.AssertHeld();  // mmap_assert_locked(walk.mm)
  VmemmapAddr addr = start;
  PhysAddr pgd = pt.pgd_offset_k(addr);
  do {
    const VmemmapAddr next = addr_end(addr, end, kPgdShift);
    const VmemmapResult ret = walk_pud_range(pgd, addr, next, walk);  // p4d folded
    if (ret != VmemmapResult::kOk) return ret;
    pgd = pgd + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper::walk_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
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

VmemmapResult VmemmapRemapper::walk_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                              VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pmd = checks_.offset(pud, pmd_index(addr.value()), walk.bugged);
  if (!pmd) return VmemmapResult::kBug;
  for (;;) {
    const VmemmapAddr next = addr_end(addr, end, kPmdShift);
    // pmd_none(*pmd): a hole; vmemmap_remap_ops has no pte_hole callback.
    if (!pte_none(m_.page_tables().read_entry(*pmd))) {
      WalkAction action = WalkAction::kSubtree;
      const VmemmapResult ret =
          split_.vmemmap_pmd_entry(*pmd, addr, /*split_only=*/walk.remap_pte == nullptr, walk.flags, action);
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

void VmemmapRemapper::walk_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk) {
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

void VmemmapRemapper::vmemmap_pte_entry(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  // "The reuse_page is found 'first' in page table walking before starting
  // remapping", unless vmemmap_remap_free() brought the head's new page:
  // then the head address itself is remapped too.
  if (!walk.reuse_page) {
    walk.reuse_page = checks_.pte_page(m_.page_tables().read_entry(pte), walk.bugged);
    if (!walk.reuse_page) return;
  } else {
    (this->*walk.remap_pte)(pte, addr, walk);
    if (walk.bugged) return;
  }
  ++walk.nr_walked;
}

// --- remapping -------------------------------------------------------------------------

void VmemmapRemapper::vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  const std::optional<Pfn> page = checks_.pte_page(m_.page_tables().read_entry(pte), walk.bugged);
  if (!page) return;
  Pfn target = *walk.vmemmap_tail;
  // "Remap the tail pages as read-only to catch illegal write operation to
  // the tail pages": every one onto the zone's shared tail page.
  uint64_t pgprot = kPageKernelRo;
  if (addr == walk.reuse_addr) {
    // The head's vmemmap page: its own new page, read-write.
    pgprot = kPageKernel;
    target = *walk.reuse_page;
    // list_del(&walk->reuse_page->lru): the new head page is kept, not freed.
    std::deque<Pfn>& list = *walk.vmemmap_pages;
    const auto it = std::find(list.begin(), list.end(), target);
    HVO_CHECK(it != list.end(), "the new head page is not on the walk's list");
    list.erase(it);
    // smp_wmb(): "Makes sure that preceding stores to the page contents from
    // vmemmap_remap_free() become visible before the set_pte_at() write."
    // Release fence: store->store. The shared tail page needs none here: the
    // cmpxchg() that published it was fully ordered (vmemmap_tails.h).
    smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  }
  walk.vmemmap_pages->push_front(*page);  // list_add(&page->lru, walk->vmemmap_pages)
  // set_pte_at(&init_mm, addr, pte, mk_pte(target, pgprot))
  (void)v5_18::set_pte_at(m_, pte, addr, pfn_pte(target, pgprot));
}

VmemmapResult VmemmapRemapper::vmemmap_remap_split(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse) {
  OperationScope op("vmemmap_remap_split");
  VmemmapRemapWalk walk;
  walk.flags = VMEMMAP_SPLIT_NO_TLB_FLUSH;
  if (checks_.bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk.bugged))
    return VmemmapResult::kBug;
  return vmemmap_remap_range(reuse, end, walk);
}

VmemmapResult VmemmapRemapper::vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                  Pfn vmemmap_tail, std::deque<Pfn>& vmemmap_pages,
                                                  VmemmapWalkFlags flags) {
  OperationScope op("vmemmap_remap_free");
  VmemmapRemapWalk walk;
  walk.remap_pte = &VmemmapRemapper::vmemmap_remap_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_tail = vmemmap_tail;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  // The head's private page: a copy of its vmemmap page, taken before the
  // walk. A store to the head's struct pages between the copy and the
  // head's PTE switch would go to the old page and be lost: the folio is
  // frozen (2b21624fc232) and its optimized flag set before the copy.
  walk.reuse_page = m_.page_alloc().alloc_pages(kGfpNewHeadPage, Order(0), FrameState::kVmemmap);
  if (walk.reuse_page) {
    copy_page_from_vmemmap(*walk.reuse_page, walk.reuse_addr);
    vmemmap_pages.push_front(*walk.reuse_page);  // list_add(&walk.reuse_page->lru, vmemmap_pages)
  }
  if (checks_.bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk.bugged))
    return VmemmapResult::kBug;
  const VmemmapResult ret = vmemmap_remap_range(reuse, end, walk);
  if (ret == VmemmapResult::kNoMemory && walk.nr_walked != 0) {
    // "vmemmap_pages contains pages from the previous vmemmap_remap_range
    // call which failed. These are pages which were removed from the
    // vmemmap. They will be restored in the following call." The head keeps
    // the page it has now (found first); the tails get pages back.
    const VmemmapAddr walked_end = reuse + walk.nr_walked * kPageSize;
    walk = VmemmapRemapWalk{};
    walk.remap_pte = &VmemmapRemapper::vmemmap_restore_pte;
    walk.reuse_addr = reuse;
    walk.vmemmap_tail = vmemmap_tail;
    walk.vmemmap_pages = &vmemmap_pages;
    walk.flags = 0;
    (void)vmemmap_remap_range(reuse, walked_end, walk);
  }
  return ret;
}

void VmemmapRemapper::free_vmemmap_page_list(std::deque<Pfn>& list) {
  OperationScope op("free_vmemmap_page_list");
  for (Pfn page : list) {
    // free_vmemmap_page(): the boot vmemmap (PG_reserved memblock memory)
    // through free_reserved_page(), a page from buddy by __free_page().
    if (m_.pages().test_flag(page, PG_reserved))
      m_.page_alloc().free_reserved_page(page);
    else
      m_.page_alloc().free_pages(page, Order(0));
  }
  list.clear();
}

// --- restoring ---------------------------------------------------------------------------

void VmemmapRemapper::vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  const std::optional<Pfn> mapped = checks_.pte_page(m_.page_tables().read_entry(pte), walk.bugged);
  if (!mapped || checks_.bug_on(*mapped != *walk.vmemmap_tail,
                                "BUG_ON(pte_page(ptep_get(pte)) != walk->vmemmap_tail)", walk.bugged))
    return;
  // list_first_entry() + list_del().
  const Pfn page = walk.vmemmap_pages->front();
  walk.vmemmap_pages->pop_front();
  // "Initialize tail pages in the newly allocated vmemmap page ... Use the
  // value last tail page in the page with the head page to initialize the
  // rest of tail pages." With the mask encoding every tail of the folio is
  // that same struct page, so no NR_RESET_STRUCT_PAGE reset follows.
  fill_with_copies_of(page, walk.reuse_addr + kLastTailOfTheHeadPage * kStructPageSize);
  if (restore_wmb_) {
    // smp_wmb(): "Makes sure that preceding stores to the page contents
    // become visible before the set_pte_at() write." Release fence:
    // store->store. Reverted (`restore-wmb`), a CPU that reads the new PTE
    // may still read the page's old bytes.
    smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  }
  (void)v5_18::set_pte_at(m_, pte, addr, pfn_pte(page, kPageKernel));  // mk_pte(page, PAGE_KERNEL)
}

bool VmemmapRemapper::alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, std::deque<Pfn>& list) {
  const uint64_t nr_pages = (end - start) / kPageSize;
  for (uint64_t i = 0; i < nr_pages; ++i) {
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

VmemmapResult VmemmapRemapper::vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                   Pfn vmemmap_tail, VmemmapWalkFlags flags) {
  OperationScope op("vmemmap_remap_alloc");
  std::deque<Pfn> vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = &VmemmapRemapper::vmemmap_restore_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_tail = vmemmap_tail;
  walk.vmemmap_pages = &vmemmap_pages;
  walk.flags = flags;
  if (checks_.bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk.bugged))
    return VmemmapResult::kBug;
  if (!alloc_vmemmap_page_list(start, end, vmemmap_pages)) return VmemmapResult::kNoMemory;
  return vmemmap_remap_range(reuse, end, walk);
}

}  // namespace hvo::v7_1
