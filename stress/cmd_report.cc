#include "stress/cmd_report.h"

#include "stress/output_file.h"
#include "stress/report.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

po::options_description report_flags() {
  po::options_description flags("report flags");
  flags.add_options()("output,o", po::value<std::string>()->value_name("FILE.html"),
                      "where to write the page (default: FILE.html beside FILE.json)");
  return flags;
}

ExitCode run_report(const po::variables_map& vm, std::ostream& out) {
  const std::string path = vm["FILE"].as<std::string>();
  const std::string html = vm.count("output") ? vm["output"].as<std::string>() : stress::report_path_for(path);
  if (html.empty()) throw UsageError("--output", "empty file name");
  if (html == path) throw UsageError("--output", "would overwrite the replay file itself");
  // Before the replay, which may take a while.
  if (std::string err = stress::check_writable(html); !err.empty()) throw UsageError(html, err);
  stress::ReportError error;
  if (!stress::write_report(path, html, error)) throw UsageError(error.where, error.what);
  out << html << "\n";
  return ExitCode::kOk;
}

}  // namespace

Command report_command() {
  return Command{
      .name = "report",
      .synopsis = "report FILE [-o FILE.html]",
      .summary = "writes one self-contained HTML page for a finding: the interleaving per CPU, the PTE and TLB "
                 "history, the commands (a controlled finding is replayed to draw it)",
      .positionals = {"FILE"},
      .flags = report_flags,
      .run = run_report,
  };
}

}  // namespace hvo::cli
