// Whether this test binary is built with ThreadSanitizer, and the skip that
// says so: the tests under tests/stress/tsan/ are meaningful only in the
// tsan preset (label tsan), elsewhere they skip with the reason.
#pragma once

#include <gtest/gtest.h>

#if defined(__SANITIZE_THREAD__)
#define HVO_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HVO_TEST_TSAN 1
#endif
#endif

namespace hvo::testing {

#ifdef HVO_TEST_TSAN
inline constexpr bool kTsanBuild = true;
#else
inline constexpr bool kTsanBuild = false;
#endif

// The exit code ThreadSanitizer gives the child when it reports (its default
// is also 66; the tests set it explicitly so they do not depend on it).
inline constexpr int kTsanExit = 66;

}  // namespace hvo::testing

#define HVO_SKIP_UNLESS_TSAN()                                                                                   \
  if (!::hvo::testing::kTsanBuild)                                                                               \
  GTEST_SKIP() << "stress_tsan_tests checks hvo-stress under ThreadSanitizer, but this build is not compiled "    \
                  "with -fsanitize=thread (__SANITIZE_THREAD__ is not defined); run it from the tsan preset: "   \
                  "bash ci/tsan.sh"
