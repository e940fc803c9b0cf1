// What a simulated CPU runs on in controlled mode: a Boost.Context fiber
// (plain fcontext, see docs/build-notes.md: Debian's Boost is built
// without ucontext, so Boost's own TSan support is not available) on a stack
// taken from a per-thread pool, plus the ThreadSanitizer fiber calls that
// tell TSan which stack runs.
//
// TSan keeps one shadow context per fiber. It must hear of every switch
// *before* it happens (__tsan_switch_to_fiber right before resume()),
// otherwise the new stack's accesses are charged to the old fiber and it
// reports nonsense. Flag 0 = "synchronize": the switch is a happens-before
// edge, which is what one OS thread running fibers in turn really is.
#pragma once

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <boost/context/stack_context.hpp>
#include <cstddef>

#include "engine/tsan_annotations.h"

namespace hvo::sched {

// Enough for the engine's walkers (they recurse a little), gtest assertion
// messages and, under TSan, its larger frames.
inline constexpr std::size_t kFiberStackSize = 256 * 1024;

// --- TSan fiber API, vanishing without TSan --------------------------------
//
// The engine's locks wait *inside* TSan's mutex annotation (between
// __tsan_mutex_pre_lock and __tsan_mutex_post_lock), which makes TSan ignore
// the waiting fiber's synchronization, and with it the happens-before edge
// of a fiber switch made there: the chain of switches that orders the CPUs
// would break at every contended lock. tsan_lift_sync_ignore() /
// tsan_restore_sync_ignore() undo and redo that one level of ignoring
// around such a switch (AnnotateIgnoreSync{End,Begin}, TSan's own dynamic
// annotations), so the switch synchronizes and the lock's state is as the
// annotation left it once the fiber runs again. A fiber unwound while
// inside such an annotation has both of its ignores ended before it is
// retired.
#ifdef HVO_TSAN
extern "C" void AnnotateIgnoreSyncBegin(const char* file, int line);
extern "C" void AnnotateIgnoreSyncEnd(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
inline void* tsan_current_fiber() { return __tsan_get_current_fiber(); }
inline void* tsan_create_fiber() { return __tsan_create_fiber(0); }
inline void tsan_destroy_fiber(void* f) { __tsan_destroy_fiber(f); }
inline void tsan_switch_to_fiber(void* f) { __tsan_switch_to_fiber(f, 0); }
inline void tsan_lift_sync_ignore() { AnnotateIgnoreSyncEnd(__FILE__, __LINE__); }
inline void tsan_restore_sync_ignore() { AnnotateIgnoreSyncBegin(__FILE__, __LINE__); }
// For a fiber unwound out of a lock annotation that will never be closed:
// ends the access-ignoring __tsan_mutex_pre_lock began (TSan refuses to
// retire a fiber that still ignores). TSan has one access-ignore counter
// per fiber; AnnotateIgnoreReadsEnd is the annotation that decrements it.
inline void tsan_end_access_ignore() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
#else
inline void* tsan_current_fiber() { return nullptr; }
inline void* tsan_create_fiber() { return nullptr; }
inline void tsan_destroy_fiber(void*) {}
inline void tsan_switch_to_fiber(void*) {}
inline void tsan_lift_sync_ignore() {}
inline void tsan_restore_sync_ignore() {}
inline void tsan_end_access_ignore() {}
#endif

// --- ASan fiber API, vanishing without ASan --------------------------------
//
// AddressSanitizer must know which stack runs, or a throw on a fiber stack
// (__asan_handle_no_return unpoisons "the" stack) misfires. Before each
// switch: asan_start_switch(where to save the leaving fiber's fake stack, or
// null if it never runs again; the target's stack bounds); first thing after
// landing: asan_finish_switch(the landing fiber's saved fake stack), which
// also tells the bounds of the stack left (how main's bounds are learnt).
#if defined(__SANITIZE_ADDRESS__)
#define HVO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HVO_ASAN 1
#endif
#endif

#ifdef HVO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
inline void asan_start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
}
inline void asan_finish_switch(void* fake_stack_save, const void** bottom_old, std::size_t* size_old) {
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
}
#else
inline void asan_start_switch(void**, const void*, std::size_t) {}
inline void asan_finish_switch(void*, const void**, std::size_t*) {}
#endif

// The stack allocator handed to boost::context::fiber. Stacks come from a
// per-thread free list and go back to it when the fiber ends, so a program
// that creates schedulers again and again (one per seed, one per test)
// maps each stack once. Each stack has a guard page below it
// (protected_fixedsize_stack): an overflow faults instead of corrupting the
// neighbouring stack.
class PooledStack {
 public:
  // `out`, if given, learns the stack allocated (its bounds, for ASan).
  explicit PooledStack(boost::context::stack_context* out = nullptr) : out_(out) {}
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sctx) noexcept;

 private:
  boost::context::stack_context* out_;
};

using Fiber = boost::context::fiber;

}  // namespace hvo::sched
