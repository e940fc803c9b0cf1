// Reference counts of 6.10 (include/linux/page_ref.h) that HVO depends on:
// page_ref_add_unless() as speculative PFN walkers call it
// (get_page_unless_zero(), folio_try_get()), and folio_ref_freeze().
//
// page_ref_add_unless(page, nr, u), with bd225530a4c7 and the 2025
// "fix memory loads ordering" follow-up:
//
//   rcu_read_lock();
//   if (page_count_writable(page, u))     // _refcount (acquire) != u, and
//           ret = atomic_add_unless(...); // not a fake head
//   rcu_read_unlock();
//
// The read-side section pairs with HVO's synchronize_rcu() before it
// remaps (hugetlb_vmemmap.h): a walker that found the struct page writable
// finishes its write before the page can become read-only. The refcount
// is read first, with acquire: a walker that sees the count a folio got
// after HVO (page_ref_unfreeze(), a release) also sees the remap, so its
// fake-head check cannot be stale; one that sees 0 stops. Either way a
// fake head is never written.
//
// Revert `ref-acquire`: bd225530a4c7's order, the fake-head check first,
// then page_ref_count() (relaxed). Only a weak memory model can tell the
// difference.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/machine.h"
#include "models/v5_18/fake_head.h"

namespace hvo::v6_10 {

class PageRef {
 public:
  // refcount_first_acquire false: the `ref-acquire` revert.
  PageRef(Machine& machine, v5_18::FakeHeads& fake_heads, bool refcount_first_acquire)
      : m_(machine), fake_heads_(fake_heads), refcount_first_acquire_(refcount_first_acquire) {}

  // page_ref_add_unless(page, nr, u): adds nr unless the count is u, the
  // page is a fake head, or its struct page is about to become read-only.
  [[nodiscard]] bool page_ref_add_unless(Pfn page, int32_t nr, int32_t u);
  // folio_ref_freeze(folio, count): atomic_cmpxchg(&_refcount, count, 0),
  // fully ordered. True when the count was `count` and is now 0.
  [[nodiscard]] bool folio_ref_freeze(Pfn folio, int32_t count);

  // The memory order of page_count_writable()'s refcount load: acquire
  // with the fix, relaxed (page_ref_count()) with `ref-acquire` reverted.
  [[nodiscard]] std::memory_order refcount_check_order() const {
    return refcount_first_acquire_ ? std::memory_order_acquire : std::memory_order_relaxed;
  }

 private:
  // page_count_writable(page, u).
  [[nodiscard]] bool page_count_writable(Pfn page, int32_t u);
  // atomic_add_unless(&page->_refcount, a, u): read, then cmpxchg while
  // the count is not u. The cmpxchg is a locked write cycle: on a
  // read-only struct page it faults even when the comparison fails.
  [[nodiscard]] bool atomic_add_unless(Pfn page, int32_t a, int32_t u);

  Machine& m_;
  v5_18::FakeHeads& fake_heads_;
  const bool refcount_first_acquire_;
};

}  // namespace hvo::v6_10
