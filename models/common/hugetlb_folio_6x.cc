#include "models/common/hugetlb_folio_6x.h"

#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::models {

namespace {
// The hugetlb fields of page[3], by the word they overlay.
constexpr PageWord kHugetlbSubpool = PageWord::kCompoundInfo;  // _hugetlb_subpool
constexpr PageWord kHugetlbCgroup = PageWord::kMapping;        // _hugetlb_cgroup
constexpr PageWord kHugetlbCgroupRsvd = PageWord::kIndex;      // _hugetlb_cgroup_rsvd
constexpr PageWord kHugetlbHwpoison = PageWord::kPrivate;      // _hugetlb_hwpoison
}  // namespace

// --- mm/hugetlb.c: allocation ---------------------------------------------------------------

bool HugetlbFolio6x::folio_ref_freeze(Pfn folio, int32_t count) {
  int32_t expected = count;
  return machine_.pages().cmpxchg32(folio, PageWord32::kRefcount, expected, 0) == CasOutcome::kExchanged;
}

std::optional<Pfn> HugetlbFolio6x::alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp) {
  const Order order = pool.hstate().order;
  if (reverted("2b21624fc232")) {
    const std::optional<Pfn> folio = pool.alloc_fresh_folio_frames(gfp);
    if (folio) prep_compound_tails(*folio, order);
    return folio;
  }
  OperationScope op("alloc_buddy_hugetlb_folio");
  // alloc_buddy_hugetlb_folio(): __folio_alloc() then folio_ref_freeze(folio,
  // 1), "retry once" if someone holds a speculative reference; the gigantic
  // path (__prep_compound_gigantic_folio() freezing every page, head
  // included, free_gigantic_folio() and one retry on failure) does the same
  // for the head, and its tails are at 0 already here.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::optional<Pfn> folio = pool.alloc_fresh_folio_frames(gfp);
    if (!folio) return std::nullopt;
    // Before the freeze: a PFN walker that reads a tail's compound_info
    // either way finds the same head.
    prep_compound_tails(*folio, order);
    if (folio_ref_freeze(*folio, 1)) return folio;
    // folio_put(folio): the holder of the other reference frees it, an
    // ordinary compound page, with its put_page().
    put_page(pool, *folio);
  }
  // "WOW!  twice in a row." pr_warn("HugeTLB unexpected inflated folio ref count\n")
  return std::nullopt;
}

void HugetlbFolio6x::init_new_hugetlb_folio(Pfn folio) {
  StructPageAccess& pages = machine_.pages();
  pages.set_flag(folio, PG_hugetlb);  // __folio_set_hugetlb(folio)
  // INIT_LIST_HEAD(&folio->lru) has no counterpart: the pool keeps its lists.
  const Pfn fields = folio + kHugetlbFieldsPage;
  pages.store(fields, kHugetlbSubpool, 0);     // hugetlb_set_folio_subpool(folio, NULL)
  pages.store(fields, kHugetlbCgroup, 0);      // set_hugetlb_cgroup(folio, NULL)
  pages.store(fields, kHugetlbCgroupRsvd, 0);  // set_hugetlb_cgroup_rsvd(folio, NULL)
  pages.store(fields, kHugetlbHwpoison, 0);    // the raw_hwp_page list, empty
  // An earlier folio's leaked list (5596d9e8b553 reverted) is not this one's.
  (void)take_raw_hwp_pages(folio);
}

void HugetlbFolio6x::clear_hugetlb_folio_fields(Pfn folio) {
  StructPageAccess& pages = machine_.pages();
  const Pfn fields = folio + kHugetlbFieldsPage;
  pages.store(fields, kHugetlbSubpool, 0);
  pages.store(fields, kHugetlbCgroup, kTailMapping);  // an ordinary tail's ->mapping again
  pages.store(fields, kHugetlbCgroupRsvd, 0);
  pages.store(fields, kHugetlbHwpoison, 0);
}

