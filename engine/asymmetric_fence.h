// An asymmetric store->load fence pair: a cheap fence on the fast path of
// one side (every vmemmap access, Mmu::Instruction) and an expensive one
// on the rare path of the other (a TLB flush), together as strong as a
// seq_cst fence on both sides.
//
// The heavy side is Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): a
// full barrier on every CPU running a thread of this process (by IPI, much
// as the TLB flush it serves), and a context switch is one for a thread
// that is not running. The light side then only has to keep the compiler
// from moving accesses across it. Where membarrier is missing (a kernel
// before 4.14, a seccomp filter), both sides fall back to
// std::atomic_thread_fence(seq_cst).
#pragma once

#include <atomic>

namespace hvo {

namespace detail {
// Set once, before any fence is used (asymmetric_fence_init()).
inline std::atomic<bool> membarrier_registered{false};
}  // namespace detail

// Registers the process for expedited membarrier (idempotent, thread-safe).
void asymmetric_fence_init();

// The fast path's fence: pairs with asymmetric_heavy_fence().
inline void asymmetric_light_fence() {
  if (detail::membarrier_registered.load(std::memory_order_relaxed))
    std::atomic_signal_fence(std::memory_order_seq_cst);
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

// The slow path's fence: orders this thread's earlier stores before its
// later loads, and likewise for every light fence another thread runs.
void asymmetric_heavy_fence();

}  // namespace hvo
