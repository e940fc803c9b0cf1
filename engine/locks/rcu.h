// RCU: rcu_read_lock()/rcu_read_unlock() and synchronize_rcu(), one
// instance per simulated machine.
//
// Each CPU has a slot word:
//   bits 0..31   tasks of this CPU inside an (outermost) read-side section
//   bits 32..63  quiescent sequence: +1 each time the count drops to 0
// Nesting is counted in Task::rcu_read_depth; only the outermost lock and
// unlock touch the slot. synchronize_rcu() snapshots every slot, then waits,
// per CPU that had readers, until the count is 0 or the sequence moved: then
// every reader that was inside at the snapshot has left, while readers that
// entered after it are not waited for (the grace-period guarantee of
// Documentation/RCU/whatisRCU.rst, and no more).
//
// The slot counts tasks rather than holding one nesting depth so that
// several tasks sharing a CPU id (unbound boot tasks are all CPU 0) stay
// correct. Waiting never blocks the OS thread: sched_blocked() lets the
// controlled scheduler run the readers.
//
// Rcu is a shared capability for the thread-safety analysis: code that must
// run inside a read-side section says REQUIRES_SHARED(rcu).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "engine/locks/lockdep.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"

namespace hvo {

class CAPABILITY("rcu") Rcu {
 public:
  Rcu(Lockdep& dep, unsigned nr_cpus);
  Rcu(const Rcu&) = delete;
  Rcu& operator=(const Rcu&) = delete;

  // Nests. Enters the current task's CPU slot on the outermost call.
  void rcu_read_lock() ACQUIRE_SHARED();
  // kLockImbalance when the current task is not inside a read section.
  void rcu_read_unlock() RELEASE_SHARED();
  // might_sleep("synchronize_rcu"), then waits for every reader that was
  // inside a read section when it started; not for readers that entered
  // later. Called inside a read section (a kSleepInAtomic bug, a deadlock in
  // the kernel) it waits for the other readers only instead of hanging.
  void synchronize_rcu();

  // rcu_read_lock_held(): the current task is inside a read section.
  [[nodiscard]] bool read_lock_held() const;
  // RCU_LOCKDEP_WARN(!rcu_read_lock_held()): records kLockNotHeld.
  void AssertReadHeld() const ASSERT_SHARED_CAPABILITY(this);

  // Completed synchronize_rcu() calls (shown per operation in the stats).
  [[nodiscard]] uint64_t grace_periods() const;
  [[nodiscard]] unsigned nr_cpus() const { return nr_cpus_; }

 private:
  static constexpr uint64_t kCountMask = 0xffff'ffffULL;
  static constexpr uint64_t kSeqOne = uint64_t{1} << 32;

  struct alignas(64) Slot {  // one cache line per CPU, as rcu_data is per-CPU
    std::atomic<uint64_t> word{0};
  };
  [[nodiscard]] Slot& slot_of(CpuId cpu) const;
  // Waits until the readers counted in `snapshot` of `cpu` have left. `own`
  // is 1 when the caller itself is one of them (it cannot leave).
  void wait_for_readers(unsigned cpu, uint64_t snapshot, uint64_t own) const;

  Lockdep& dep_;
  const unsigned nr_cpus_;
  const std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t> grace_periods_{0};
};

class SCOPED_CAPABILITY RcuReadGuard {
 public:
  explicit RcuReadGuard(Rcu& rcu) ACQUIRE_SHARED(rcu) : rcu_(rcu) { rcu_.rcu_read_lock(); }
  ~RcuReadGuard() RELEASE() { rcu_.rcu_read_unlock(); }
  RcuReadGuard(const RcuReadGuard&) = delete;
  RcuReadGuard& operator=(const RcuReadGuard&) = delete;

 private:
  Rcu& rcu_;
};

}  // namespace hvo
