#include "engine/asymmetric_fence.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

namespace hvo {

namespace {
long membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0, 0); }
}  // namespace

void asymmetric_fence_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    const long cmds = membarrier(MEMBARRIER_CMD_QUERY);
    if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) return;
    // Before any light fence relies on it: the threads that run light fences
    // are started after this (the Machine is built first), and thread
    // creation orders this store before them.
    detail::membarrier_registered.store(true, std::memory_order_relaxed);
  });
}

void asymmetric_heavy_fence() {
  if (detail::membarrier_registered.load(std::memory_order_relaxed) &&
      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
    return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace hvo
