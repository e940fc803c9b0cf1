// memory_failure() of a hugetlb page in 6.10 and 7.1 (mm/memory-failure.c,
// mm/hugetlb.c): the HugetlbFolio6x members that handle hardware poison.
#include <algorithm>

#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/common/hugetlb_folio_6x.h"
#include "models/memory_failure_hugetlb.h"

namespace hvo::models {

bool HugetlbFolio6x::note_raw_hwp_page(Pfn folio, Pfn page) {
  HostLockGuard g(raw_hwp_mu_);
  std::vector<Pfn>& list = raw_hwp_pages_[folio];
  if (std::find(list.begin(), list.end(), page) != list.end()) return false;
  list.push_back(page);
  return true;
}

std::vector<Pfn> HugetlbFolio6x::take_raw_hwp_pages(Pfn folio) {
  HostLockGuard g(raw_hwp_mu_);
  auto it = raw_hwp_pages_.find(folio);
  if (it == raw_hwp_pages_.end()) return {};
  std::vector<Pfn> pages = std::move(it->second);
  raw_hwp_pages_.erase(it);
  return pages;
}

void HugetlbFolio6x::folio_clear_hugetlb_hwpoison(Pfn folio) {
  // Runs after the restore: every struct page is private and writable again.
  StructPageAccess& pages = machine_.pages();
  pages.clear_flag(folio, PG_hwpoison);  // folio_clear_hwpoison(folio)
  // folio_free_raw_hwp(folio, true): SetPageHWPoison(p->page) of each entry.
  for (Pfn raw : take_raw_hwp_pages(folio)) pages.set_flag(raw, PG_hwpoison);
}

HugetlbFolio6x::HwpoisonSet HugetlbFolio6x::folio_set_hugetlb_hwpoison(Pfn folio, Pfn page) {
  // "int ret = folio_test_set_hwpoison(folio) ? -EHWPOISON : 0;" then the
  // raw page onto the folio's list unless it is there already.
  const RmwResult<uint64_t> r = machine_.pages().fetch_or(folio, PageWord::kFlags, page_flag(PG_hwpoison));
  const bool already = !r.ok || (r.value & page_flag(PG_hwpoison)) != 0;
  const bool added = r.ok && note_raw_hwp_page(folio, page);
  return HwpoisonSet{.already_poisoned = already || !added, .raw_added = added};
}

bool HugetlbFolio6x::folio_try_get(Pfn folio) {
  // folio_ref_add_unless(folio, 1, 0): atomic_add_unless(), fully ordered.
  StructPageAccess& pages = machine_.pages();
  int32_t v = static_cast<int32_t>(pages.load32(folio, PageWord32::kRefcount));
  while (v != 0) {
    switch (pages.cmpxchg32(folio, PageWord32::kRefcount, v, v + 1)) {
      case CasOutcome::kExchanged: return true;
      case CasOutcome::kFault: return false;  // recorded: a write to a read-only struct page
      case CasOutcome::kMismatch: break;      // v now holds the current count
    }
  }
  return false;
}

HugetlbFolio6x::HwpoisonGet HugetlbFolio6x::get_huge_page_for_hwpoison(HugetlbPool& pool, Pfn head, Pfn pfn) {
  StructPageAccess& pages = machine_.pages();
  // try_memory_failure_hugetlb()'s "retry:": -EBUSY once, then again with
  // MF_NO_RETRY, which marks the folio all the same.
  for (bool no_retry : {false, true}) {
    HwpoisonGet got;
    {
      SpinLockGuard g(pool.hugetlb_lock());
      // __get_huge_page_for_hwpoison(): "if (!folio_test_hugetlb(folio))
      // goto out;" (2: the normal page handling).
      if (!pages.test_flag(head, PG_hugetlb)) return HwpoisonGet{.not_hugetlb = true};
      const std::optional<FolioState> state = pool.folio_state(head);
      if (state == FolioState::kFree) {
        got.free = true;  // folio_test_hugetlb_freed()
      } else if (state == FolioState::kInUse) {
        // folio_test_hugetlb_migratable(): folio_try_get(); at refcount 0
        // (its last put waits for this lock) it counts as free.
        got.count_increased = folio_try_get(head);
        got.free = !got.count_increased;
      } else if (!no_retry) {
        continue;  // -EBUSY: being freed, or not in the pool yet
      } else if (!state) {
        // Not in the pool yet (being prepared: HVO may be copying its head's
        // vmemmap page) or never to be (a temporary surplus folio): the
        // kernel marks it all the same, and a mark set between HVO's copy of
        // the head page and the remap would be lost with the old page. Left
        // out (docs/models.md): no mark, no record, MF_IGNORED.
        return HwpoisonGet{};
      }
      got.set = folio_set_hugetlb_hwpoison(head, pfn);
      // num_poisoned_pages_inc() of the raw page the list now holds: a free
      // folio's is being handled (the dissolve follows), any other folio
      // keeps it, as a poisoned folio keeps every later one.
      if (got.set.raw_added) {
        if (got.free && !got.set.already_poisoned)
          pool.hwpoison().handling(pfn);
        else
          pool.hwpoison().kept(pfn);
      }
    }
    // "out: if (count_increased) folio_put(folio);" (-EHWPOISON). The
    // kernel puts it under hugetlb_lock, where the reference is never the
    // last one (the owner holds another); here after the unlock, as a last
    // put takes the lock again in free_huge_folio().
    if (got.set.already_poisoned && got.count_increased) put_page(pool, head);
    return got;
  }
  return HwpoisonGet{};  // not reached: the second pass returns
}

void HugetlbFolio6x::memory_failure(HugetlbPool& pool, Pfn pfn) {
  OperationScope op("memory_failure");
  StructPageAccess& pages = machine_.pages();
  // try_memory_failure_hugetlb(): a page whose folio is hugetlb takes the
  // hugetlb path (checked again under hugetlb_lock below).
  auto ordinary_page = [&] {
    // An ordinary page: TestSetPageHWPoison(p); the simulated injection is
    // then undone (unpoison_memory()), as nothing here takes pages offline.
    // On a read-only tail this is the write of the 32c877191e02 and
    // d8f5f7e445f0 bugs (in 7.1 to the shared tail page of every folio).
    const RmwResult<uint64_t> r = pages.fetch_or(pfn, PageWord::kFlags, page_flag(PG_hwpoison));
    if (r.ok && (r.value & page_flag(PG_hwpoison)) == 0) pages.clear_flag(pfn, PG_hwpoison);
  };
  if (!page_huge(pfn)) {
    ordinary_page();
    return;
  }
  // The folio, found by the generation's compound_head(); its head's struct
  // page is private and writable.
  const Pfn head = compound_head(pfn);
  const HwpoisonGet got = get_huge_page_for_hwpoison(pool, head, pfn);
  if (got.not_hugetlb) {
    ordinary_page();
    return;
  }
  // -EHWPOISON (MF_MSG_ALREADY_POISONED), or -EBUSY with MF_NO_RETRY
  // (MF_MSG_GET_HWPOISON, ignored): the folio keeps the poison; a folio
  // being freed has its __update_and_free_hugetlb_folio() move it.
  if (got.set.already_poisoned || (!got.free && !got.count_increased)) return;
  if (got.count_increased) {
    // In use: hwpoison_user_mappings() (no mapping is modelled), then
    // me_huge_page() of an anonymous folio: "folio_put(folio);" (the
    // reference taken above; the owner's put frees it) and the dissolve
    // below, which fails while the owner holds it.
    put_page(pool, head);
  }
  // __page_handle_poison() -> dissolve_free_hugetlb_folio(): a free folio
  // removed under hugetlb_lock, restored, the poison moved to the raw page
  // (folio_clear_hugetlb_hwpoison()), freed.
  const DissolveResult res = pool.dissolve_free_hugetlb_folio(pfn);
  memory_failure_after_dissolve(*this, pool, pfn, head, res, PoisonOnBusyFolio::kKept);
}

}  // namespace hvo::models
