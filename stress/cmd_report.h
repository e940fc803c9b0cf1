// `hvo-stress report FILE.json [-o FILE.html]`: the HTML report of a
// finding (report.h). Exits 0 when the page is written, 2 for a file that
// is not a replay file or a destination that cannot be written.
#pragma once

#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command report_command();

}  // namespace hvo::cli
