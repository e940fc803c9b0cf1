#include "models/v6_10/page_ref.h"

#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::v6_10 {

bool PageRef::page_count_writable(Pfn page, int32_t u) {
  StructPageAccess& pages = m_.pages();
  if (refcount_first_acquire_) {
    // "The refcount check is ordered before the fake-head check to prevent
    // the following race": HVO freezes, synchronize_rcu()s and remaps; a
    // walker that checked for a fake head before the remap and read the
    // count after page_ref_unfreeze() would write a read-only page.
    // atomic_read_acquire(): pairs with the release of the unfreeze, so
    // page_fixed_fake_head() below reads the remapped struct pages. "The
    // refcount check also prevents modification attempts to other (r/o)
    // tail pages that are not fake heads": their count reads 0.
    if (pages.load32(page, PageWord32::kRefcount, std::memory_order_acquire) == u) return false;
    return fake_heads_.page_fixed_fake_head(page) == page;
  }
  // bd225530a4c7: `!page_is_fake_head(page) && page_ref_count(page) != u`.
  if (fake_heads_.page_is_fake_head(page)) return false;
  return pages.load32(page, PageWord32::kRefcount, std::memory_order_relaxed) != u;
}

bool PageRef::atomic_add_unless(Pfn page, int32_t a, int32_t u) {
  StructPageAccess& pages = m_.pages();
  int32_t c = pages.load32(page, PageWord32::kRefcount);  // atomic_read()
  while (c != u) {
    // atomic_try_cmpxchg(): fully ordered.
    switch (pages.cmpxchg32(page, PageWord32::kRefcount, c, c + a)) {
      case CasOutcome::kExchanged: return true;
      case CasOutcome::kFault: return false;  // recorded: a write to a read-only struct page
      case CasOutcome::kMismatch: break;      // c now holds the current count
    }
  }
  return false;
}

bool PageRef::page_ref_add_unless(Pfn page, int32_t nr, int32_t u) {
  OperationScope op("page_ref_add_unless");
  // rcu_read_lock(): "avoid writing to the vmemmap area being remapped".
  RcuReadGuard rcu(m_.rcu());
  if (!page_count_writable(page, u)) return false;
  return atomic_add_unless(page, nr, u);
}

bool PageRef::folio_ref_freeze(Pfn folio, int32_t count) {
  int32_t expected = count;
  // page_ref_freeze(): atomic_cmpxchg(&page->_refcount, count, 0) == count.
  return m_.pages().cmpxchg32(folio, PageWord32::kRefcount, expected, 0) == CasOutcome::kExchanged;
}

}  // namespace hvo::v6_10
