// Demote (mm/hugetlb.c, 5.16+): demote_store(), demote_pool_huge_page(),
// the compound page taken apart and rebuilt in place, and the per-folio
// demote_free_hugetlb_folio() loop of the kernels before c0f398c3b2cf.
#include "engine/hugetlb/hugetlb_demote.h"

#include "engine/hugetlb/compound_page.h"
#include "engine/hugetlb/hugetlb_demote_ops.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo {

void destroy_compound_hugetlb_folio_for_demote(StructPageAccess& pages, Pfn head, Order order) {
  // atomic_set(&folio->_entire_mapcount, 0): page[1]'s compound mapcount.
  pages.store32(head + 1, PageWord32::kMapcount, 0);
  const uint64_t nr = order.nr_pages();
  for (uint64_t i = 1; i < nr; ++i) {
    const Pfn p = head + i;
    pages.fetch_and(p, PageWord::kFlags, ~kPageFlagsCheckAtFree);  // p->flags &= ~PAGE_FLAGS_CHECK_AT_FREE
    pages.store(p, PageWord::kMapping, 0);                          // p->mapping = NULL
    pages.store(p, PageWord::kCompoundHead, 0);                     // clear_compound_head(p)
  }
  pages.clear_flag(head, PG_head);  // __folio_clear_head(folio)
}

void prep_compound_demoted_folio(StructPageAccess& pages, Pfn head, Order order) {
  prep_compound_page(pages, head, order);
  pages.store(head, PageWord::kPrivate, 0);  // set_page_private(page, 0)
}

// --- the per-folio loop (before c0f398c3b2cf) ---------------------------------------

int64_t HugetlbDemoteOps::demote_free_hugetlb_folios(HugetlbPool& src, HugetlbPool& dst,
                                                     std::vector<Pfn>& src_list) {
  StructPageAccess& pages = src.pages();
  const Hstate& h = src.hstate();
  const Hstate& target = dst.hstate();
  int64_t demoted = 0;
  for (Pfn folio : src_list) {
    OperationScope op("demote_free_hugetlb_folio");
    // "If vmemmap already existed for folio, the remove routine above would
    // have cleared the hugetlb folio flag" — restore is a no-op then; one
    // optimized costs its own synchronize_rcu() and flush.
    if (!restore_demote_source(src, folio)) {
      // "Allocation of vmemmmap failed, we can not demote folio": it and
      // the sources after it go back to the pool (demote_store() stops).
      src.note_restore_failure();
      src_list.erase(src_list.begin(), src_list.begin() + demoted);
      return -1;
    }
    src.forget_demoted_folio(folio);
    destroy_compound_hugetlb_folio_for_demote(pages, folio, h.order);
    // "Taking target hstate mutex synchronizes with set_max_huge_pages.
    // Without the mutex, pages added to target hstate could be marked as
    // surplus. Note that we already hold h->resize_lock. To prevent
    // deadlock, use the convention of always taking larger size hstate
    // mutex first."
    MutexGuard target_resize(dst.resize_lock());
    for (uint64_t i = 0; i < h.nr_pages(); i += target.nr_pages()) {
      const Pfn page = folio + i;
      prep_compound_demoted_folio(pages, page, target.order);
      // prep_new_hugetlb_folio(target_hstate, inner_folio, nid): the mark
      // and this folio's own HVO; then free_huge_folio(inner_folio) puts it
      // on the target's free list before the next one is even made.
      prep_demoted_folio(dst, page);
      dst.add_allocated_folios({page});
    }
    ++demoted;
  }
  src_list.clear();
  return demoted;
}

// --- the pool ------------------------------------------------------------------------

void HugetlbPool::forget_demoted_folio(Pfn head) {
  SpinLockGuard g(hugetlb_lock_);
  auto it = folios_.find(head);
  HVO_CHECK(it != folios_.end() && it->second.state == FolioState::kRemoved,
            "demoting a folio that was not removed from the pool");
  folios_.erase(it);
}

std::vector<Pfn> HugetlbPool::remove_folios_for_demote(uint64_t nr) {
  hugetlb_lock_.AssertHeld();
  std::vector<Pfn> list;
  // list_for_each_entry_safe(folio, next, &src->hugepage_freelists[node], lru):
  // from the list's head, the most recently enqueued first.
  for (auto it = free_list_.rbegin(); it != free_list_.rend() && list.size() < nr; ++it)
    if (!pages().test_flag(*it, PG_hwpoison)) list.push_back(*it);  // folio_test_hwpoison(folio)
  for (Pfn head : list) {
    unlink_free(head);
    remove_hugetlb_folio(head, /*adjust_surplus=*/false);
  }
  return list;
}

DemoteOutcome HugetlbPool::demote(uint64_t nr) {
  OperationScope op("demote_store");
  DemoteOutcome out;
  HugetlbDemoteOps* demote_ops = ops_.demote_ops();
  if (demote_pool_ == nullptr || demote_ops == nullptr) {
    out.status = DemoteStatus::kNotSupported;
    return out;
  }
  // "Synchronize with other sysfs operations modifying huge pages":
  // mutex_lock(&h->resize_lock), to the end.
  MutexGuard resize(resize_lock_);
  while (out.demoted < nr) {
    std::vector<Pfn> list;
    {
      SpinLockGuard g(hugetlb_lock_);
      // "Check for available pages to demote each time thorough the loop
      // as demote_pool_huge_page will drop hugetlb_lock." (No reservations
      // are modelled: all free folios are available.)
      if (counters_.free_huge_pages == 0) break;
      list = remove_folios_for_demote(demote_ops->sources_per_batch(nr - out.demoted));
      if (list.empty()) {
        // "Only way to get here is if all pages on free lists are poisoned.
        // Return -EBUSY so that caller will not retry."
        out.status = DemoteStatus::kBusy;
        break;
      }
    }
    const size_t taken = list.size();
    // demote_free_hugetlb_folios() runs with hugetlb_lock dropped: the
    // vmemmap restore and HVO allocate, flush and wait for grace periods.
    const int64_t rc = demote_ops->demote_free_hugetlb_folios(*this, *demote_pool_, list);
    {
      SpinLockGuard g(hugetlb_lock_);
      // The sources that were not demoted: add_hugetlb_folio(src, folio,
      // false), still optimized and marked hugetlb.
      for (Pfn head : list) add_hugetlb_folio_locked(head, /*adjust_surplus=*/false);
    }
    const uint64_t demoted = taken - list.size();
    demoted_.fetch_add(demoted, std::memory_order_relaxed);
    out.demoted += demoted;
    if (rc < 0) {
      out.status = DemoteStatus::kNoMemory;
      break;
    }
    HVO_CHECK(demoted == taken, "demote_free_hugetlb_folios kept a source without failing");
  }
  return out;
}

}  // namespace hvo
