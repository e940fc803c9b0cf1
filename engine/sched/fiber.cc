#include "engine/sched/fiber.h"

#include <vector>

namespace hvo::sched {

namespace {

// Stacks kept per thread: enough for the biggest machine a scenario builds
// (64 CPUs, the CpuMask width); beyond that they are unmapped.
constexpr std::size_t kMaxPooledStacks = 64;

struct StackCache;
// Whether this thread's cache is gone: a scheduler kept in a thread_local of
// its own (a parallel search's per-thread Explorer) may be destroyed after
// it, at thread exit, and must then unmap its stacks directly. A bool needs
// no destructor, so it outlives every thread_local object.
thread_local bool cache_destroyed = false;

struct StackCache {
  std::vector<boost::context::stack_context> free;
  ~StackCache() {
    boost::context::protected_fixedsize_stack alloc(kFiberStackSize);
    for (auto& s : free) alloc.deallocate(s);
    cache_destroyed = true;
  }
};

StackCache& cache() {
  thread_local StackCache c;
  return c;
}

}  // namespace

boost::context::stack_context PooledStack::allocate() {
  StackCache& c = cache();
  boost::context::stack_context s;
  if (!c.free.empty()) {
    s = c.free.back();
    c.free.pop_back();
#ifdef HVO_ASAN
    // A fiber unwound by an exception may leave its frames' redzones
    // poisoned: the next fiber on this stack starts clean.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(s.sp) - s.size, s.size);
#endif
  } else {
    s = boost::context::protected_fixedsize_stack(kFiberStackSize).allocate();
  }
  if (out_ != nullptr) *out_ = s;
  return s;
}

void PooledStack::deallocate(boost::context::stack_context& sctx) noexcept {
  if (cache_destroyed) {
    boost::context::protected_fixedsize_stack(kFiberStackSize).deallocate(sctx);
    return;
  }
  StackCache& c = cache();
  if (c.free.size() < kMaxPooledStacks) {
    // push_back may throw only if it grows; reserve once so it never does
    // inside this noexcept function.
    if (c.free.capacity() < kMaxPooledStacks) c.free.reserve(kMaxPooledStacks);
    c.free.push_back(sctx);
    return;
  }
  boost::context::protected_fixedsize_stack(kFiberStackSize).deallocate(sctx);
}

}  // namespace hvo::sched
