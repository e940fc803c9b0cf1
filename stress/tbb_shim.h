// The few oneTBB calls of TaskExecutor (tbb_executor.h), in a translation
// unit of their own that is compiled without ThreadSanitizer
// (CMakeLists.txt), exactly as Debian's libtbb itself is.
//
// Why: TBB builds and runs a task in inline header code, on the submitting
// thread and on a worker, around a hand-over inside libtbb that TSan cannot
// see; instrumented, that inline code reports races in TBB's own task
// objects (partitioner.h, check_being_stolen: why oneTBB was dropped
// before). Uninstrumented, TBB is one opaque runtime, and the two
// happens-before edges it provides are told to TSan by the caller, at our
// task boundary (tbb_executor.cc). Nothing of hvo-stress runs in here but
// the call through `fn`, whose code is instrumented.
#pragma once

namespace hvo::stress::tbb_shim {

struct Arena;

// A task_arena of `threads` threads, none reserved for the caller (it
// waits on a latch rather than joining the arena).
[[nodiscard]] Arena* make_arena(unsigned threads);
void destroy_arena(Arena* a);

// Hands fn(arg) to the arena as one task and returns at once; a free
// worker runs it. fn must not throw.
void enqueue(Arena* a, void (*fn)(void*), void* arg);

}  // namespace hvo::stress::tbb_shim
