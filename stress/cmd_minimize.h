// `hvo-stress minimize FILE [--out FILE2]`: shrinks a controlled failure
// (controlled_minimize.h), reports the sizes before and after, and writes
// a replay file that still fails and is no longer than the original.
// Exits 0 when it wrote the file, 2 for a file that cannot be minimized
// (unreadable, free mode, or its replay does not fail).
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command minimize_command();

}  // namespace hvo::cli
