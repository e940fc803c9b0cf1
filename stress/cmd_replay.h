// `hvo-stress replay FILE [--json]`: re-runs a saved failure. A controlled
// one exactly (the recorded decisions, through the replay strategy), says
// whether it hit the same violation at the same step with the same trace
// hash or DIVERGED, and prints the interleaving before the violation; a
// free one by running its campaign again (real threads: not exact).
// Exits 1 when the replay hits a violation, 0 when it does not, 2 for a
// file that is not a readable replay file.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command replay_command();

}  // namespace hvo::cli
