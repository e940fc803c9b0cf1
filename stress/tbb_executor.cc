#include "stress/tbb_executor.h"

#include <exception>
#include <latch>
#include <vector>

#include "engine/tsan_annotations.h"
#include "stress/tbb_shim.h"

// A happens-before edge through code TSan does not see (the uninstrumented
// task runtime): RELEASE(a) on one side, ACQUIRE(a) on the other
// (sanitizer/tsan_interface.h, which tsan_annotations.h includes).
#ifdef HVO_TSAN
#define HVO_TSAN_RELEASE(addr) __tsan_release(addr)
#define HVO_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#else
#define HVO_TSAN_RELEASE(addr) ((void)(addr))
#define HVO_TSAN_ACQUIRE(addr) ((void)(addr))
#endif

namespace hvo::stress {

namespace {

// One task of a batch: what the worker needs, on the caller's stack (the
// caller waits for every task before returning).
struct Batch {
  const std::function<void(uint64_t)>* fn = nullptr;
  uint64_t begin = 0;
  std::vector<std::exception_ptr> errors;
  std::latch* done = nullptr;
  // The sync address of the completion edge TBB creates unseen
  // (tbb_executor.h); the submit edge's is each Task's own address.
  char completed = 0;
};
struct Task {
  Batch* batch = nullptr;
  uint64_t index = 0;
};

void run_task(void* arg) {
  // Acquire on the task's own address, before anything of it is read:
  // paired with the caller's release on it before enqueue(), the task sees
  // everything the caller wrote before submitting it (its Task, the
  // batch's slots, the search's state fn reads).
  HVO_TSAN_ACQUIRE(arg);
  Task& t = *static_cast<Task*>(arg);
  Batch& b = *t.batch;
  try {
    (*b.fn)(t.index);
  } catch (...) {
    b.errors[t.index - b.begin] = std::current_exception();
  }
  // Release, paired with the caller's acquire after the wait: fn's writes
  // happen before the caller reads them. (The latch's atomics order them
  // too; this names the edge TBB's completion would otherwise carry.)
  HVO_TSAN_RELEASE(&b.completed);
  b.done->count_down();  // release; after it the caller may return and free `b` and `t`
}

}  // namespace

TaskExecutor::TaskExecutor(unsigned threads) : arena_(tbb_shim::make_arena(threads)) {}

TaskExecutor::~TaskExecutor() { tbb_shim::destroy_arena(arena_); }

void TaskExecutor::run_batch(uint64_t begin, uint64_t end, const std::function<void(uint64_t)>& fn) {
  std::latch done(static_cast<std::ptrdiff_t>(end - begin));
  Batch b;
  b.fn = &fn;
  b.begin = begin;
  b.errors.resize(end - begin);
  b.done = &done;
  std::vector<Task> tasks(end - begin);
  for (uint64_t i = begin; i < end; ++i) tasks[i - begin] = Task{&b, i};
  for (Task& t : tasks) {
    // Release on the task's address before handing it over (see
    // run_task()'s acquire).
    HVO_TSAN_RELEASE(&t);
    tbb_shim::enqueue(arena_, run_task, &t);
  }
  done.wait();                     // acquire: pairs with every count_down()
  HVO_TSAN_ACQUIRE(&b.completed);  // pairs with every task's release at its end
  for (std::exception_ptr& e : b.errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace hvo::stress
