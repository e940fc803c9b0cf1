// Parses the words after a subcommand with Boost.program_options and turns
// every way they can be wrong into a UsageError naming the flag (or the
// subcommand, for a stray or missing argument).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "stress/command.h"

namespace hvo::cli {

// The full flag set of `command`: its own flags plus --help/-h.
[[nodiscard]] boost::program_options::options_description all_flags(const Command& command);

// Throws UsageError on unknown flags, missing or repeated values, values
// given to switches, stray arguments and missing positionals. When --help is
// given, positionals are not required.
[[nodiscard]] boost::program_options::variables_map parse_options(const Command& command,
                                                                  const std::vector<std::string>& args);

}  // namespace hvo::cli
