// The pool's batched resize of 6.7+ (mm/hugetlb.c, Mike Kravetz's 6.7
// series: d67e32f26713 "hugetlb: restructure pool allocations",
// cfb8c75099db "hugetlb: perform vmemmap restoration on a list of pages"),
// which 6.10 and 7.1 run alike: the HugetlbFolio6x members behind
// HugetlbVmemmapOps' bulk entry points. 7.1's fake-head removal changed
// none of it; what differs is the vmemmap batch each generation runs
// (hugetlb_vmemmap_optimize_folios(), hugetlb_vmemmap_restore_folios():
// 6.10 with one synchronize_rcu() per batch, 7.1 with the zone's shared
// tail page and no RCU).
//
// Shrink: update_and_free_pages_bulk() restores the vmemmap of every folio
// set_max_huge_pages() gathered with one hugetlb_vmemmap_restore_folios()
// (one flush_tlb_all(); 6.10: one synchronize_rcu()), clears their hugetlb
// marks in one hold of hugetlb_lock, then frees each
// (update_and_free_hugetlb_folio(), which finds nothing left to restore).
// On -ENOMEM, bulk_vmemmap_restore_error() frees what was restored so far,
// or else restores folio by folio, putting back as surplus each it cannot
// restore, and the batch is retried.
//
// Grow: alloc_pool_huge_folio() for each folio (allocated frozen, marked
// hugetlb), then prep_and_add_allocated_folios(): one
// hugetlb_vmemmap_optimize_folios() and one locked enqueue of all of them.
//
// A revert of a fix older than 6.7 models the kernel before it, which had
// no batched resize: the pool then resizes one folio at a time
// (HugetlbVmemmapOps' defaults) and the revert's race keeps its shape.
// Each model lists its fixes older than 6.7
// (fixes_older_than_batched_resize()).
#include <algorithm>
#include <span>
#include <string_view>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/common/hugetlb_folio_6x.h"

