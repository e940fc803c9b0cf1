// memory_failure() of a hugetlb page in 6.10 and 7.1 (mm/memory-failure.c,
// mm/hugetlb.c): the HugetlbFolio6x members that handle hardware poison.
#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/memory_failure_hugetlb.h"
#include "models/common/hugetlb_folio_6x.h"

namespace hvo::models {

void HugetlbFolio6x::note_raw_hwp_page(Pfn folio, Pfn page) {
  HostLockGuard g(raw_hwp_mu_);
  raw_hwp_page_[folio] = page;
}

std::optional<Pfn> HugetlbFolio6x::take_raw_hwp_page(Pfn folio) {
  HostLockGuard g(raw_hwp_mu_);
  auto it = raw_hwp_page_.find(folio);
  if (it == raw_hwp_page_.end()) return std::nullopt;
  const Pfn page = it->second;
  raw_hwp_page_.erase(it);
  return page;
}

void HugetlbFolio6x::folio_clear_hugetlb_hwpoison(Pfn folio, std::optional<Pfn> raw) {
  // Runs after the restore: every struct page is private and writable again.
  StructPageAccess& pages = machine_.pages();
  pages.clear_flag(folio, PG_hwpoison);        // folio_clear_hwpoison(folio)
  if (raw) pages.set_flag(*raw, PG_hwpoison);  // folio_free_raw_hwp(folio, true): SetPageHWPoison(p->page)
}

void HugetlbFolio6x::memory_failure(HugetlbPool& pool, Pfn pfn) {
  OperationScope op("memory_failure");
  StructPageAccess& pages = machine_.pages();
  // try_memory_failure_hugetlb() -> get_huge_page_for_hwpoison(): only a
  // page whose folio is hugetlb takes the hugetlb path.
  if (!page_huge(pfn)) {
    // An ordinary page: TestSetPageHWPoison(p); the simulated injection is
    // then undone (unpoison_memory()), as nothing here takes pages offline.
    // On a read-only tail this is the write of the 32c877191e02 and
    // d8f5f7e445f0 bugs (in 7.1 to the shared tail page of every folio).
    const RmwResult<uint64_t> r = pages.fetch_or(pfn, PageWord::kFlags, page_flag(PG_hwpoison));
    if (r.ok && (r.value & page_flag(PG_hwpoison)) == 0) pages.clear_flag(pfn, PG_hwpoison);
    return;
  }
  // hugetlb_update_hwpoison(): folio_test_set_hwpoison() on the head, found
  // by the generation's compound_head(): on its private writable page.
  const Pfn head = compound_head(pfn);
  const RmwResult<uint64_t> r = pages.fetch_or(head, PageWord::kFlags, page_flag(PG_hwpoison));
  if (!r.ok || (r.value & page_flag(PG_hwpoison)) != 0) return;  // already being handled
  pool.hwpoison().handling(pfn);
  // A free folio: page_handle_poison() -> dissolve_free_hugetlb_folio():
  // removed under hugetlb_lock (the raw page recorded on the folio's list),
  // restored, the poison moved to the raw page, freed.
  const DissolveResult res = pool.dissolve_free_hugetlb_folio(pfn, [&](Pfn h) { note_raw_hwp_page(h, pfn); });
  memory_failure_after_dissolve(*this, pool, pfn, head, res);
}

}  // namespace hvo::models
