// The one hook every shared access of the simulated machine calls.
//
// PTE loads and stores, struct page field accesses, lock acquire/release,
// atomics, RCU, buddy operations and TLB fills/flushes all call
// sched_point() before they touch shared state. With no hook installed (free
// mode: real threads) it costs a thread-local load, a counter increment and
// a predicted branch. The controlled scheduler installs a ScheduleHook on
// each simulated CPU's task and decides there who runs next, without any
// call site changing (folly's DeterministicSchedule::beforeSharedAccess).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/sched/memory_access.h"

namespace hvo {

enum class SchedEvent : uint8_t {
  kPteLoad,
  kPteStore,
  kPageLoad,    // a struct page field read through the MMU
  kPageStore,   // a struct page field write through the MMU
  kPageRmw,     // an atomic read-modify-write of a struct page field
  kMemCopy,     // a page-sized copy (copy_page) through physical memory
  kLockAcquire,
  kLockRelease,
  kAtomic,      // any other atomic on shared simulator state
  kRcuReadLock,
  kRcuReadUnlock,
  kSynchronizeRcu,
  kBuddyAlloc,
  kBuddyFree,
  kTlbFill,
  kTlbFlush,
  kMemInit,     // direct-map stores initialising a page (struct pages) before it is published
};
inline constexpr int kNumSchedEvents = static_cast<int>(SchedEvent::kMemInit) + 1;

std::string_view to_string(SchedEvent e);

// What a schedule point is about: the event, the simulated address it
// touches (virtual or physical, 0 when none) and the value stored or
// loaded when there is one.
struct SchedulePoint {
  SchedEvent event;
  uint64_t address = 0;
  uint64_t value = 0;
};

class ScheduleHook {
 public:
  virtual ~ScheduleHook() = default;
  // Called before the access happens. May switch to another simulated CPU.
  virtual void point(const SchedulePoint& p) = 0;
  // Called when the current task cannot make progress (a lock is taken,
  // synchronize_rcu waits for a reader): a fair scheduler must run someone
  // else before coming back.
  virtual void blocked(const SchedulePoint& p) = 0;
};

// What a memory-model layer sees of the simulated memory, beside the
// schedule points: every word access of PhysMem (with its kind, size and
// memory order), the successful acquires and the releases of host
// synchronization words (lock words, the RCU slots) and fences. The
// controlled scheduler installs one (memory_hook) for the duration of an
// execution, on its one OS thread; in free mode it is null and each hook
// site costs a thread-local load and a predicted branch.
// What the hook did with an access: under a store-buffer memory model a
// store may be buffered and a load forwarded from the buffer; then the
// caller must not touch memory itself (`handled`), and a load returns
// `value` (the low bytes of the access's size).
struct MemoryResult {
  bool handled = false;
  uint64_t value = 0;
};

class MemoryHook {
 public:
  virtual ~MemoryHook() = default;
  // Before the access is performed. a.address is the simulated address
  // (physical for PhysMem), `host` the bytes behind it (where a buffered
  // store is written when it drains).
  virtual MemoryResult on_access(const sched::MemoryAccess& a, void* host) = 0;
  // After a successful acquire of the synchronization word `sync` (a host
  // address, only compared for identity within one execution).
  virtual void on_acquire(const void* sync) = 0;
  // Before the release of `sync` (the critical section stays above it).
  virtual void on_release(const void* sync) = 0;
  // A fence: release = smp_wmb, acquire = smp_rmb, seq_cst = smp_mb.
  virtual void on_fence(std::memory_order mo) = 0;
  // The running CPU's buffered stores (tso/weak) inside [begin, end),
  // oldest first, each passed to `visit` (its address, size and value);
  // none otherwise. Records no access: it is how a checker sees memory as
  // that CPU does (engine/page_poison.h).
  using BufferedVisitor = std::function<void(uint64_t address, uint8_t size, uint64_t value)>;
  virtual void visit_buffered(uint64_t /*begin*/, uint64_t /*end*/, const BufferedVisitor& /*visit*/) const {}
};

namespace detail {
inline thread_local MemoryHook* memory_hook = nullptr;
}  // namespace detail

inline void memory_acquired(const void* sync) {
  if (MemoryHook* h = detail::memory_hook) [[unlikely]]
    h->on_acquire(sync);
}
inline void memory_releasing(const void* sync) {
  if (MemoryHook* h = detail::memory_hook) [[unlikely]]
    h->on_release(sync);
}

// smp_wmb() / smp_rmb() / smp_mb() for the models: the host fence (free
// mode's real threads need it) and the hook's (the race detector's
// happens-before and, under a weak memory model, the store buffers).
inline void smp_fence(std::memory_order mo) {
  std::atomic_thread_fence(mo);
  if (MemoryHook* h = detail::memory_hook) [[unlikely]]
    h->on_fence(mo);
}
inline void smp_wmb() { smp_fence(std::memory_order_release); }
inline void smp_rmb() { smp_fence(std::memory_order_acquire); }
inline void smp_mb() { smp_fence(std::memory_order_seq_cst); }

}  // namespace hvo
