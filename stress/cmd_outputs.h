// The result files a command writes besides its output: the HTML report
// beside each replay file (`run`, `replay`; --no-report turns it off) and
// the JUnit XML of --junit FILE (`run`, `replay`, `time-to-bug`). One place
// for the flags and for what happens when a file cannot be written.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "stress/junit_xml.h"

namespace hvo::cli {

struct OutputOptions {
  bool report = true;                // write FILE.html beside each replay file
  std::optional<std::string> junit;  // --junit FILE
};

void add_junit_flag(boost::program_options::options_description& flags);
void add_report_flag(boost::program_options::options_description& flags);

// The options given. A --junit destination that cannot be written is a
// usage error here, before anything runs.
[[nodiscard]] OutputOptions output_options(const boost::program_options::variables_map& vm);

// Writes the report of `replay_path` beside it and says so on `log`. A
// report that cannot be written is a warning: the finding itself is saved.
void write_report_beside(const std::string& replay_path, std::ostream& log);

// Writes the JUnit file if --junit was given; a failure is said on `log`
// and returned (true: written or not asked for).
bool write_junit_file(const OutputOptions& o, const std::vector<stress::JunitSuite>& suites, std::ostream& log);

}  // namespace hvo::cli
