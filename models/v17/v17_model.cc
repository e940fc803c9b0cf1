#include "models/v17/v17_model.h"

#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/memory_failure_hugetlb.h"

namespace hvo {

const ModelInfo V17Model::kInfo{
    .name = "v17",
    .title = "the reviewed patch (v17, Feb 2021): 2 reserved vmemmap pages, tails remapped RO to page 1, no lock",
    .kernel = "mm/sparse-vmemmap.c + mm/hugetlb_vmemmap.c of the v17 series (5.14)",
    .source = "the v17 posting of \"Free some vmemmap pages of HugeTLB page\" (Muchun Song, linux-mm, "
              "Feb 2021), as merged in Linux 5.14 (Aug 2021); base-page vmemmap only (before 3bc2b6a72596)",
    .reserved_vmemmap_pages = kReserveVmemmapNr,
    .vmemmap_mapping = VmemmapMapping::kBasePages,
    .reverts = {{"raw-hwpoison",
                 "memory_failure sets PG_hwpoison on the raw tail page of a free optimized hugepage (before "
                 "\"mm: hugetlb: set the PageHWPoison to the raw error page\")"},
                {"d8f5f7e445f0",
                 "the hugetlb mark is set after the vmemmap is optimized, as posted: memory_failure() sees an "
                 "ordinary page and writes PG_hwpoison to a read-only tail"},
                {"32c877191e02",
                 "the hugetlb mark cleared under hugetlb_lock at removal, before the vmemmap is restored, as "
                 "posted: memory_failure() sees an ordinary page and writes PG_hwpoison to a read-only tail"}},
};

namespace {
constexpr uint64_t kHpgVmemmapOptimized = uint64_t{1} << HPG_vmemmap_optimized;
constexpr uint64_t kHpgFreed = uint64_t{1} << HPG_freed;
// The flags update_and_free_page() clears on every subpage.
constexpr uint64_t kFreeClearFlags = page_flag(PG_locked) | page_flag(PG_referenced) | page_flag(PG_dirty) |
                                     page_flag(PG_active) | page_flag(PG_private) | page_flag(PG_writeback);
// GFP_KERNEL | __GFP_NORETRY | __GFP_THISNODE: restore may fail rather than
// reclaim hard or fall back to another node.
constexpr Gfp kGfpVmemmapPage = Gfp::kKernel | Gfp::kNoRetry | Gfp::kThisNode;
// head[4].private records the poisoned subpage (there are at least 128
// writable struct pages, so page 4 is always in a reserved vmemmap page).
constexpr uint64_t kHwpoisonIndexPage = 4;
}  // namespace

// --- mm/hugetlb_vmemmap.c ----------------------------------------------------------

bool V17Model::vmemmap_optimized(Pfn head) {
  return (machine_.pages().load(head, PageWord::kPrivate) & kHpgVmemmapOptimized) != 0;
}

void V17Model::free_huge_page_vmemmap(HugetlbPool& pool, Pfn head) {
  const Hstate& h = pool.hstate();
  const uint64_t nr_free = vmemmap_pages_freed_per_folio(h);  // free_vmemmap_pages_per_hpage()
  if (nr_free == 0) return;
  const VmemmapAddr vmemmap_addr = pfn_to_page(head) + kReserveVmemmapNr * kPageSize;
  const VmemmapAddr vmemmap_end = vmemmap_addr + nr_free * kPageSize;
  const VmemmapAddr vmemmap_reuse = VmemmapAddr(vmemmap_addr.value() - kPageSize);
  const uint64_t freed = remap_.vmemmap_remap_free(vmemmap_addr, vmemmap_end, vmemmap_reuse);
  machine_.pages().fetch_or(head, PageWord::kPrivate, kHpgVmemmapOptimized);  // SetHPageVmemmapOptimized()
  pool.note_optimized(freed);
}

bool V17Model::alloc_huge_page_vmemmap(HugetlbPool& pool, Pfn head) {
  if (!vmemmap_optimized(head)) return true;
  const uint64_t nr_free = vmemmap_pages_freed_per_folio(pool.hstate());
  const VmemmapAddr vmemmap_addr = pfn_to_page(head) + kReserveVmemmapNr * kPageSize;
  const VmemmapAddr vmemmap_end = vmemmap_addr + nr_free * kPageSize;
  const VmemmapAddr vmemmap_reuse = VmemmapAddr(vmemmap_addr.value() - kPageSize);
  if (!remap_.vmemmap_remap_alloc(vmemmap_addr, vmemmap_end, vmemmap_reuse, kGfpVmemmapPage)) return false;
  machine_.pages().fetch_and(head, PageWord::kPrivate, ~kHpgVmemmapOptimized);  // ClearHPageVmemmapOptimized()
  pool.note_restored(nr_free);
  return true;
}

std::vector<ExpectedVmemmapPage> V17Model::optimized_shape(const Hstate& h) const {
  std::vector<ExpectedVmemmapPage> shape;
  for (uint64_t i = 0; i < h.vmemmap_pages(); ++i)
    shape.push_back(i < kReserveVmemmapNr ? ExpectedVmemmapPage{true, -1}
                                          : ExpectedVmemmapPage{false, kReserveVmemmapNr - 1});
  return shape;
}

// --- mm/hugetlb.c ---------------------------------------------------------------------

bool V17Model::prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("prep_new_huge_page");
  StructPageAccess& pages = machine_.pages();
  // As posted, HVO ran first and the destructor was set after: between the
  // two the folio is not yet PageHuge() but its tails are already read-only,
  // and memory_failure() treats a tail as an ordinary page and writes to it.
  // d8f5f7e445f0 ("hugetlb: set hugetlb page flag before optimizing
  // vmemmap") marks the folio first; the model carries that fix unless it
  // is reverted.
  const bool mark_first = !reverted("d8f5f7e445f0");
  if (mark_first) pages.set_flag(head, PG_hugetlb);  // set_compound_page_dtor(page, HUGETLB_PAGE_DTOR)
  free_huge_page_vmemmap(pool, head);
  if (!mark_first) pages.set_flag(head, PG_hugetlb);
  pages.store(head + 1, PageWord::kPrivate, 0);  // hugetlb_set_page_subpool(page, NULL)
  pages.store(head + 2, PageWord::kPrivate, 0);  // set_hugetlb_cgroup(page, NULL)
  pages.fetch_and(head, PageWord::kPrivate, ~kHpgFreed);  // ClearHPageFreed()
  // alloc_fresh_huge_page()'s put_page(): when that was the last reference,
  // free_huge_page() enqueues it (the pool does).
  const RmwResult<int32_t> put = pages.add_return32(head, PageWord32::kRefcount, -1);
  return put.ok && put.value == 0;
}

