// struct mutex: mutex_lock()/mutex_unlock() on a LockWord, checked by
// lockdep. mutex_lock() may sleep, so it calls might_sleep() first: taking a
// mutex under a spinlock or inside rcu_read_lock() is a reported bug even
// when the mutex happens to be free. Under the controlled scheduler a
// waiter yields to it (sched_blocked) until the owner unlocks; in free mode
// it sleeps on the lock word (LockWord::acquire_sleeping()), as the kernel's
// mutex waiter schedules out.
#pragma once

#include <cstdint>

#include "engine/locks/lock_word.h"
#include "engine/locks/lockdep.h"
#include "engine/thread_annotations.h"

namespace hvo {

class CAPABILITY("mutex") Mutex {
 public:
  explicit Mutex(LockClass& cls);
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE();
  void unlock() RELEASE();
  // mutex_trylock(): never sleeps, so no might_sleep().
  [[nodiscard]] bool try_lock() TRY_ACQUIRE(true);

  void AssertHeld() const ASSERT_CAPABILITY(this);  // lockdep_assert_held(); records kLockNotHeld
  void AssertNotHeld() const;                       // records kLockHeld

  // mutex_is_locked(): held by anyone. A racy snapshot, for diagnostics.
  [[nodiscard]] bool is_locked() const { return word_.is_locked(); }
  [[nodiscard]] LockClass& lock_class() const { return cls_; }
  [[nodiscard]] uint64_t sched_address() const { return sched_address_; }

 private:
  LockClass& cls_;
  const uint64_t sched_address_;
  LockWord word_;
};

class SCOPED_CAPABILITY MutexGuard {
 public:
  explicit MutexGuard(Mutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
  ~MutexGuard() RELEASE() { m_.unlock(); }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;

 private:
  Mutex& m_;
};

}  // namespace hvo
