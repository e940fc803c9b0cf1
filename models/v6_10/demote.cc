// Demote in 6.10 (mm/hugetlb.c demote_free_hugetlb_folios(), with
// c0f398c3b2cf "mm/hugetlb_vmemmap: batch HVO work when demoting"): the
// V610Model members that implement HugetlbDemoteOps.
//
// Batched (the fix): hugetlb_vmemmap_restore_folios() on every source (one
// synchronize_rcu(), one flush_tlb_all()), each restored source taken apart
// into 2 MiB folios marked hugetlb, then prep_and_add_allocated_folios() on
// all of them: hugetlb_vmemmap_optimize_folios() (one synchronize_rcu(), the
// splits' flush and the remaps' flush) and one locked enqueue. About two
// grace periods and three flushes per demote, however many folios.
//
// Reverted (`--revert c0f398c3b2cf`): the per-folio loop of
// HugetlbDemoteOps (hugetlb_demote.cc), with 6.10's single-folio calls:
// hugetlb_vmemmap_restore_folio() per source and, per destination,
// __prep_new_hugetlb_folio()'s hugetlb_vmemmap_optimize_folio(), each its
// own grace period and flush: 1 + 512 per 1 GiB folio, as the commit
// message counts them. A cost (the commit measured 8m58s against 0.9s for
// 100 folios), not a violation: both variants leave the same pools.
//
// Frozen folios: a free 6.10 folio is at refcount 0, and demote sets none
// (destroy_compound_hugetlb_folio_for_demote() does not refcount), so every
// destination enters the 2 MiB pool frozen, as enqueue_hugetlb_folio() wants.
#include <algorithm>
#include <set>

#include "engine/hugetlb/hugetlb_demote.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/task.h"
#include "models/v6_10/v6_10_model.h"

namespace hvo {

bool V610Model::restore_demote_source(HugetlbPool& src, Pfn head) {
  const bool optimized = vmemmap_optimized(head);
  if (!vmemmap_.hugetlb_vmemmap_restore_folio(src.hstate(), head)) return false;
  if (optimized) src.note_restored(vmemmap_pages_freed_per_folio(src.hstate()));
  return true;
}

void V610Model::prep_demoted_folio(HugetlbPool& dst, Pfn head) {
  OperationScope op("prep_new_hugetlb_folio");
  // __prep_new_hugetlb_folio(): init_new_hugetlb_folio(), then HVO alone,
  // flushing inside its remap walk and paying its own grace period.
  init_new_hugetlb_folio(head);
  vmemmap_.hugetlb_vmemmap_optimize_folio(dst.hstate(), head);
  if (vmemmap_optimized(head)) dst.note_optimized(vmemmap_pages_freed_per_folio(dst.hstate()));
}

uint64_t V610Model::sources_per_batch(uint64_t nr_to_demote) const {
  // demote_pool_huge_page(src, nodes_allowed, nr_to_demote): "if
  // (++nr_demoted == nr_to_demote) break;" — the whole request in one batch.
  if (reverted("c0f398c3b2cf")) return HugetlbDemoteOps::sources_per_batch(nr_to_demote);
  return nr_to_demote;
}

int64_t V610Model::demote_free_hugetlb_folios(HugetlbPool& src, HugetlbPool& dst, std::vector<Pfn>& src_list) {
  if (reverted("c0f398c3b2cf")) return HugetlbDemoteOps::demote_free_hugetlb_folios(src, dst, src_list);
  OperationScope op("demote_free_hugetlb_folios");
  const Hstate& h = src.hstate();
  const Hstate& target = dst.hstate();
  StructPageAccess& pages = machine_.pages();

  // rc = hugetlb_vmemmap_restore_folios(src, src_list, &ret_list);
  // list_splice_init(&ret_list, src_list): the restored (and never
  // optimized) sources first, then those from the failed one on.
  std::set<Pfn> was_optimized;
  for (Pfn folio : src_list)
    if (vmemmap_optimized(folio)) was_optimized.insert(folio);
  std::vector<Pfn> ret_list;
  const int64_t rc = vmemmap_.hugetlb_vmemmap_restore_folios(h, src_list, ret_list);
  for (Pfn folio : ret_list)
    if (was_optimized.count(folio) != 0) src.note_restored(vmemmap_pages_freed_per_folio(h));
  if (rc < 0) src.note_restore_failure();
  ret_list.insert(ret_list.end(), src_list.begin(), src_list.end());
  src_list.clear();

  // "Taking target hstate mutex synchronizes with set_max_huge_pages.
  // Without the mutex, pages added to target hstate could be marked as
  // surplus." The source's resize_lock is held (demote_store()): the
  // larger hstate's first. Held until the new folios are in the pool.
  MutexGuard dst_resize(dst.resize_lock());
  std::vector<Pfn> dst_list;
  int64_t demoted = 0;
  for (Pfn folio : ret_list) {
    // A source still optimized could not be restored: it stays on the list
    // and goes back to the pool. One after it that was never optimized is
    // demoted all the same, as list_for_each_entry_safe() does.
    if (vmemmap_optimized(folio)) {
      src_list.push_back(folio);
      continue;
    }
    src.forget_demoted_folio(folio);
    destroy_compound_hugetlb_folio_for_demote(pages, folio, h.order);
    for (uint64_t i = 0; i < h.nr_pages(); i += target.nr_pages()) {
      const Pfn page = folio + i;
      prep_compound_demoted_folio(pages, page, target.order);
      init_new_hugetlb_folio(page);
      dst_list.push_back(page);  // list_add(&page->lru, &dst_list)
    }
    ++demoted;
  }
  // list_add() puts each at the list's head: the batch runs last-made first.
  std::reverse(dst_list.begin(), dst_list.end());

  // prep_and_add_allocated_folios(dst, &dst_list): "Send list for bulk
  // vmemmap optimization processing", then account and enqueue them all
  // in one hold of hugetlb_lock.
  {
    OperationScope prep("prep_and_add_allocated_folios");
    vmemmap_.hugetlb_vmemmap_optimize_folios(target, dst_list);
    for (Pfn page : dst_list)
      if (vmemmap_optimized(page)) dst.note_optimized(vmemmap_pages_freed_per_folio(target));
    dst.add_allocated_folios(dst_list);
  }
  return rc < 0 ? -1 : demoted;
}

}  // namespace hvo
