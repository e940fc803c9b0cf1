// The word under every simulated exclusive lock (spinlock, mutex): 0 free,
// 1 taken, 2 taken with a sleeping waiter (a mutex in free mode only).
// Acquisition is a CAS loop with a schedule point before each attempt and
// sched_blocked() after each failure, so that in controlled mode (one OS
// thread, fibers) the scheduler runs the holder instead of letting the
// waiter spin forever. A mutex waiter in free mode sleeps instead
// (acquire_sleeping()), as mutex_lock()'s does.
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

  // mutex_lock(): in free mode a waiter sleeps on the word (a futex) rather
  // than yield in a loop, as __mutex_lock_common() puts the task on the
  // wait list and schedules. A CPU that yields in a loop stays on its core,
  // and the membarrier() of every TLB flush (Mmu::wait_for_flush_ipis())
  // then interrupts it; a sleeping one is not running and is left alone.
  // The states are those of Drepper's "Futexes Are Tricky" mutex: a waiter
  // marks the word 2 before sleeping, and release_waking() wakes one only
  // when it reads 2. Controlled mode keeps acquire()'s loop: its blocked
  // points are what lets the scheduler run the holder.
  void acquire_sleeping(uint64_t sched_address) {
    if (current().hook != nullptr) {
      acquire(sched_address);
      return;
    }
    sched_point(SchedEvent::kLockAcquire, sched_address);
    if (try_acquire()) return;
    // acquire: as try_acquire()'s CAS, on the exchange that finds it free.
    while (word_.exchange(2, std::memory_order_acquire) != 0) {
      ++current().schedule_points;  // one blocked point per sleep, as sched_blocked() counts
      word_.wait(2, std::memory_order_relaxed);
    }
    memory_acquired(this);
  }

  // mutex_unlock(): release, and wake a sleeper if one marked the word.
  void release_waking() {
    memory_releasing(this);
    if (word_.exchange(0, std::memory_order_release) == 2) word_.notify_one();
  }

  // relaxed: a racy snapshot for spin_is_locked()-style diagnostics only.
  [[nodiscard]] bool is_locked() const { return word_.load(std::memory_order_relaxed) != 0; }

 private:
  std::atomic<uint32_t> word_{0};
};

}  // namespace hvo
