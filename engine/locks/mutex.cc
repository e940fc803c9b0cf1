#include "engine/locks/mutex.h"

#include "engine/tsan_annotations.h"

namespace hvo {

Mutex::Mutex(LockClass& cls) : cls_(cls), sched_address_(cls.new_instance_address()) {
  HVO_TSAN_MUTEX_CREATE(this, HVO_TSAN_NOT_STATIC);
}

Mutex::~Mutex() { HVO_TSAN_MUTEX_DESTROY(this, HVO_TSAN_NOT_STATIC); }

void Mutex::lock() {
  Lockdep& dep = cls_.lockdep();
  dep.might_sleep("mutex_lock");
  dep.check_self_deadlock(cls_, this, /*shared=*/false);
  HVO_TSAN_MUTEX_PRE_LOCK(this, 0);
  word_.acquire_sleeping(sched_address_);
  HVO_TSAN_MUTEX_POST_LOCK(this, 0, 0);
  dep.acquire(cls_, this, /*shared=*/false);
}

bool Mutex::try_lock() {
  HVO_TSAN_MUTEX_PRE_LOCK(this, HVO_TSAN_TRY_LOCK);
  sched_point(SchedEvent::kLockAcquire, sched_address_);
  const bool ok = word_.try_acquire();
  HVO_TSAN_MUTEX_POST_LOCK(this, ok ? HVO_TSAN_TRY_LOCK : HVO_TSAN_TRY_LOCK | HVO_TSAN_TRY_LOCK_FAILED, 0);
  if (ok) cls_.lockdep().acquire_trylock(cls_, this, /*shared=*/false);
  return ok;
}

void Mutex::unlock() {
  Lockdep& dep = cls_.lockdep();
  if (!dep.held_by_current(this)) {
    // Not ours (mutexes have owners): record it and leave the word alone.
    dep.release(cls_, this);
    return;
  }
  sched_point(SchedEvent::kLockRelease, sched_address_);
  dep.release(cls_, this);
  HVO_TSAN_MUTEX_PRE_UNLOCK(this, 0);
  word_.release_waking();
  HVO_TSAN_MUTEX_POST_UNLOCK(this, 0);
}

void Mutex::AssertHeld() const { cls_.lockdep().assert_held(cls_, this, /*exclusive=*/false); }

void Mutex::AssertNotHeld() const { cls_.lockdep().assert_not_held(cls_, this); }

}  // namespace hvo