bool HugetlbFolio6x::prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("prep_and_add_allocated_folios");
  const Hstate& h = pool.hstate();
  // d8f5f7e445f0: init_new_hugetlb_folio() right after the allocation, so
  // the folio is PageHuge() before any of its struct pages is read-only.
  const bool mark_first = !reverted("d8f5f7e445f0");
  if (mark_first) init_new_hugetlb_folio(head);
  // prep_and_add_allocated_folios(): "Send list for bulk vmemmap
  // optimization processing". The pool grows one folio at a time
  // (HugetlbPool::alloc_pool_folio()): a batch of one.
  hugetlb_vmemmap_optimize_folios(h, {head});
  if (vmemmap_optimized(head)) pool.note_optimized(vmemmap_pages_freed_per_folio(h));
  if (!mark_first) init_new_hugetlb_folio(head);
  // Frozen since the allocation: the pool enqueues it at refcount 0.
  if (!reverted("2b21624fc232")) return true;
  // Before 2b21624fc232 the allocation's reference was put here
  // (put_page() -> free_huge_folio()); a speculative holder frees it.
  const RmwResult<int32_t> put = machine_.pages().add_return32(head, PageWord32::kRefcount, -1);
  return put.ok && put.value == 0;
}

// --- mm/hugetlb.c: freeing ------------------------------------------------------------------

bool HugetlbFolio6x::update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("__update_and_free_hugetlb_folio");
  const Hstate& h = pool.hstate();
  StructPageAccess& pages = machine_.pages();
  if (reverted("32c877191e02")) {
    // Before 32c877191e02, remove_hugetlb_folio() cleared the mark under
    // hugetlb_lock, vmemmap optimized or not: the folio is not PageHuge()
    // while its tails are still read-only.
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);  // __folio_clear_hugetlb(folio)
  }
  const bool clear_flag = vmemmap_optimized(head);
  if (clear_flag && !hugetlb_vmemmap_restore_folio(h, head)) {
    // "If we cannot allocate vmemmap pages, just refuse to free the page
    // and put the page back on the hugetlb free list and treat as a
    // surplus page." add_hugetlb_folio() marks it hugetlb again.
    pool.note_restore_failure();
    // The raw error pages stay on the folio's list (folio->_hugetlb_hwpoison
    // lives with the folio): the next free moves them.
    {
      SpinLockGuard g(pool.hugetlb_lock());
      pages.set_flag(head, PG_hugetlb);  // __folio_set_hugetlb(folio)
    }
    pool.add_hugetlb_folio(head, /*adjust_surplus=*/true);
    return false;
  }
  if (clear_flag) pool.note_restored(vmemmap_pages_freed_per_folio(h));
  // As shipped in 6.5-6.9 (until 5596d9e8b553, 6.10): the poison moved
  // while the folio is still hugetlb. A memory_failure() between the move
  // and the clear finds a hugetlb folio under hugetlb_lock and marks it
  // again (folio_set_hugetlb_hwpoison()): its raw page is never marked and
  // reaches buddy, its raw_hwp_page entry leaks.
  const bool poison_moved_first = reverted("5596d9e8b553");
  if (poison_moved_first && pages.test_flag(head, PG_hwpoison)) folio_clear_hugetlb_hwpoison(head);
  // "If vmemmap pages were allocated above, then we need to clear the
  // hugetlb flag under the hugetlb lock."
  if (pages.test_flag(head, PG_hugetlb)) {
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);  // __folio_clear_hugetlb(folio)
  }
  // 5596d9e8b553: "Move PageHWPoison flag from head page to the raw error
  // pages" only once the folio is no longer hugetlb, so that every poison
  // memory_failure() could still record under hugetlb_lock is moved.
  if (!poison_moved_first && pages.test_flag(head, PG_hwpoison)) folio_clear_hugetlb_hwpoison(head);
  clear_hugetlb_folio_fields(head);
  // folio_ref_unfreeze(folio, 1): atomic_set_release(). Release: whoever
  // takes a reference from this count sees the folio's teardown above.
  pages.store32(head, PageWord32::kRefcount, 1, std::memory_order_release);
  pool.free_folio_frames(head);  // hugetlb_free_folio(folio)
  return true;
}

bool HugetlbFolio6x::page_huge(Pfn pfn) {
  // PageHuge(): folio_test_hugetlb(page_folio(page)), the mark on the head
  // the generation's compound_head() finds (6.10: fake heads seen through).
  return machine_.pages().test_flag(compound_head(pfn), PG_hugetlb);
}

}  // namespace hvo::models
