#include "models/v17/vmemmap_remap.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::v17 {

using models::addr_end;

bool VmemmapRemapper::bug_on(bool cond, const char* what, VmemmapRemapWalk& walk) {
  return checks_.bug_on(cond, what, walk.bugged);
}

std::optional<PhysAddr> VmemmapRemapper::offset(PhysAddr upper, unsigned index, VmemmapRemapWalk& walk) {
  return checks_.offset(upper, index, walk.bugged);
}

std::optional<Pfn> VmemmapRemapper::pte_page(PteValue pte, VmemmapRemapWalk& walk) {
  return checks_.pte_page(pte, walk.bugged);
}

void VmemmapRemapper::vmemmap_remap_range(VmemmapAddr start, VmemmapAddr end, VmemmapRemapWalk& walk) {
  KernelPageTables& pt = m_.page_tables();
  if (bug_on(start.value() % kPageSize != 0 || end.value() % kPageSize != 0, "VM_BUG_ON(!IS_ALIGNED)", walk))
    return;
  VmemmapAddr addr = start;
  PhysAddr pgd = pt.pgd_offset_k(addr);
  do {
    if (bug_on(pte_none(pt.read_entry(pgd)), "BUG_ON(pgd_none(*pgd))", walk)) return;
    const VmemmapAddr next = addr_end(addr, end, kPgdShift);
    // p4d is folded into the pgd with 4-level paging: vmemmap_p4d_range()
    // goes straight to the puds.
    vmemmap_pud_range(pgd, addr, next, walk);
    if (walk.bugged) return;
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
}

void VmemmapRemapper::vmemmap_pud_range(PhysAddr pgd, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pud = offset(pgd, pud_index(addr.value()), walk);
  if (!pud) return;
  do {
    if (bug_on(pte_none(m_.page_tables().read_entry(*pud)), "BUG_ON(pud_none(*pud))", walk)) return;
    const VmemmapAddr next = addr_end(addr, end, kPudShift);
    vmemmap_pmd_range(*pud, addr, next, walk);
    if (walk.bugged) return;
    *pud = *pud + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
}

void VmemmapRemapper::vmemmap_pmd_range(PhysAddr pud, VmemmapAddr addr, VmemmapAddr end, VmemmapRemapWalk& walk) {
  std::optional<PhysAddr> pmd = offset(pud, pmd_index(addr.value()), walk);
  if (!pmd) return;
  do {
    // The v17 walk requires a base-page mapped vmemmap.
    if (bug_on(pmd_leaf(m_.page_tables().read_entry(*pmd)), "BUG_ON(pmd_leaf(*pmd))", walk)) return;
    const VmemmapAddr next = addr_end(addr, end, kPmdShift);
    vmemmap_pte_range(*pmd, addr, next, walk);
    if (walk.bugged) return;
    *pmd = *pmd + sizeof(uint64_t);
    addr = next;
  } while (addr != end);
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
  }
  for (; addr != end; addr = addr + kPageSize, *pte = *pte + sizeof(uint64_t)) {
    (this->*walk.remap_pte)(*pte, addr, walk);
    if (walk.bugged) return;
  }
}

void VmemmapRemapper::vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  // "Remap the tail pages as read-only to catch illegal write operation
  // to the tail pages."
  const PteValue entry = pfn_pte(*walk.reuse_page, kPageKernelRo);
  std::optional<Pfn> page = pte_page(m_.page_tables().read_entry(pte), walk);
  if (!page) return;
  walk.vmemmap_pages->push_back(*page);  // list_add(&page->lru, walk->vmemmap_pages)
  m_.page_tables().write_entry(pte, entry);  // set_pte_at(&init_mm, addr, pte, entry)
}

void VmemmapRemapper::free_vmemmap_page_list(const std::vector<Pfn>& list) {
  for (Pfn page : list) {
    // free_vmemmap_page(): boot-time vmemmap is memblock memory.
    if (m_.pages().test_flag(page, PG_reserved))
      m_.page_alloc().free_reserved_page(page);
    else
      m_.page_alloc().free_pages(page, Order(0));
  }
}

uint64_t VmemmapRemapper::vmemmap_remap_free(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse) {
  OperationScope op("vmemmap_remap_free");
  std::vector<Pfn> vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = &VmemmapRemapper::vmemmap_remap_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_pages = &vmemmap_pages;
  // The range [start, end) and [reuse, reuse + PAGE_SIZE) must be
  // continuous, reuse first.
  if (bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk)) return 0;
  vmemmap_remap_range(reuse, end, walk);
  if (walk.bugged) return 0;
  free_vmemmap_page_list(vmemmap_pages);
  return vmemmap_pages.size();
}

void VmemmapRemapper::vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  std::optional<Pfn> mapped = pte_page(m_.page_tables().read_entry(pte), walk);
  if (!mapped || bug_on(*mapped != *walk.reuse_page, "BUG_ON(pte_page(*pte) != walk->reuse_page)", walk)) return;
  const Pfn page = walk.vmemmap_pages->back();  // list_first_entry() + list_del()
  walk.vmemmap_pages->pop_back();
  // copy_page(to, (void *)walk->reuse_addr): the source is read through its
  // vmemmap address, on this CPU.
  sched_point(SchedEvent::kMemCopy, addr.value(), page.value());
  const Translation from = m_.mmu().translate(current().cpu, walk.reuse_addr, AccessType::kRead);
  if (from.ok) m_.mem().copy_page(page, from.frame);
  // No barrier between the copy and the PTE: the v17 patch has none (the
  // smp_wmb() came with a later fix, which needs a weak memory model to matter).
  m_.page_tables().write_entry(pte, pfn_pte(page, kPageKernel));
}

bool VmemmapRemapper::alloc_vmemmap_page_list(VmemmapAddr start, VmemmapAddr end, Gfp gfp, std::vector<Pfn>& list) {
  const uint64_t nr_pages = (end - start) / kPageSize;
  for (uint64_t i = 0; i < nr_pages; ++i) {
    std::optional<Pfn> page = m_.page_alloc().alloc_pages(gfp, Order(0), FrameState::kVmemmap);
    if (!page) {
      for (Pfn p : list) m_.page_alloc().free_pages(p, Order(0));
      list.clear();
      return false;
    }
    list.push_back(*page);
  }
  return true;
}

bool VmemmapRemapper::vmemmap_remap_alloc(VmemmapAddr start, VmemmapAddr end, VmemmapAddr reuse, Gfp gfp) {
  OperationScope op("vmemmap_remap_alloc");
  std::vector<Pfn> vmemmap_pages;
  VmemmapRemapWalk walk;
  walk.remap_pte = &VmemmapRemapper::vmemmap_restore_pte;
  walk.reuse_addr = reuse;
  walk.vmemmap_pages = &vmemmap_pages;
  if (bug_on(start - reuse != kPageSize, "BUG_ON(start - reuse != PAGE_SIZE)", walk)) return false;
  // might_sleep_if(gfpflags_allow_blocking(gfp_mask))
  if (may_sleep(gfp)) m_.lockdep().might_sleep("vmemmap_remap_alloc");
  if (!alloc_vmemmap_page_list(start, end, gfp, vmemmap_pages)) return false;
  // The pages are consumed from the back: keep the kernel's order (the
  // first allocated page maps the first address).
  std::reverse(vmemmap_pages.begin(), vmemmap_pages.end());
  vmemmap_remap_range(reuse, end, walk);
  return !walk.bugged;
}

}  // namespace hvo::v17