namespace hvo::models {

bool HugetlbFolio6x::batched_pool_resize() const {
  const std::span<const std::string_view> older = fixes_older_than_batched_resize();
  return std::none_of(older.begin(), older.end(), [this](std::string_view fix) { return reverted(fix); });
}

// --- shrinking -------------------------------------------------------------------------------

void HugetlbFolio6x::update_and_free_pages_bulk(HugetlbPool& pool, std::vector<Pfn>& folio_list) {
  if (!batched_pool_resize()) return HugetlbVmemmapOps::update_and_free_pages_bulk(pool, folio_list);
  const Hstate& h = pool.hstate();
  std::vector<Pfn> non_hvo_folios;
  int64_t ret = 0;
  // "First allocate required vmemmmap (if necessary) for all folios.
  // Carefully handle errors and free up any available hugetlb pages in an
  // effort to make forward progress."
  for (;;) {
    std::vector<Pfn> optimized;
    for (Pfn folio : folio_list)
      if (vmemmap_optimized(folio)) optimized.push_back(folio);
    ret = hugetlb_vmemmap_restore_folios(h, folio_list, non_hvo_folios);
    for (Pfn folio : optimized)
      if (!vmemmap_optimized(folio)) pool.note_restored(vmemmap_pages_freed_per_folio(h));
    if (ret >= 0) break;
    // Not a restore failure in the pool's figures yet: the folio is retried
    // below, and counted only if it has to go back to the pool.
    bulk_vmemmap_restore_error(pool, folio_list, non_hvo_folios);
  }
  HVO_CHECK(folio_list.empty(), "update_and_free_pages_bulk: folios left unrestored");
  // "Without HVO enabled, ret will be 0 and there is no need to call
  // __folio_clear_hugetlb as this was done previously." (Here the mark of a
  // folio never optimized is cleared by update_and_free_hugetlb_folio(),
  // this model's stand-in for remove_hugetlb_folio() clearing it.)
  if (!non_hvo_folios.empty() && ret != 0) {
    SpinLockGuard g(pool.hugetlb_lock());
    for (Pfn folio : non_hvo_folios) machine_.pages().clear_flag(folio, PG_hugetlb);  // __folio_clear_hugetlb()
  }
  for (Pfn folio : non_hvo_folios) {
    OperationScope op("update_and_free_hugetlb_folio");
    // Its vmemmap is back: only the teardown and hugetlb_free_folio() remain.
    const bool freed = update_and_free_hugetlb_folio(pool, folio);
    HVO_CHECK(freed, "update_and_free_hugetlb_folio of a restored folio failed");
  }
}

void HugetlbFolio6x::bulk_vmemmap_restore_error(HugetlbPool& pool, std::vector<Pfn>& folio_list,
                                           std::vector<Pfn>& non_hvo_folios) {
  OperationScope op("bulk_vmemmap_restore_error");
  const Hstate& h = pool.hstate();
  StructPageAccess& pages = machine_.pages();
  if (!non_hvo_folios.empty()) {
    // "Free any restored hugetlb pages so that restore of the entire list
    // can be retried. The idea is that in the common case of ENOMEM errors
    // freeing hugetlb pages with vmemmap we will free up memory so that we
    // can allocate vmemmap for more hugetlb pages."
    for (Pfn folio : non_hvo_folios) {
      {
        SpinLockGuard g(pool.hugetlb_lock());
        pages.clear_flag(folio, PG_hugetlb);  // __folio_clear_hugetlb(folio)
      }
      (void)update_and_free_hugetlb_folio(pool, folio);
    }
    non_hvo_folios.clear();
    return;
  }
  // "In the case where there are no folios which can be immediately freed,
  // we loop through the list trying to restore vmemmap individually in the
  // hope that someone elsewhere may have done something to cause success
  // (such as freeing some memory). If unable to restore a hugetlb page, the
  // hugetlb page is made a surplus page and removed from the list. If are
  // able to restore vmemmap and free one hugetlb page, we quit processing
  // the list to retry the bulk operation."
  while (!folio_list.empty()) {
    const Pfn folio = folio_list.front();
    folio_list.erase(folio_list.begin());  // list_del(&folio->lru)
    const bool optimized = vmemmap_optimized(folio);
    if (!hugetlb_vmemmap_restore_folio(h, folio)) {
      pool.note_restore_failure();
      // add_hugetlb_folio(h, folio, true): still optimized and marked.
      pool.add_hugetlb_folio(folio, /*adjust_surplus=*/true);
      continue;
    }
    if (optimized) pool.note_restored(vmemmap_pages_freed_per_folio(h));
    {
      SpinLockGuard g(pool.hugetlb_lock());
      pages.clear_flag(folio, PG_hugetlb);  // __folio_clear_hugetlb(folio)
    }
    (void)update_and_free_hugetlb_folio(pool, folio);
    break;
  }
}

// --- growing ---------------------------------------------------------------------------------

std::optional<Pfn> HugetlbFolio6x::alloc_pool_huge_folio(HugetlbPool& pool, Gfp gfp) {
  // only_alloc_fresh_hugetlb_folio(): the frozen allocation, then
  // init_new_hugetlb_folio() at once (d8f5f7e445f0: marked before any HVO).
  const std::optional<Pfn> folio = alloc_fresh_hugetlb_folio(pool, gfp);
  if (folio) init_new_hugetlb_folio(*folio);
  return folio;
}

void HugetlbFolio6x::prep_and_add_allocated_folios(HugetlbPool& pool, const std::vector<Pfn>& folio_list) {
  HVO_CHECK(batched_pool_resize(), "prep_and_add_allocated_folios() with the pool resizing one folio at a time");
  const Hstate& h = pool.hstate();
  // Planted (enqueue-before-batched-hvo): allocatable before their HVO.
  const bool enqueue_first = planted(kPlantedEnqueueBeforeHvo);
  if (enqueue_first) pool.add_allocated_folios(folio_list);
  // "Send list for bulk vmemmap optimization processing"
  hugetlb_vmemmap_optimize_folios(h, folio_list);
  for (Pfn folio : folio_list)
    if (vmemmap_optimized(folio)) pool.note_optimized(vmemmap_pages_freed_per_folio(h));
  // "Add all new pool pages to free lists in one lock cycle": frozen since
  // the allocation, enqueued at refcount 0.
  if (!enqueue_first) pool.add_allocated_folios(folio_list);
}

}  // namespace hvo::models
