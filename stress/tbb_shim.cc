#include "stress/tbb_shim.h"

#include <oneapi/tbb/task_arena.h>

namespace hvo::stress::tbb_shim {

struct Arena {
  explicit Arena(unsigned threads) : arena(static_cast<int>(threads), /*reserved_for_masters=*/0) {}
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
