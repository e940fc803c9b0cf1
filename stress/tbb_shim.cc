#include "stress/tbb_shim.h"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

namespace hvo::stress::tbb_shim {

struct Arena {
  // TBB starts at most hardware_concurrency - 1 workers unless told
  // otherwise (one thread is kept for the caller, which here only waits):
  // on a 2-CPU machine --jobs 2 would get one worker. The global_control,
  // living as long as the arena, allows `threads` workers (+1: the value
  // counts the caller).
  explicit Arena(unsigned threads)
      : workers(tbb::global_control::max_allowed_parallelism, threads + 1),
        arena(static_cast<int>(threads), /*reserved_for_masters=*/0) {}
  tbb::global_control workers;
  tbb::task_arena arena;
};

Arena* make_arena(unsigned threads) {
  auto* a = new Arena(threads);
  a->arena.initialize();
  return a;
}

void destroy_arena(Arena* a) { delete a; }

void enqueue(Arena* a, void (*fn)(void*), void* arg) {
  a->arena.enqueue([fn, arg] { fn(arg); });
}

}  // namespace hvo::stress::tbb_shim
