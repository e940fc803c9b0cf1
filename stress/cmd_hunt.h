// `hvo-stress hunt --model M [--duration T] [--all]`: what a newcomer runs.
// Spends the time over the portfolio of stress/hunt_portfolio.h (workloads,
// random and pct at several depths, the memory models, allocation failure,
// free mode), preferring what keeps finding new coverage; stops at the first
// finding (or, with --all, collects every distinct one), saved as `run`
// saves them; reports what it covered and what it never exercised.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command hunt_command();

}  // namespace hvo::cli
