#include "models/v5_18/vmemmap_remap.h"

#include <fmt/format.h>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "engine/schedule_point.h"
#include "engine/task.h"
#include "models/v5_18/set_pte.h"

namespace hvo::v5_18 {

using models::addr_end;

namespace {
// NR_RESET_STRUCT_PAGE: "we need to reset at least 3 (one head struct page
// struct and two tail struct page structs) struct page structs" so that
// free_tail_pages_check() finds no head metadata in a restored page.
constexpr uint64_t kNrResetStructPage = 3;
}  // namespace

bool VmemmapRemapper::bug_on(bool cond, const char* what, VmemmapRemapWalk& walk) {
  return checks_.bug_on(cond, what, walk.bugged);
}

std::optional<PhysAddr> VmemmapRemapper::offset(PhysAddr upper, unsigned index, VmemmapRemapWalk& walk) {
  return checks_.offset(upper, index, walk.bugged);
}

std::optional<Pfn> VmemmapRemapper::pte_page(PteValue pte, VmemmapRemapWalk& walk) {
  return checks_.pte_page(pte, walk.bugged);
}

// --- the walk -------------------------------------------------------------------

VmemmapResult VmemmapRemapper::vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk) {
  KernelPageTables& pt = m_.page_tables();
  // mmap_assert_locked(&init_mm): both callers hold the read lock.
  pt.init_mm().mmap_lock.AssertHeld();
  if (bug_on(start.value() % kPageSize != 0 || end.value() % kPageSize != 0, "VM_BUG_ON(!PAGE_ALIGNED)", walk))
    return VmemmapResult::kBug;
  VmemmapAddr addr = start;
  PhysAddr pgd = pt.pgd_offset_k(addr);
  do {
    const VmemmapAddr next = addr_end(addr, end, kPgdShift);
    // p4d is folded into the pgd with 4-level paging: vmemmap_p4d_range()
    // goes straight to the puds.
    const VmemmapResult ret = vmemmap_pud_range(pgd, addr, next, walk);
    if (ret != VmemmapResult::kOk) return ret;
    pgd = pgd + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
  // "We only change the mapping of the vmemmap virtual address range
  // [@start + PAGE_SIZE, end), so we only need to flush the TLB which
  // belongs to the range."
  // Planted (flush-range-missing-last-page): the flush stops one page short.
  const bool short_flush = planted_ != nullptr && planted_->has(PlantedBugs::kFlushMissesLastPage);
  m_.mmu().flush_tlb_kernel_range(start + kPageSize,
                                  short_flush ? VmemmapAddr(end.value() - kPageSize) : end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper::vmemmap_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end,
                                                 VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pud = offset(pgd, pud_index(addr.value()), walk);
  if (!pud) return VmemmapResult::kBug;
  do {
    const VmemmapAddr next = addr_end(addr, end, kPudShift);
    const VmemmapResult ret = vmemmap_pmd_range(*pud, addr, next, walk);
    if (ret != VmemmapResult::kOk) return ret;
    *pud = *pud + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
  return VmemmapResult::kOk;
}

VmemmapResult VmemmapRemapper::vmemmap_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end,
                                                 VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pmd = offset(pud, pmd_index(addr.value()), walk);
  if (!pmd) return VmemmapResult::kBug;
  do {
    const VmemmapResult ret = split_.split_if_leaf(*pmd, VmemmapAddr(addr.value() & ~(kPmdSize - 1)));
    if (ret != VmemmapResult::kOk) return ret;
    const VmemmapAddr next = addr_end(addr, end, kPmdShift);
    vmemmap_pte_range(*pmd, addr, next, walk);
    if (walk.bugged) return VmemmapResult::kBug;
    *pmd = *pmd + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
  return VmemmapResult::kOk;
}

void VmemmapRemapper::vmemmap_pte_range(PhysAddr pmd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pte = offset(pmd, pte_index(addr.value()), walk);
  if (!pte) return;
  // "The reuse_page is found 'first' in table walk before we start
  // remapping (which is calling @walk->remap_pte)."
  if (!walk.reuse_page) {
    walk.reuse_page = pte_page(m_.page_tables().read_entry(*pte), walk);
    if (!walk.reuse_page) return;
    // "Because the reuse address is part of the range that we are walking,
    // skip the reuse address range."
    addr = addr + kPageSize;
    *pte = *pte + sizeof(uint64_t);
    ++walk.nr_walked;
  }
  for (; addr != end; addr = addr + kPageSize, *pte = *pte + sizeof(uint64_t)) {
    (this->*walk.remap_pte)(*pte, addr, walk);
    if (walk.bugged) return;
    ++walk.nr_walked;
  }
}

// --- freeing ------------------------------------------------------------------------

void VmemmapRemapper::vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  // "Remap the tail pages as read-only to catch illegal write operation
  // to the tail pages."
  const PteValue entry = pfn_pte(*walk.reuse_page, kPageKernelRo);
  std::optional<Pfn> page = pte_page(m_.page_tables().read_entry(pte), walk);
  if (!page) return;
  walk.vmemmap_pages->push_back(*page);  // list_add_tail(&page->lru, walk->vmemmap_pages)
  set_pte_at(m_, pte, addr, entry);
}

void VmemmapRemapper::free_vmemmap_page_list(const std::deque<Pfn>& list) {
  for (Pfn page : list) {
    // free_vmemmap_page(): boot-time vmemmap is memblock memory
    // (PG_reserved): free_bootmem_page(), which without
    // CONFIG_HAVE_BOOTMEM_INFO_NODE's section bookkeeping is
    // free_reserved_page(). A page a restore allocated goes back with
    // __free_page(). A frame of a split 2 MiB block is freed alone: the
    // block came from memblock, whose pages buddy has never seen as a block.
    if (m_.pages().test_flag(page, PG_reserved))
      m_.page_alloc().free_reserved_page(page);
    else
      m_.page_alloc().free_pages(page, Order(0));
  }
}

RemapFreeResult VmemmapRemapper::vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                    bool rollback_short) {
  OperationScope op("vmemmap_remap_free");
  std::deque<Pfn> vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = &VmemmapRemapper::vmemmap_remap_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_pages = &vmemmap_pages;
  // "The range [@start, @end) and the range [@reuse, @reuse + PAGE_SIZE)
  // should be continuous. The @reuse address is part of the range [@reuse,
  // @end) that we are walking ... The @reuse address is the first in the
  // complete range."
  if (bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk))
    return {VmemmapResult::kBug, 0};
  VmemmapResult ret;
  auto remap_and_undo = [&] {
    ret = vmemmap_remap_range(reuse, end, walk);
    if (ret == VmemmapResult::kNoMemory && walk.nr_walked != 0) {
      note_error_path(error_path::kRemapFreeFailed);
      // "vmemmap_pages contains pages from the previous
      // vmemmap_remap_range call which failed. These are pages which were
      // removed from the vmemmap. They will be restored in the following
      // call."
      // Planted (rollback_short): one PTE too few walked back.
      const VmemmapAddr walked_end = reuse + (walk.nr_walked - (rollback_short ? 1 : 0)) * kPageSize;
      walk = VmemmapRemapWalk{};
      walk.remap_pte = &VmemmapRemapper::vmemmap_restore_pte;
      walk.reuse_addr = reuse;
      walk.vmemmap_pages = &vmemmap_pages;
      (void)vmemmap_remap_range(reuse, walked_end, walk);
    }
  };
  RwSemaphore& mmap_lock = m_.page_tables().init_mm().mmap_lock;
  if (split_.fixes().mmap_write_lock()) {
    // d8d55f5616cf reverted (5.15-5.16): mmap_write_lock(&init_mm), so no
    // two splits overlap. The kernel then mmap_write_downgrade()s before
    // the error path's restore walk; here the restore keeps the write lock
    // (the engine's rwsem has no downgrade): it only excludes other
    // readers for that rare walk, and it splits nothing.
    WriteGuard g(mmap_lock);
    remap_and_undo();
  } else {
    ReadGuard g(mmap_lock);  // mmap_read_lock(&init_mm)
    remap_and_undo();
  }
  // A BUG ended the walk half way: the kernel would be dead; free nothing.
  if (ret == VmemmapResult::kBug) return {ret, 0};
  // After the flush: no CPU can still reach these pages through the vmemmap.
  const uint64_t freed = vmemmap_pages.size();
  free_vmemmap_page_list(vmemmap_pages);
  return {ret, freed};
}