bool V17Model::update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("update_and_free_page");
  const Hstate& h = pool.hstate();
  StructPageAccess& pages = machine_.pages();
  const bool mark_cleared_at_removal = reverted("32c877191e02");
  if (mark_cleared_at_removal) {
    // As shipped (until 32c877191e02, 6.5): remove_hugetlb_page() cleared
    // the destructor, set_compound_page_dtor(page, NULL_COMPOUND_DTOR),
    // under hugetlb_lock as it took the page out of the pool, before
    // update_and_free_page() gave its vmemmap back: until the restore the
    // page is not PageHuge() while its tails are still read-only, and
    // memory_failure() treats a tail as an ordinary page.
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);
  }
  if (!alloc_huge_page_vmemmap(pool, head)) {
    // "If we cannot allocate vmemmap pages, just refuse to free the page
    // and put the page back on the hugetlb free list and treat as a
    // surplus page."
    pool.note_restore_failure();
    if (mark_cleared_at_removal) {
      // add_hugetlb_page(): set_compound_page_dtor(page, HUGETLB_PAGE_DTOR)
      // under hugetlb_lock, the page back in the pool.
      SpinLockGuard g(pool.hugetlb_lock());
      pages.set_flag(head, PG_hugetlb);
    }
    pool.add_hugetlb_folio(head, /*adjust_surplus=*/true);
    return false;
  }
  hwpoison_subpage_deliver(h, head);
  for (uint64_t i = 0; i < h.nr_pages(); ++i) pages.fetch_and(head + i, PageWord::kFlags, ~kFreeClearFlags);
  pages.clear_flag(head, PG_hugetlb);                   // set_compound_page_dtor(page, NULL_COMPOUND_DTOR)
  pages.store32(head, PageWord32::kRefcount, 1);        // set_page_refcounted(page)
  pool.free_folio_frames(head);                         // __free_pages() / free_gigantic_page()
  return true;
}

