// What became of each hardware poison memory_failure() handled on a hugetlb
// folio: the pool's record for the hwpoison-conservation invariant, the
// kernel's num_poisoned_pages with the page each count stands for.
//
// The kernel never drops a handled poison: a dissolved free folio's poison
// moves to its raw error page, which take_page_off_buddy() keeps out of the
// allocator; a folio in use, being freed, or whose dissolve fails keeps
// PG_hwpoison on its head and the raw page on its raw-error list
// (folio->_hugetlb_hwpoison, folio_set_hugetlb_hwpoison()), and stays out
// of every allocation (dequeue_hugetlb_folio_node_exact() skips it) until
// it is freed, when __update_and_free_hugetlb_folio()'s
// folio_clear_hugetlb_hwpoison() moves the flag to the raw pages. The only
// way out is unpoison_memory().
//
//   state      set by                          means
//   handling   memory_failure(), after its     the poison is being handled:
//              test-and-set on the head won    only while memory_failure() runs
//   kept       memory_failure(), on a folio    the folio keeps PG_hwpoison and
//              in use or being freed, or one   the raw page on its list; when
//              that could not be dissolved     its frames go back, the raw page
//                                              must show PG_hwpoison
//   retired    the pool, when the folio's      moved to the raw page, which
//              frames go back (free)           leaves the allocator
//   (erased)   unpoison_memory()               lifted on purpose
//
// Host-side bookkeeping (no schedule point, no simulated access): a
// HostMutex, never held across a schedule point. Thread-safe.
#pragma once

#include <map>
#include <vector>

#include "engine/host_mutex.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"

namespace hvo {

enum class HwpoisonState : uint8_t { kHandling, kKept, kRetired };

class HwpoisonLedger {
 public:
  void handling(Pfn raw) EXCLUDES(mu_) { set(raw, HwpoisonState::kHandling); }
  void kept(Pfn raw) EXCLUDES(mu_) { set(raw, HwpoisonState::kKept); }
  // memory_failure()'s own poison, still being handled, stays with its
  // folio; one the folio's free retired meanwhile stays retired.
  void keep_if_handling(Pfn raw) EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    auto it = entries_.find(raw);
    if (it != entries_.end() && it->second == HwpoisonState::kHandling) it->second = HwpoisonState::kKept;
  }
  void unpoisoned(Pfn raw) EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    entries_.erase(raw);
  }
  // The frames [first, first + n) left the pool for buddy: their poison,
  // handled or kept, is retired.
  void retire_range(Pfn first, uint64_t n) EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    for (auto it = entries_.lower_bound(first); it != entries_.end() && it->first - first < n; ++it)
      it->second = HwpoisonState::kRetired;
  }
  // Whether [first, first + n) holds a poison being handled or kept: a
  // folio whose head shows PG_hwpoison, which every dequeue skips.
  [[nodiscard]] bool poisoned_in(Pfn first, uint64_t n) const EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    for (auto it = entries_.lower_bound(first); it != entries_.end() && it->first - first < n; ++it)
      if (it->second != HwpoisonState::kRetired) return true;
    return false;
  }
  // The kept poisons of [first, first + n): the raw pages a folio's free
  // must have marked.
  [[nodiscard]] std::vector<Pfn> kept_pages_in(Pfn first, uint64_t n) const EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    std::vector<Pfn> raw;
    for (auto it = entries_.lower_bound(first); it != entries_.end() && it->first - first < n; ++it)
      if (it->second == HwpoisonState::kKept) raw.push_back(it->first);
    return raw;
  }
  [[nodiscard]] std::map<Pfn, HwpoisonState> entries() const EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    return entries_;
  }
  [[nodiscard]] bool empty() const EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    return entries_.empty();
  }

 private:
  void set(Pfn raw, HwpoisonState s) EXCLUDES(mu_) {
    HostLockGuard g(mu_);
    entries_[raw] = s;
  }

  mutable HostMutex mu_;
  std::map<Pfn, HwpoisonState> entries_ GUARDED_BY(mu_);
};

}  // namespace hvo