// --- restoring ----------------------------------------------------------------------

void VmemmapRemapper::reset_struct_pages(Pfn page) {
  // memcpy(start + i, start + NR_RESET_STRUCT_PAGE, sizeof(struct page)) for
  // i < NR_RESET_STRUCT_PAGE, through the direct map: the page is not
  // mapped in the vmemmap yet, nobody else can see it.
  const PhysAddr from = pfn_to_phys(page) + kNrResetStructPage * kStructPageSize;
  // A schedule point first: should the page be published before this reset
  // (a bug), another CPU can read the copy's head fields in the window.
  sched_point(SchedEvent::kMemInit, pfn_to_phys(page).value(), kNrResetStructPage);
  for (uint64_t i = 0; i < kNrResetStructPage; ++i) {
    const PhysAddr to = pfn_to_phys(page) + i * kStructPageSize;
    for (uint64_t w = 0; w < kStructPageSize; w += sizeof(uint64_t))
      m_.mem().store<uint64_t>(to + w, m_.mem().load<uint64_t>(from + w, std::memory_order_relaxed),
                               std::memory_order_relaxed);
  }
}

void VmemmapRemapper::vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  std::optional<Pfn> mapped = pte_page(m_.page_tables().read_entry(pte), walk);
  if (!mapped || bug_on(*mapped != *walk.reuse_page, "BUG_ON(pte_page(*pte) != walk->reuse_page)", walk)) return;
  // list_first_entry() + list_del(): the first page allocated maps the
  // first address.
  const Pfn page = walk.vmemmap_pages->front();
  walk.vmemmap_pages->pop_front();
  // copy_page(to, (void *)walk->reuse_addr): the source is read through its
  // vmemmap address, on this CPU.
  sched_point(SchedEvent::kMemCopy, addr.value(), page.value());
  const Translation from = m_.mmu().translate(current().cpu, walk.reuse_addr, AccessType::kRead);
  if (from.ok) m_.mem().copy_page(page, from.frame);
  reset_struct_pages(page);
  if (restore_wmb_) {
    // smp_wmb(): "Makes sure that preceding stores to the page contents
    // become visible before the set_pte_at() write." A CPU that walks to
    // the new PTE must then read the copied struct pages, not the zeroes
    // or stale bytes of a just-allocated page. Release fence: store->store.
    smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  }
  set_pte_at(m_, pte, addr, pfn_pte(page, kPageKernel));  // mk_pte(page, PAGE_KERNEL)
}

