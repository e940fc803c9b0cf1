// Clang thread-safety analysis attributes (-Wthread-safety), as in
// absl/base/thread_annotations.h. They expand to nothing on other compilers:
// gcc would otherwise warn "'capability' attribute directive ignored".
//
// Every lock in engine/locks is a CAPABILITY; every member a lock protects is
// GUARDED_BY it; every function that needs a lock REQUIRES it. The `tsa`
// preset builds everything with clang and -Wthread-safety -Werror.
#pragma once

#if defined(__clang__)
#define HVO_TSA(x) __attribute__((x))
#else
#define HVO_TSA(x)
#endif

#define CAPABILITY(x) HVO_TSA(capability(x))
#define SCOPED_CAPABILITY HVO_TSA(scoped_lockable)
#define GUARDED_BY(x) HVO_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) HVO_TSA(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) HVO_TSA(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) HVO_TSA(acquired_after(__VA_ARGS__))
#define REQUIRES(...) HVO_TSA(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) HVO_TSA(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) HVO_TSA(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) HVO_TSA(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) HVO_TSA(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) HVO_TSA(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) HVO_TSA(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) HVO_TSA(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) HVO_TSA(try_acquire_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) HVO_TSA(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) HVO_TSA(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) HVO_TSA(assert_shared_capability(x))
#define RETURN_CAPABILITY(x) HVO_TSA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS HVO_TSA(no_thread_safety_analysis)
