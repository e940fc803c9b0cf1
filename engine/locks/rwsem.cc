#include "engine/locks/rwsem.h"

#include <fmt/format.h>

#include "engine/task.h"
#include "engine/tsan_annotations.h"

namespace hvo {

RwSemaphore::RwSemaphore(LockClass& cls) : cls_(cls), sched_address_(cls.new_instance_address()) {
  HVO_TSAN_MUTEX_CREATE(this, HVO_TSAN_NOT_STATIC);
}

RwSemaphore::~RwSemaphore() { HVO_TSAN_MUTEX_DESTROY(this, HVO_TSAN_NOT_STATIC); }

bool RwSemaphore::try_read_once() {
  // rwsem_read_trylock() adds RWSEM_READER_BIAS with acquire and backs off
  // if a writer holds it; a CAS from a writer-free value is the same without
  // the back-off. acquire: the read section sees what the last writer wrote
  // before up_write(). relaxed on failure: nothing is entered.
  uint64_t c = count_.load(std::memory_order_relaxed);
  while ((c & kWriterLocked) == 0) {
    if (count_.compare_exchange_weak(c, c + kReaderBias, std::memory_order_acquire, std::memory_order_relaxed)) {
      memory_acquired(this);  // the race detector's edge from the last up_write()/up_read()
      return true;
    }
  }
  return false;
}

bool RwSemaphore::try_write_once() {
  // rwsem_write_trylock(): atomic_long_try_cmpxchg_acquire(count, 0,
  // RWSEM_WRITER_LOCKED). acquire: see everything earlier holders wrote.
  uint64_t expected = 0;
  if (!count_.compare_exchange_strong(expected, kWriterLocked, std::memory_order_acquire, std::memory_order_relaxed))
    return false;
  memory_acquired(this);  // the race detector's edge from every earlier release
  return true;
}

void RwSemaphore::down_read() {
  Lockdep& dep = cls_.lockdep();
  dep.might_sleep("down_read");
  dep.check_self_deadlock(cls_, this, /*shared=*/true);
  HVO_TSAN_MUTEX_PRE_LOCK(this, HVO_TSAN_READ_LOCK);
  for (bool waited = false;; waited = true) {
    sched_point(SchedEvent::kLockAcquire, sched_address_);
    if (try_read_once()) break;
    if (!waited) waits_.fetch_add(1, std::memory_order_relaxed);
    sched_blocked(SchedEvent::kLockAcquire, sched_address_);
  }
  HVO_TSAN_MUTEX_POST_LOCK(this, HVO_TSAN_READ_LOCK, 0);
  dep.acquire(cls_, this, /*shared=*/true);
}

void RwSemaphore::down_write() {
  Lockdep& dep = cls_.lockdep();
  dep.might_sleep("down_write");
  dep.check_self_deadlock(cls_, this, /*shared=*/false);
  HVO_TSAN_MUTEX_PRE_LOCK(this, 0);
  for (bool waited = false;; waited = true) {
    sched_point(SchedEvent::kLockAcquire, sched_address_);
    if (try_write_once()) break;
    if (!waited) waits_.fetch_add(1, std::memory_order_relaxed);
    sched_blocked(SchedEvent::kLockAcquire, sched_address_);
  }
  HVO_TSAN_MUTEX_POST_LOCK(this, 0, 0);
  dep.acquire(cls_, this, /*shared=*/false);
}

bool RwSemaphore::down_read_trylock() {
  HVO_TSAN_MUTEX_PRE_LOCK(this, HVO_TSAN_READ_LOCK | HVO_TSAN_TRY_LOCK);
  sched_point(SchedEvent::kLockAcquire, sched_address_);
  const bool ok = try_read_once();
  HVO_TSAN_MUTEX_POST_LOCK(
      this, HVO_TSAN_READ_LOCK | HVO_TSAN_TRY_LOCK | (ok ? 0 : HVO_TSAN_TRY_LOCK_FAILED), 0);
  if (ok) cls_.lockdep().acquire_trylock(cls_, this, /*shared=*/true);
  return ok;
}

bool RwSemaphore::down_write_trylock() {
  HVO_TSAN_MUTEX_PRE_LOCK(this, HVO_TSAN_TRY_LOCK);
  sched_point(SchedEvent::kLockAcquire, sched_address_);
  const bool ok = try_write_once();
  HVO_TSAN_MUTEX_POST_LOCK(this, HVO_TSAN_TRY_LOCK | (ok ? 0 : HVO_TSAN_TRY_LOCK_FAILED), 0);
  if (ok) cls_.lockdep().acquire_trylock(cls_, this, /*shared=*/false);
  return ok;
}

bool RwSemaphore::check_release(bool shared) {
  Lockdep& dep = cls_.lockdep();
  const HeldLock* h = dep.current_hold(this);
  if (h == nullptr) {
    // Not ours: record it and leave the count alone, another task's hold
    // must not end.
    dep.release(cls_, this);
    return false;
  }
  if (h->shared != shared) {
    dep.report(ViolationKind::kLockImbalance,
               fmt::format("bad unlock balance detected: {}(\"{}\") but this task holds it for {}; {}",
                           shared ? "up_read" : "up_write", cls_.name(), h->shared ? "read" : "write",
                           Lockdep::describe_held(current())));
    return false;
  }
  return true;
}

void RwSemaphore::up_read() {
  if (!check_release(/*shared=*/true)) return;
  sched_point(SchedEvent::kLockRelease, sched_address_);
  cls_.lockdep().release(cls_, this);
  HVO_TSAN_MUTEX_PRE_UNLOCK(this, HVO_TSAN_READ_LOCK);
  // __up_read(): atomic_long_add_return_release(-RWSEM_READER_BIAS). release:
  // the read section's loads may not move below it; a writer's acquire CAS
  // that sees the count drop to 0 is ordered after them.
  memory_releasing(this);
  count_.fetch_sub(kReaderBias, std::memory_order_release);
  HVO_TSAN_MUTEX_POST_UNLOCK(this, HVO_TSAN_READ_LOCK);
}

void RwSemaphore::up_write() {
  if (!check_release(/*shared=*/false)) return;
  sched_point(SchedEvent::kLockRelease, sched_address_);
  cls_.lockdep().release(cls_, this);
  HVO_TSAN_MUTEX_PRE_UNLOCK(this, 0);
  // __up_write(): atomic_long_fetch_add_release(-RWSEM_WRITER_LOCKED).
  // release: publishes the write section to the next reader or writer.
  memory_releasing(this);
  count_.fetch_sub(kWriterLocked, std::memory_order_release);
  HVO_TSAN_MUTEX_POST_UNLOCK(this, 0);
}

void RwSemaphore::AssertHeld() const { cls_.lockdep().assert_held(cls_, this, /*exclusive=*/false); }

void RwSemaphore::AssertWriteHeld() const { cls_.lockdep().assert_held(cls_, this, /*exclusive=*/true); }

void RwSemaphore::AssertNotHeld() const { cls_.lockdep().assert_not_held(cls_, this); }

}  // namespace hvo
