// The hvo-stress command line: picks the subcommand, parses its flags, runs
// it, and maps every failure to one line on `err` and an ExitCode.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "stress/exit_code.h"

namespace hvo::cli {

// `args` are the words after the program name. Never throws.
[[nodiscard]] ExitCode run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace hvo::cli
