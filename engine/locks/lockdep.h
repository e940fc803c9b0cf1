// Lockdep: the runtime lock checker of the simulated kernel
// (kernel/locking/lockdep.c, much reduced).
//
// Locks belong to named classes ("zone->lock", "hugetlb_lock",
// "init_mm.page_table_lock", "init_mm.mmap_lock"). Each task keeps the stack
// of locks it holds (Task::held). From it Lockdep checks, per machine:
//   - lock order: acquiring B while A is held teaches the edge A -> B; an
//     acquisition whose new edge would close a cycle is reported once as
//     "possible circular locking dependency detected", naming the cycle;
//   - recursion: acquiring a class already held ("possible recursive locking
//     detected"); the same instance held exclusively is a certain deadlock;
//   - balance: releasing a lock the task does not hold;
//   - sleeping in atomic context: might_sleep() with a spinlock held or
//     inside an RCU read-side section.
// Findings are Violations in the machine's log; nothing aborts except the
// certain self-deadlock, which would hang the simulator (SelfDeadlock).
//
// Fast path: when every "held -> acquired" edge is already known (the steady
// state of any workload), acquire() reads a few atomic words and takes no
// host lock. Learning a new edge takes the HostMutex that guards the graph.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/host_mutex.h"
#include "engine/locks/lock_graph.h"
#include "engine/task.h"
#include "engine/thread_annotations.h"
#include "engine/violation.h"

namespace hvo {

enum class LockKind : uint8_t { kSpin, kMutex, kRwsem };
std::string_view to_string(LockKind k);

class Lockdep;

// A named class of locks (lockdep's struct lock_class). Created only by
// Lockdep::register_class; lives as long as its Lockdep.
class LockClass {
 public:
  LockClass(const LockClass&) = delete;
  LockClass& operator=(const LockClass&) = delete;

  [[nodiscard]] std::string_view name() const { return name_; }
  [[nodiscard]] LockKind kind() const { return kind_; }
  [[nodiscard]] unsigned id() const { return id_; }  // [0, kMaxLockClasses)
  [[nodiscard]] Lockdep& lockdep() const { return dep_; }

  // A stable, replayable address for a new lock instance of this class, for
  // schedule points and traces: the host address of a lock changes from run
  // to run (ASLR), this does not. Bit 63 set, class id in bits 32..39, the
  // instance's ordinal (construction order) below.
  [[nodiscard]] uint64_t new_instance_address();

 private:
  friend class Lockdep;
  LockClass(Lockdep& dep, std::string name, LockKind kind, unsigned id)
      : dep_(dep), name_(std::move(name)), kind_(kind), id_(id) {}

  Lockdep& dep_;
  const std::string name_;
  const LockKind kind_;
  const unsigned id_;
  std::atomic<uint32_t> instances_{0};
};

// Thrown after recording the violation when a task acquires a lock instance
// it already holds exclusively: the kernel would spin or sleep there forever
// (an AA deadlock), so the simulated task stops instead of hanging the run.
class SelfDeadlock : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Lockdep {
 public:
  explicit Lockdep(ViolationLog& log);
  Lockdep(const Lockdep&) = delete;
  Lockdep& operator=(const Lockdep&) = delete;

  // Returns the class of that name, creating it on first use. A name always
  // has one kind; at most kMaxLockClasses classes (both HVO_CHECKed).
  LockClass& register_class(std::string_view name, LockKind kind) EXCLUDES(mu_);
  [[nodiscard]] unsigned nr_classes() const EXCLUDES(mu_);

  // lock_acquire(), called by a lock after it has been taken: checks order
  // and recursion against the current task's held locks, then pushes the
  // lock; a spinlock also disables preemption (++preempt_count).
  void acquire(const LockClass& c, const void* instance, bool shared) EXCLUDES(mu_);
  // The same for a successful trylock: a trylock cannot deadlock, so it
  // teaches no edge and is not checked (lockdep's trylock = 1); locks taken
  // later while it is held do learn edges from it.
  void acquire_trylock(const LockClass& c, const void* instance, bool shared);
  // Called by a lock before it waits: if the current task already holds this
  // instance and the new acquisition would wait for itself (anything but a
  // shared acquisition of a shared hold), records the violation and throws
  // SelfDeadlock.
  void check_self_deadlock(const LockClass& c, const void* instance, bool shared);

  // lock_release(): pops the lock from wherever it is on the current task's
  // stack (locks need not be released in LIFO order). Records kLockImbalance
  // ("bad unlock balance detected") when the task does not hold it.
  void release(const LockClass& c, const void* instance);

  [[nodiscard]] bool held_by_current(const void* instance) const;
  // The current task's hold of `instance`, or null.
  [[nodiscard]] const HeldLock* current_hold(const void* instance) const;
  // lockdep_assert_held(): records kLockNotHeld unless the current task
  // holds `instance`; with `exclusive`, lockdep_assert_held_write(): held
  // for write (only meaningful for a rw_semaphore). Never aborts.
  void assert_held(const LockClass& c, const void* instance, bool exclusive);
  // lockdep_assert_not_held(): records kLockHeld if the current task holds it.
  void assert_not_held(const LockClass& c, const void* instance);
  // "held locks: A, B (read)" for messages.
  [[nodiscard]] static std::string describe_held(const Task& t);

  // might_sleep(): records kSleepInAtomic when the current task holds a
  // spinlock (preempt_count > 0) or is inside rcu_read_lock().
  void might_sleep(std::string_view what);

  // Records a violation of `kind` for the current task.
  void report(ViolationKind kind, std::string message);

  ViolationLog& log() { return log_; }

 private:
  void push(const LockClass& c, const void* instance, bool shared);
  void check_order(const LockClass& c, uint64_t held_mask) EXCLUDES(mu_);
  void report_recursion(const LockClass& c);
  [[nodiscard]] bool is_mine(const HeldLock& h) const { return &h.cls->lockdep() == this; }

  ViolationLog& log_;
  mutable HostMutex mu_;
  std::array<std::unique_ptr<LockClass>, kMaxLockClasses> classes_ GUARDED_BY(mu_);
  unsigned nr_classes_ GUARDED_BY(mu_) = 0;
  LockOrderGraph graph_ GUARDED_BY(mu_);
  // known_[a] bit b: the edge a -> b has been dealt with, either learned
  // into graph_ or reported as an inversion. Written under mu_, read without
  // it by the fast path.
  std::array<std::atomic<uint64_t>, kMaxLockClasses> known_{};
  std::atomic<uint64_t> recursion_reported_{0};  // bit c: class c reported recursive
};

}  // namespace hvo