Pfn V17Model::compound_head(Pfn pfn) {
  // compound_head(): READ_ONCE(page->compound_head), bit 0 marks a tail.
  const uint64_t word = machine_.pages().load(pfn, PageWord::kCompoundHead);
  if (!is_tail_word(word) || (word & ~uint64_t{1}) < kVmemmapBase) return pfn;
  const Pfn head = head_of_tail_word(word);
  return machine_.mem().valid(head) ? head : pfn;
}

bool V17Model::page_huge(Pfn pfn) {
  // PageHuge(): PageCompound(page) && page[1].compound_dtor == HUGETLB_PAGE_DTOR.
  const Pfn head = compound_head(pfn);
  const uint64_t flags = machine_.pages().flags(head);
  return (flags & page_flag(PG_head)) != 0 && (flags & page_flag(PG_hugetlb)) != 0;
}

void V17Model::hwpoison_subpage_set(const Hstate& h, Pfn head, Pfn page) {
  StructPageAccess& pages = machine_.pages();
  if (!pages.test_flag(head, PG_hwpoison)) return;
  if (reverted("raw-hwpoison")) {
    // Before the fix (dissolve_free_huge_page()): the raw page is marked at
    // once, while its struct page may still be a read-only alias.
    if (page != head) {
      pages.set_flag(page, PG_hwpoison);
      pages.clear_flag(head, PG_hwpoison);
    }
    return;
  }
  if (vmemmap_pages_freed_per_folio(h) != 0)
    pages.store(head + kHwpoisonIndexPage, PageWord::kPrivate, page - head);  // set_page_private(head + 4, page - head)
  else if (page != head) {
    pages.set_flag(page, PG_hwpoison);
    pages.clear_flag(head, PG_hwpoison);
  }
}

void V17Model::hwpoison_subpage_deliver(const Hstate& h, Pfn head) {
  StructPageAccess& pages = machine_.pages();
  if (!pages.test_flag(head, PG_hwpoison) || vmemmap_pages_freed_per_folio(h) == 0) return;
  const Pfn page = head + pages.load(head + kHwpoisonIndexPage, PageWord::kPrivate);
  // "Move PageHWPoison flag from head page to the raw error page, which
  // makes any subpages rather than the error page reusable."
  if (page != head) {
    pages.set_flag(page, PG_hwpoison);
    pages.clear_flag(head, PG_hwpoison);
  }
}

void V17Model::memory_failure(HugetlbPool& pool, Pfn pfn) {
  OperationScope op("memory_failure");
  StructPageAccess& pages = machine_.pages();
  if (!page_huge(pfn)) {
    // An ordinary page: TestSetPageHWPoison(p); the simulated injection is
    // then undone (unpoison_memory()), as nothing here takes pages offline.
    const RmwResult<uint64_t> r = pages.fetch_or(pfn, PageWord::kFlags, page_flag(PG_hwpoison));
    if (r.ok && (r.value & page_flag(PG_hwpoison)) == 0) pages.clear_flag(pfn, PG_hwpoison);
    return;
  }
  // memory_failure_hugetlb(): the poison is first recorded on the head.
  const Pfn head = compound_head(pfn);
  const RmwResult<uint64_t> r = pages.fetch_or(head, PageWord::kFlags, page_flag(PG_hwpoison));
  if (!r.ok || (r.value & page_flag(PG_hwpoison)) != 0) return;  // already being handled
  pool.hwpoison().handling(pfn);
  // A free hugepage is dissolved: hwpoison_subpage_set() under hugetlb_lock,
  // then update_and_free_page() restores the vmemmap and delivers the poison.
  const DissolveResult res =
      pool.dissolve_free_hugetlb_folio(pfn, [&](Pfn h) { hwpoison_subpage_set(pool.hstate(), h, pfn); });
  memory_failure_after_dissolve(*this, pool, pfn, head, res, PoisonOnBusyFolio::kLifted);
}

}  // namespace hvo
