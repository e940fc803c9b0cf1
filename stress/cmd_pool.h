// `hvo-stress pool`: set the pool to N hugepages as a write to nr_hugepages
// would, report the vmemmap figures, shrink it to 0 and check that
// everything came back.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command pool_command();

}  // namespace hvo::cli
