// The word under every simulated exclusive lock (spinlock, mutex): 0 free,
// 1 taken. Acquisition is a CAS loop with a schedule point before each
// attempt and sched_blocked() after each failure, so that in controlled mode
// (one OS thread, fibers) the scheduler runs the holder instead of letting
// the waiter spin forever; nothing here blocks the OS thread.
//
// No lockdep, no TSan annotations: the locks that wrap a LockWord add them
// around it, at the lock's own address.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/task.h"

namespace hvo {

class LockWord {
 public:
  // One attempt. acquire on success: the critical section's accesses may
  // not move above it and see everything the previous holder wrote before
  // its release (queued_spin_trylock / __mutex_trylock use
  // atomic_try_cmpxchg_acquire). relaxed on failure: nothing is entered.
  [[nodiscard]] bool try_acquire() {
    uint32_t expected = 0;
    if (!word_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return false;
    memory_acquired(this);  // the race detector's happens-before edge from the last release
    return true;
  }

  // Waits until the word is ours. sched_address names the lock in traces.
  void acquire(uint64_t sched_address) {
    for (;;) {
      sched_point(SchedEvent::kLockAcquire, sched_address);
      if (try_acquire()) return;
      sched_blocked(SchedEvent::kLockAcquire, sched_address);
    }
  }

  // release: the critical section's accesses may not move below the store,
  // and the next acquirer's CAS synchronizes with it (queued_spin_unlock's
  // smp_store_release, __mutex_unlock_fast's release cmpxchg).
  void release() {
    memory_releasing(this);
    word_.store(0, std::memory_order_release);
  }

  // relaxed: a racy snapshot for spin_is_locked()-style diagnostics only.
  [[nodiscard]] bool is_locked() const { return word_.load(std::memory_order_relaxed) != 0; }

 private:
  std::atomic<uint32_t> word_{0};
};

}  // namespace hvo
