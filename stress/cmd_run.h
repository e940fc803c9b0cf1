// `hvo-stress run`: a stress campaign (free mode: real threads).
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command run_command();

}  // namespace hvo::cli
