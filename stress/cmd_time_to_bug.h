// `hvo-stress time-to-bug`: for catalogue entries, the executions and
// seconds the controlled search needs to find the bug over independent
// trials (median and worst, random and pct), and whether free-running
// stress finds it at all. The README's time-to-bug table is its output.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command time_to_bug_command();

}  // namespace hvo::cli
