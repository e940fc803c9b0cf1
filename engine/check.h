// HVO_CHECK: an internal consistency check of the simulator itself.
//
// A failed check means hvo-stress has a bug (not that the simulated kernel
// broke an invariant: those are recorded as Violations, see violation.h). It
// throws InternalError so the CLI can exit with code 3 after writing out
// whatever it found so far, instead of aborting and losing findings.
#pragma once

#include <stdexcept>
#include <string>

namespace hvo {

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void check_failed(const char* cond, const char* msg, const char* file, int line);

}  // namespace hvo

#define HVO_CHECK(cond, msg)                                              \
  do {                                                                    \
    if (__builtin_expect(!(cond), 0)) ::hvo::check_failed(#cond, msg, __FILE__, __LINE__); \
  } while (0)

// Checks that cost more than a branch: on in debug builds (HVO_DEBUG_CHECKS).
#ifdef HVO_DEBUG_CHECKS
#define HVO_DCHECK(cond, msg) HVO_CHECK(cond, msg)
#else
#define HVO_DCHECK(cond, msg) \
  do {                        \
  } while (0)
#endif
