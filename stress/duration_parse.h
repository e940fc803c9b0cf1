// Durations on the command line: "30s", "2m", "1h", "500ms", or a plain
// number of seconds. Whole milliseconds, at most a week.
#pragma once

#include <cstdint>
#include <string_view>

namespace hvo::cli {

// The duration in milliseconds, or throws UsageError naming `flag`.
[[nodiscard]] uint64_t parse_duration_flag(std::string_view flag, std::string_view text);

}  // namespace hvo::cli
