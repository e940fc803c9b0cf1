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

namespace {
// The struct page restore copies: the last one of the head's vmemmap page,
// an ordinary tail (the folio's own fields live in page[1..3]).
constexpr uint64_t kLastTailOfTheHeadPage = kStructPagesPerPage - 1;
}  // namespace

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

}  // namespace hvo::v7_1
