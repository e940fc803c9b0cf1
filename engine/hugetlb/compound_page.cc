#include "engine/hugetlb/compound_page.h"

#include <fmt/format.h>

#include "engine/struct_page.h"

namespace hvo {

void prep_compound_page(StructPageAccess& pages, Pfn head, Order order) {
  pages.set_flag(head, PG_head);  // __SetPageHead()
  const uint64_t nr = order.nr_pages();
  const uint64_t head_word = compound_head_value(head);
  for (uint64_t i = 1; i < nr; ++i) {
    // prep_compound_tail(): mapping first, then compound_head; the kernel
    // orders nothing here (the page is not yet visible to anyone).
    pages.store(head + i, PageWord::kMapping, kTailMapping);
    pages.store(head + i, PageWord::kCompoundHead, head_word);
  }
  // set_compound_page_dtor() + set_compound_order() + the compound mapcount.
  pages.store(head + 1, PageWord::kCompoundInfo, compound_info(kCompoundPageDtor, order));
  pages.store32(head + 1, PageWord32::kMapcount, -1);
}

namespace {

// bad_page(): one record per bad struct page, with the kernel's reason.
void bad_page(ViolationLog& log, StructPageAccess& pages, Pfn pfn, const char* reason) {
  Violation v = make_violation(ViolationKind::kBadPageState,
                               fmt::format("Bad page state: {} (flags {:#x} refcount {} mapcount {})", reason,
                                           pages.flags(pfn), pages.page_ref_count(pfn),
                                           pages.load32(pfn, PageWord32::kMapcount)));
  v.pfn = pfn;
  v.address = pfn_to_page(pfn).value();
  log.record(std::move(v));
}

// free_tail_pages_check(): returns false after reporting a bad tail.
bool check_tail(ViolationLog& log, StructPageAccess& pages, Pfn head, uint64_t index) {
  const Pfn p = head + index;
  const uint64_t mapping = pages.load(p, PageWord::kMapping);
  if (index == 1) {
    // page[1]'s mapcount word is the compound mapcount: must be unmapped.
    if (pages.load32(p, PageWord32::kMapcount) != -1) {
      bad_page(log, pages, p, "nonzero compound_mapcount");
      return false;
    }
  } else if (index != 2 && mapping != kTailMapping) {
    // page[2]'s mapping is deferred_list.next: not checked.
    bad_page(log, pages, p, "corrupted mapping in tail page");
    return false;
  }
  const uint64_t ch = pages.load(p, PageWord::kCompoundHead);
  if (!is_tail_word(ch)) {
    bad_page(log, pages, p, "PageTail not set");
    return false;
  }
  if (head_of_tail(ch, p) != head) {  // either encoding (struct_page.h)
    bad_page(log, pages, p, "compound_head not consistent");
    return false;
  }
  return true;
}

// What a page must look like when freed (free_page_is_bad()): flags outside
// the "check at free" set, a refcount or mapcount in use.
bool check_free_page(ViolationLog& log, StructPageAccess& pages, Pfn p, bool is_head) {
  // PG_head itself is fine on the head: the compound page is freed whole.
  if ((pages.flags(p) & kPageFlagsCheckAtFree) != 0) {
    bad_page(log, pages, p, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
    return false;
  }
  if (pages.page_ref_count(p) != 0) {
    bad_page(log, pages, p, "nonzero _refcount");
    return false;
  }
  if (!is_head) return true;
  if (pages.load32(p, PageWord32::kMapcount) != -1) {
    bad_page(log, pages, p, "nonzero mapcount");
    return false;
  }
  return true;
}

// The state of a page in buddy. PG_hwpoison goes too: memory_failure would
// take a poisoned page off buddy (take_page_off_buddy()); the simulated
// injection is undone instead, so that every frame comes back.
void reset_to_free(StructPageAccess& pages, Pfn p) {
  pages.store(p, PageWord::kFlags, 0);
  pages.store(p, PageWord::kCompoundHead, 0);
  pages.store(p, PageWord::kCompoundInfo, 0);
  pages.store(p, PageWord::kMapping, 0);
  pages.store(p, PageWord::kPrivate, 0);
  pages.store32(p, PageWord32::kMapcount, -1);
}

}  // namespace

bool free_pages_prepare(StructPageAccess& pages, ViolationLog& log, Pfn head, Order order) {
  bool ok = check_free_page(log, pages, head, /*is_head=*/true);
  const uint64_t nr = order.nr_pages();
  for (uint64_t i = 1; i < nr; ++i) {
    // After the first bad page of a folio the rest are only reset: one
    // report per folio, as bad_page() rate-limits its own.
    if (ok) ok = check_tail(log, pages, head, i) && check_free_page(log, pages, head + i, /*is_head=*/false);
    reset_to_free(pages, head + i);
  }
  reset_to_free(pages, head);
  return ok;
}

}  // namespace hvo

namespace hvo {

void free_compound_page(StructPageAccess& pages, BuddyAllocator& buddy, ViolationLog& log, Pfn head) {
  const Order order = compound_order_of(pages.load(head + 1, PageWord::kCompoundInfo));
  free_pages_prepare(pages, log, head, order);
  if (order > BuddyAllocator::kMaxOrder)
    buddy.free_contig_range(head, order.nr_pages());
  else
    buddy.free_pages(head, order);
}

}  // namespace hvo
