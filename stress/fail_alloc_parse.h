// --fail-alloc's value: fail_page_alloc's debugfs knobs
// (Documentation/fault-injection/fault-injection.rst), comma-separated
// key=value pairs, e.g. "probability=1,interval=1,times=100":
//
//   probability=P  likelihood of failure, in percent as in the kernel's
//                  file (0..100; fractions allowed here: 0.5 is 1 in 200)
//   interval=N     only every N-th eligible allocation may fail (>= 1)
//   times=N        at most N failures; -1 (the kernel's default): no limit
//   min-order=N    allocations of a lower order are never failed (0..18;
//                  the kernel's default is 1, ours 0)
//
// Unknown keys, repeated keys and malformed values are errors naming the
// key: the text of a UsageError for the flag.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "engine/alloc_failure.h"

namespace hvo::stress {

[[nodiscard]] std::variant<FaultAttr, std::string> parse_fail_alloc(std::string_view text);
// The canonical text of `a`, which parse_fail_alloc() reads back as `a`.
[[nodiscard]] std::string to_string(const FaultAttr& a);

}  // namespace hvo::stress
