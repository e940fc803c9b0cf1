#include "engine/task.h"

#include <algorithm>
#include <thread>

namespace hvo {

namespace detail {
Task& boot_task() {
  thread_local Task task{CpuId(0)};
  return task;
}
}  // namespace detail

std::string operation_path(const Task& t) {
  if (t.nr_operations == 0) return std::string(t.operation);
  std::string path;
  for (int i = 0; i < std::min(t.nr_operations, Task::kMaxOperations); ++i) {
    if (!path.empty()) path += " > ";
    path += t.operations[i];
  }
  return path;
}

void sched_blocked(SchedEvent event, uint64_t address) {
  Task& t = current();
  ++t.schedule_points;
  if (t.hook != nullptr) {
    t.hook->blocked(SchedulePoint{event, address, 0});
  } else {
    // Free mode: the holder runs on another OS thread. Yield rather than
    // spin hard: this machine may have fewer cores than simulated CPUs.
    std::this_thread::yield();
  }
}

std::string_view to_string(SchedEvent e) {
  switch (e) {
    case SchedEvent::kPteLoad: return "pte-load";
    case SchedEvent::kPteStore: return "pte-store";
    case SchedEvent::kPageLoad: return "page-load";
    case SchedEvent::kPageStore: return "page-store";
    case SchedEvent::kPageRmw: return "page-rmw";
    case SchedEvent::kMemCopy: return "copy-page";
    case SchedEvent::kLockAcquire: return "lock";
    case SchedEvent::kLockRelease: return "unlock";
    case SchedEvent::kAtomic: return "atomic";
    case SchedEvent::kRcuReadLock: return "rcu_read_lock";
    case SchedEvent::kRcuReadUnlock: return "rcu_read_unlock";
    case SchedEvent::kSynchronizeRcu: return "synchronize_rcu";
    case SchedEvent::kBuddyAlloc: return "buddy-alloc";
    case SchedEvent::kBuddyFree: return "buddy-free";
    case SchedEvent::kTlbFill: return "tlb-fill";
    case SchedEvent::kTlbFlush: return "tlb-flush";
    case SchedEvent::kMemInit: return "init-page";
  }
  return "?";
}

}  // namespace hvo
