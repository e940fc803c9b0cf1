// The current task: what the kernel calls `current`.
//
// Each simulated CPU runs one task at a time. In free mode a task is bound to
// an OS thread; in controlled mode the scheduler rebinds the thread's current
// task at every fiber switch. Everything that is per-task in the kernel lives
// here: the held-lock stack lockdep looks at, the RCU read-side nesting, the
// preempt (spinlock) count for might_sleep(), the operation under way (named
// in fault records) and the schedule hook.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/coverage.h"
#include "engine/schedule_point.h"
#include "engine/types.h"

namespace hvo {

class LockClass;

// One entry of the held-lock stack (lockdep's struct held_lock).
struct HeldLock {
  const LockClass* cls = nullptr;
  const void* instance = nullptr;
  bool shared = false;  // down_read() rather than down_write()
};

inline constexpr int kMaxHeldLocks = 16;  // MAX_LOCK_DEPTH is 48; we need few

struct Task {
  explicit Task(CpuId c) : cpu(c) {}
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  CpuId cpu;
  ScheduleHook* hook = nullptr;  // null in free mode
  uint64_t schedule_points = 0;  // counted in every mode
  std::string_view operation = "idle";  // the innermost operation under way (a static string)
  // The operations under way, outermost first ("memory_failure" >
  // "dissolve_free_hugetlb_folio" > ...), for fault records.
  static constexpr int kMaxOperations = 8;
  std::array<std::string_view, kMaxOperations> operations{};
  int nr_operations = 0;

  // lockdep: locks held, innermost last.
  std::array<HeldLock, kMaxHeldLocks> held{};
  int nr_held = 0;
  int preempt_count = 0;  // spinlocks held: sleeping is a bug while > 0
  int rcu_read_depth = 0;
};

namespace detail {
inline thread_local Task* current_task = nullptr;
Task& boot_task();  // the per-thread task used when none is bound (cpu 0)
}  // namespace detail

// `current`. Never null: a thread with no bound task runs as its boot task.
inline Task& current() {
  Task* t = detail::current_task;
  return t != nullptr ? *t : detail::boot_task();
}

// Binds a task to the calling thread for the scope's lifetime.
class TaskScope {
 public:
  explicit TaskScope(Task& t) : prev_(detail::current_task) { detail::current_task = &t; }
  ~TaskScope() { detail::current_task = prev_; }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  Task* prev_;
};

// Names the operation the current task is performing (e.g.
// "vmemmap_remap_free") for fault records, restoring the previous one, and
// counts it as a kernel function entered in the thread's coverage sink, if
// one is installed (engine/coverage.h; `op` is a string literal).
class OperationScope {
 public:
  explicit OperationScope(std::string_view op) : task_(current()), prev_(task_.operation) {
    task_.operation = op;
    if (task_.nr_operations < Task::kMaxOperations) task_.operations[task_.nr_operations] = op;
    ++task_.nr_operations;
    if (CoverageSink* s = detail::coverage_sink) s->enter(task_.cpu.value(), op.data());
  }
  ~OperationScope() {
    task_.operation = prev_;
    --task_.nr_operations;
    if (CoverageSink* s = detail::coverage_sink) s->leave(task_.cpu.value(), task_.nr_operations > 0 ? prev_.data() : nullptr);
  }
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;

 private:
  Task& task_;
  std::string_view prev_;
};

// "outer > ... > inner": the operations under way, for a fault record.
std::string operation_path(const Task& t);

// The schedule point every shared access calls first.
inline void sched_point(SchedEvent event, uint64_t address = 0, uint64_t value = 0) {
  Task& t = current();
  ++t.schedule_points;
  if (t.hook != nullptr) t.hook->point(SchedulePoint{event, address, value});
}

// Called by a task that must wait for another one (a lock is held, a grace
// period has not ended). Free mode: let the other OS thread run.
void sched_blocked(SchedEvent event, uint64_t address = 0);

}  // namespace hvo
