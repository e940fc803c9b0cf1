// hugetlb_free_vmemmap_enabled_key (renamed hugetlb_optimize_vmemmap_key
// in 5.19): the static key that turns on the fake-head check of
// compound_head() (include/linux/page-flags.h).
//
// A static key is code patching in the kernel: static_branch_inc() rewrites
// the branch with text_poke_bp(), which synchronizes every CPU (IPIs and
// sync_core) before it returns, so from then on every CPU takes the enabled
// path. Here it is a counter; enabled while it is above 0.
//
// Counting: static_branch_inc() before a folio's vmemmap is remapped and
// static_branch_dec() only once it has been restored (or the remap failed),
// so the key is on whenever a fake head can exist. That per-folio counting
// is the form of 78f39084b41d (5.19, "add hugetlb_optimize_vmemmap sysctl");
// 5.18 itself enabled the key once at boot (hugetlb_free_vmemmap=on),
// which keeps it on in every state the counter keeps it on.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/check.h"
#include "engine/task.h"

namespace hvo::v5_18 {

class StaticKey {
 public:
  // static_branch_inc(): seq_cst, the nearest atomic to text_poke_bp()'s
  // all-CPU synchronization: the increment is ordered before the remap
  // that follows it for every observer of both.
  void static_branch_inc() {
    sched_point(SchedEvent::kAtomic);
    count_.fetch_add(1, std::memory_order_seq_cst);
  }
  // static_branch_dec(): seq_cst for the same reason, ordered after the
  // restore that precedes it.
  void static_branch_dec() {
    sched_point(SchedEvent::kAtomic);
    const int64_t old = count_.fetch_sub(1, std::memory_order_seq_cst);
    HVO_CHECK(old > 0, "static_branch_dec() of a disabled key");
  }
  // static_branch_maybe(): the patched branch. seq_cst pairs with the
  // updates above; a branch read makes no schedule point (it is an
  // instruction fetch, not a data access).
  [[nodiscard]] bool enabled() const { return count_.load(std::memory_order_seq_cst) > 0; }
  [[nodiscard]] int64_t count() const { return count_.load(std::memory_order_seq_cst); }

 private:
  std::atomic<int64_t> count_{0};
};

}  // namespace hvo::v5_18
