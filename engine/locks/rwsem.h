// struct rw_semaphore (init_mm.mmap_lock): many readers or one writer,
// checked by lockdep. down_read()/down_write() may sleep (might_sleep()).
//
// The count word, as kernel/locking/rwsem.c lays it out:
//   bit 0        kWriterLocked (RWSEM_WRITER_LOCKED)
//   bits 8..63   number of readers, in units of kReaderBias (RWSEM_READER_BIAS)
// Invariant: kWriterLocked implies no readers (a reader only adds its bias
// with a CAS from a value without kWriterLocked; a writer only sets it from
// 0). Waiters yield to the scheduler (sched_blocked) instead of queueing.
// There is no writer hand-off: a stream of readers can delay a writer.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/locks/lockdep.h"
#include "engine/thread_annotations.h"

namespace hvo {

class CAPABILITY("rw_semaphore") RwSemaphore {
 public:
  static constexpr uint64_t kWriterLocked = 1;
  static constexpr uint64_t kReaderBias = uint64_t{1} << 8;

  explicit RwSemaphore(LockClass& cls);
  ~RwSemaphore();
  RwSemaphore(const RwSemaphore&) = delete;
  RwSemaphore& operator=(const RwSemaphore&) = delete;

  void down_read() ACQUIRE_SHARED();
  void up_read() RELEASE_SHARED();
  void down_write() ACQUIRE();
  void up_write() RELEASE();
  // Never sleep, so no might_sleep(); true when taken.
  [[nodiscard]] bool down_read_trylock() TRY_ACQUIRE_SHARED(true);
  [[nodiscard]] bool down_write_trylock() TRY_ACQUIRE(true);

  // lockdep_assert_held(): held by the current task in either mode.
  void AssertHeld() const ASSERT_SHARED_CAPABILITY(this);
  // lockdep_assert_held_write(): held for write by the current task.
  void AssertWriteHeld() const ASSERT_CAPABILITY(this);
  void AssertNotHeld() const;  // records kLockHeld

  // rwsem_is_locked(): held by anyone in any mode. A racy snapshot.
  [[nodiscard]] bool is_locked() const { return count_.load(std::memory_order_relaxed) != 0; }
  [[nodiscard]] LockClass& lock_class() const { return cls_; }
  [[nodiscard]] uint64_t sched_address() const { return sched_address_; }
  // How many down_read()/down_write() found the semaphore unavailable and
  // had to wait: what a writer costs the other walks (d8d55f5616cf's figure).
  [[nodiscard]] uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }

 private:
  [[nodiscard]] bool try_read_once();
  [[nodiscard]] bool try_write_once();
  // The task's hold matches the mode it releases in; reports otherwise.
  [[nodiscard]] bool check_release(bool shared);

  LockClass& cls_;
  const uint64_t sched_address_;
  std::atomic<uint64_t> count_{0};
  // A statistic only: relaxed, never a schedule point, orders nothing.
  std::atomic<uint64_t> waits_{0};
};

class SCOPED_CAPABILITY ReadGuard {
 public:
  explicit ReadGuard(RwSemaphore& s) ACQUIRE_SHARED(s) : s_(s) { s_.down_read(); }
  ~ReadGuard() RELEASE() { s_.up_read(); }
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

 private:
  RwSemaphore& s_;
};

class SCOPED_CAPABILITY WriteGuard {
 public:
  explicit WriteGuard(RwSemaphore& s) ACQUIRE(s) : s_(s) { s_.down_write(); }
  ~WriteGuard() RELEASE() { s_.up_write(); }
  WriteGuard(const WriteGuard&) = delete;
  WriteGuard& operator=(const WriteGuard&) = delete;

 private:
  RwSemaphore& s_;
};

}  // namespace hvo
