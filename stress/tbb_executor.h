// The in-machine parallel engine of the controlled search: oneTBB tasks in
// a task_arena of N threads. Executions differ a lot in length (a few
// dozen schedule points to thousands), so each is its own task and a free
// worker takes the next one as soon as it is done: no thread waits on a
// slow neighbour's share, as it would with a static split.
//
// ThreadSanitizer: Debian's libtbb is not built with it, and TBB's inline
// task code is compiled uninstrumented too (tbb_shim.h), so TSan sees none
// of the synchronization by which a task passes from the submitting thread
// to a worker and back. The two happens-before edges are told to it here,
// at our task boundary, with its annotation API (tsan_annotations.h):
//   submit:   __tsan_release(task) before the task is handed to TBB,
//             __tsan_acquire(task) first thing in it, before the task
//             (its own address is the token) is read;
//   complete: __tsan_release(&done) last thing in the task,
//             __tsan_acquire(&done) when the caller's wait returns.
// Every access of hvo-stress's own code, on every thread, stays checked.
#pragma once

#include <cstdint>
#include <functional>

namespace hvo::stress {

namespace tbb_shim {
struct Arena;
}

class TaskExecutor {
 public:
  // An arena of `threads` worker threads.
  explicit TaskExecutor(unsigned threads);
  ~TaskExecutor();
  TaskExecutor(const TaskExecutor&) = delete;
  TaskExecutor& operator=(const TaskExecutor&) = delete;

  // Runs fn(i) for every i in [begin, end), one task each, and returns
  // when all returned, with every task's writes visible to the caller;
  // rethrows the first exception (by index) one of them threw.
  void run_batch(uint64_t begin, uint64_t end, const std::function<void(uint64_t)>& fn);

 private:
  tbb_shim::Arena* arena_;
};

}  // namespace hvo::stress
