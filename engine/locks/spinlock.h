// spinlock_t: spin_lock()/spin_unlock() on a LockWord, checked by lockdep.
//
// Holding one is atomic context: lockdep counts it in the task's
// preempt_count and might_sleep() under it is a reported bug. Taking an
// instance the task already holds is an AA deadlock (SelfDeadlock).
#pragma once

#include <cstdint>

#include "engine/locks/lock_word.h"
#include "engine/locks/lockdep.h"
#include "engine/thread_annotations.h"

namespace hvo {

class CAPABILITY("spinlock") SpinLock {
 public:
  explicit SpinLock(LockClass& cls);
  ~SpinLock();
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() ACQUIRE();
  void unlock() RELEASE();
  [[nodiscard]] bool try_lock() TRY_ACQUIRE(true);

  // lockdep_assert_held(): records kLockNotHeld if the current task does not
  // hold this lock. Never aborts; tells the static analysis it is held.
  void AssertHeld() const ASSERT_CAPABILITY(this);
  // lockdep_assert_not_held(): records kLockHeld if the current task holds it.
  void AssertNotHeld() const;

  // spin_is_locked(): held by anyone. A racy snapshot, for diagnostics.
  [[nodiscard]] bool is_locked() const { return word_.is_locked(); }
  [[nodiscard]] LockClass& lock_class() const { return cls_; }
  // The lock's stable address in schedule points and traces.
  [[nodiscard]] uint64_t sched_address() const { return sched_address_; }

 private:
  LockClass& cls_;
  const uint64_t sched_address_;
  LockWord word_;
};

class SCOPED_CAPABILITY SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& l) ACQUIRE(l) : l_(l) { l_.lock(); }
  ~SpinLockGuard() RELEASE() { l_.unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace hvo
