#include "models/v6_10/vmemmap_remap.h"

#include <algorithm>
#include <atomic>

#include "engine/check.h"
#include "engine/pte.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "models/v5_18/set_pte.h"

namespace hvo::v6_10 {

// --- remapping -----------------------------------------------------------------------

void VmemmapRemapper::vmemmap_remap_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  // "Remap the tail pages as read-only to catch illegal write operation to
  // the tail pages."
  uint64_t pgprot = kPageKernelRo;
  const std::optional<Pfn> page = checks_.pte_page(m_.page_tables().read_entry(pte), walk.bugged);
  if (!page) return;
  // "Remapping the head page requires r/w"
  if (addr == walk.reuse_addr) {
    pgprot = kPageKernel;
    // list_del(&walk->reuse_page->lru): the new head page is kept, not freed.
    std::deque<Pfn>& list = *walk.vmemmap_pages;
    const auto it = std::find(list.begin(), list.end(), *walk.reuse_page);
    HVO_CHECK(it != list.end(), "the new head page is not on the walk's list");
    list.erase(it);
    // smp_wmb(): "Makes sure that preceding stores to the page contents from
    // vmemmap_remap_free() become visible before the set_pte_at() write." A
    // CPU that walks to the new head PTE must read the copied struct pages,
    // not the stale bytes of a just-allocated page. Release fence:
    // store->store.
    smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  }
  walk.vmemmap_pages->push_front(*page);  // list_add(&page->lru, walk->vmemmap_pages)
  // set_pte_at(&init_mm, addr, pte, mk_pte(walk->reuse_page, pgprot))
  (void)v5_18::set_pte_at(m_, pte, addr, pfn_pte(*walk.reuse_page, pgprot));
}

// --- restoring ---------------------------------------------------------------------------

void VmemmapRemapper::reset_struct_pages(Pfn page) {
  // memcpy(start, start + NR_RESET_STRUCT_PAGE, sizeof(struct page) *
  // NR_RESET_STRUCT_PAGE), through the direct map: the page is not mapped
  // in the vmemmap yet, nobody else can see it. The copy's first struct
  // pages are copies of the head and of page[1..3], whose fields
  // (compound info, deferred list, hugetlb cgroup) an ordinary tail must
  // not carry; page[NR_RESET_STRUCT_PAGE...] are ordinary tails.
  const PhysAddr base = pfn_to_phys(page);
  const PhysAddr from = base + uint64_t{nr_reset_struct_page_} * kStructPageSize;
  // A schedule point first: should the page be published before this reset
  // (a bug), another CPU can read the copy's head fields in the window.
  sched_point(SchedEvent::kMemInit, base.value(), nr_reset_struct_page_);
  for (uint64_t w = 0; w < nr_reset_struct_page_ * kStructPageSize; w += sizeof(uint64_t))
    m_.mem().store<uint64_t>(base + w, m_.mem().load<uint64_t>(from + w, std::memory_order_relaxed),
                             std::memory_order_relaxed);
}

void VmemmapRemapper::vmemmap_restore_pte(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
  const std::optional<Pfn> mapped = checks_.pte_page(m_.page_tables().read_entry(pte), walk.bugged);
  if (!mapped || checks_.bug_on(*mapped != *walk.reuse_page, "BUG_ON(pte_page(ptep_get(pte)) != walk->reuse_page)",
                                walk.bugged))
    return;
  // list_first_entry() + list_del().
  const Pfn page = walk.vmemmap_pages->front();
  walk.vmemmap_pages->pop_front();
  copy_page_from_vmemmap(page, walk.reuse_addr);  // copy_page(to, (void *)walk->reuse_addr)
  reset_struct_pages(page);
  // smp_wmb(): "Makes sure that preceding stores to the page contents
  // become visible before the set_pte_at() write." Release fence:
  // store->store, as in vmemmap_remap_pte().
  smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  (void)v5_18::set_pte_at(m_, pte, addr, pfn_pte(page, kPageKernel));  // mk_pte(page, PAGE_KERNEL)
}

}  // namespace hvo::v6_10
