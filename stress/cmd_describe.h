// `hvo-stress describe`: boots a Machine and prints its self-description.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command describe_command();

}  // namespace hvo::cli
