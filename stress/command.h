// One subcommand of hvo-stress: its name, help text, flags and body. cli.cc
// holds the table of them and does everything common (dispatch, help, error
// reporting), so a subcommand file only declares flags and does its job.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <ostream>
#include <string_view>
#include <vector>

#include "stress/exit_code.h"

namespace hvo::cli {

struct Command {
  std::string_view name;      // "describe"
  std::string_view synopsis;  // "describe [--memory SIZE] [--json]"
  std::string_view summary;   // one line for `hvo-stress help`
  // Required positional arguments, by name, in order ("TOPIC"); a last name
  // ending in "..." takes one or more words (a std::vector<std::string>).
  std::vector<std::string_view> positionals;
  // The flags, without --help (added for every command). Each value is a
  // string converted by flag_values.h, so bad values get our messages.
  std::function<boost::program_options::options_description()> flags;
  // Runs with parsed flags; positionals are in the map under their names.
  std::function<ExitCode(const boost::program_options::variables_map&, std::ostream& out)> run;
};

}  // namespace hvo::cli
