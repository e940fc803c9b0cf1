#include "stress/cmd_outputs.h"

#include <exception>

#include "stress/output_file.h"
#include "stress/report.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

void add_junit_flag(po::options_description& flags) {
  flags.add_options()("junit", po::value<std::string>()->value_name("FILE"),
                      "also write the results as JUnit XML (Jenkins, GitLab, GitHub) to FILE");
}

void add_report_flag(po::options_description& flags) {
  flags.add_options()("no-report", po::bool_switch(),
                      "do not write the HTML report (FILE.html) beside each replay file");
}

OutputOptions output_options(const po::variables_map& vm) {
  OutputOptions o;
  if (vm.count("no-report")) o.report = !vm["no-report"].as<bool>();
  if (vm.count("junit")) {
    const std::string path = vm["junit"].as<std::string>();
    if (std::string err = stress::check_writable(path); !err.empty()) throw UsageError("--junit", err);
    o.junit = path;
  }
  return o;
}

void write_report_beside(const std::string& replay_path, std::ostream& log) {
  const std::string html = stress::report_path_for(replay_path);
  stress::ReportError error;
  try {
    if (stress::write_report(replay_path, html, error)) {
      log << "hvo-stress: report " << html << "\n";
      return;
    }
  } catch (const std::exception& e) {
    // The finding is saved and its exit code stands: a report that fails
    // is ours to fix, not a reason to lose the run's verdict.
    error = {html, std::string("internal error: ") + e.what()};
  }
  log << "hvo-stress: report not written: " << error.where << ": " << error.what << "\n";
}

bool write_junit_file(const OutputOptions& o, const std::vector<stress::JunitSuite>& suites, std::ostream& log) {
  if (!o.junit) return true;
  if (std::string err = stress::write_junit(*o.junit, suites); !err.empty()) {
    log << "hvo-stress: --junit: " << err << "\n";
    return false;
  }
  return true;
}

}  // namespace hvo::cli
