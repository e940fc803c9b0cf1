// ThreadSanitizer annotations for our own locks and for fiber switches
// (abseil's tsan_mutex_interface.h). TSan cannot see that a CAS loop is a
// lock; these calls tell it, so it derives happens-before from our locks
// exactly as from pthread mutexes. They vanish when TSan is off.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define HVO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HVO_TSAN 1
#endif
#endif

#ifdef HVO_TSAN
#include <sanitizer/tsan_interface.h>
#define HVO_TSAN_MUTEX_CREATE(m, f) __tsan_mutex_create(m, f)
#define HVO_TSAN_MUTEX_DESTROY(m, f) __tsan_mutex_destroy(m, f)
#define HVO_TSAN_MUTEX_PRE_LOCK(m, f) __tsan_mutex_pre_lock(m, f)
#define HVO_TSAN_MUTEX_POST_LOCK(m, f, c) __tsan_mutex_post_lock(m, f, c)
#define HVO_TSAN_MUTEX_PRE_UNLOCK(m, f) __tsan_mutex_pre_unlock(m, f)
#define HVO_TSAN_MUTEX_POST_UNLOCK(m, f) __tsan_mutex_post_unlock(m, f)
#define HVO_TSAN_READ_LOCK __tsan_mutex_read_lock
#define HVO_TSAN_TRY_LOCK __tsan_mutex_try_lock
#define HVO_TSAN_TRY_LOCK_FAILED __tsan_mutex_try_lock_failed
#define HVO_TSAN_NOT_STATIC __tsan_mutex_not_static
#else
#define HVO_TSAN_MUTEX_CREATE(m, f) ((void)0)
#define HVO_TSAN_MUTEX_DESTROY(m, f) ((void)0)
#define HVO_TSAN_MUTEX_PRE_LOCK(m, f) ((void)0)
#define HVO_TSAN_MUTEX_POST_LOCK(m, f, c) ((void)0)
#define HVO_TSAN_MUTEX_PRE_UNLOCK(m, f) ((void)0)
#define HVO_TSAN_MUTEX_POST_UNLOCK(m, f) ((void)0)
#define HVO_TSAN_READ_LOCK 0
#define HVO_TSAN_TRY_LOCK 0
#define HVO_TSAN_TRY_LOCK_FAILED 0
#define HVO_TSAN_NOT_STATIC 0
#endif
