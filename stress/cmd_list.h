// `hvo-stress list TOPIC`: the checker's vocabulary (invariants, violation
// kinds). Models and races join when the models land.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command list_command();

}  // namespace hvo::cli