bool VmemmapRemapper::alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, Gfp gfp,
                                              std::deque<Pfn>& list) {
  const uint64_t nr_pages = (end - start) / kPageSize;
  for (uint64_t i = 0; i < nr_pages; ++i) {
    // alloc_pages_node(nid, gfp_mask, 0): one node here.
    std::optional<Pfn> page = m_.page_alloc().alloc_pages(gfp, Order(0), FrameState::kVmemmap);
    if (!page) {
      for (Pfn p : list) m_.page_alloc().free_pages(p, Order(0));  // __free_pages(page, 0)
      list.clear();
      return false;
    }
    list.push_back(*page);  // list_add_tail(&page->lru, list)
  }
  return true;
}

VmemmapResult VmemmapRemapper::vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse,
                                                   Gfp gfp) {
  OperationScope op("vmemmap_remap_alloc");
  std::deque<Pfn> vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = &VmemmapRemapper::vmemmap_restore_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_pages = &vmemmap_pages;
  // "See the comment in the vmemmap_remap_free()."
  if (bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk)) return VmemmapResult::kBug;
  if (!alloc_vmemmap_page_list(start, end, gfp, vmemmap_pages)) return VmemmapResult::kNoMemory;
  RwSemaphore& mmap_lock = m_.page_tables().init_mm().mmap_lock;
  ReadGuard g(mmap_lock);  // mmap_read_lock(&init_mm)
  // The kernel ignores the walk's result: the range was split when it was
  // optimized, so no split (the only -ENOMEM) happens here. Only a BUG is
  // passed on.
  const VmemmapResult ret = vmemmap_remap_range(reuse, end, walk);
  return ret == VmemmapResult::kBug ? ret : VmemmapResult::kOk;
}

}  // namespace hvo::v5_18
