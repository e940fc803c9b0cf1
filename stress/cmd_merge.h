// `hvo-stress merge RESULT...`: folds the result files of every shard of a
// random controlled search (`run --shard K/N`, shard.h) into the result the
// unsharded search prints, and refuses results that do not make one search.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command merge_command();

}  // namespace hvo::cli
