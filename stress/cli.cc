#include "stress/cli.h"

#include <exception>

#include "engine/check.h"
#include "stress/cmd_describe.h"
#include "stress/cmd_hunt.h"
#include "stress/cmd_list.h"
#include "stress/cmd_merge.h"
#include "stress/cmd_minimize.h"
#include "stress/cmd_pool.h"
#include "stress/cmd_replay.h"
#include "stress/cmd_report.h"
#include "stress/cmd_run.h"
#include "stress/cmd_time_to_bug.h"
#include "stress/options_parse.h"
#include "stress/usage_error.h"

#ifndef HVO_VERSION
#define HVO_VERSION "unknown"
#endif

namespace hvo::cli {

namespace {

constexpr std::string_view kProgram = "hvo-stress";
// The longest error message printed: room for a list of every race id,
// not for an argument of any length echoed inside one (models/ words its
// own messages and cannot abbreviate).
constexpr size_t kMaxMessage = 1000;

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {run_command(),      replay_command(),   minimize_command(),
                                             pool_command(),     describe_command(), list_command(),
                                             time_to_bug_command(), report_command(), merge_command(),
                                             hunt_command()};
  return table;
}

const Command* find_command(std::string_view name) {
  for (const Command& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

void print_usage(std::ostream& out) {
  out << "usage: " << kProgram << " <command> [flags]\n"
      << "       " << kProgram << " help [command] | --help | --version\n\n"
      << "Simulates the Linux kernel's HugeTLB Vmemmap Optimization and hunts its races.\n\n"
      << "commands:\n";
  for (const Command& c : commands()) out << "  " << c.synopsis << "\n      " << c.summary << "\n";
  out << "\nexit codes: 0 ok, 1 violation found, 2 bad usage or input, 3 internal error,\n"
      << "            130/143 a campaign stopped by SIGINT/SIGTERM (its partial summary printed)\n";
}

void print_command_help(std::ostream& out, const Command& c) {
  out << "usage: " << kProgram << " " << c.synopsis << "\n\n" << c.summary << "\n\n" << all_flags(c);
}

ExitCode help(const std::vector<std::string>& args, std::ostream& out) {
  if (args.size() > 2) throw UsageError("help", "expects at most one command name");
  if (args.size() == 1) {
    print_usage(out);
    return ExitCode::kOk;
  }
  const Command* c = find_command(args[1]);
  if (c == nullptr) throw UsageError("help", "unknown command '" + abbreviate(args[1]) + "'");
  print_command_help(out, *c);
  return ExitCode::kOk;
}

ExitCode dispatch(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    print_usage(err);
    return ExitCode::kUsage;
  }
  const std::string& first = args.front();
  if (first == "help" || first == "--help" || first == "-h") return help(args, out);
  if (first == "--version") {
    if (args.size() > 1) throw UsageError("--version", "takes no arguments");
    out << kProgram << " " << HVO_VERSION << "\n";
    return ExitCode::kOk;
  }
  const Command* command = find_command(first);
  if (command == nullptr) {
    const bool flag = first.starts_with("-");
    throw UsageError(first, std::string(flag ? "unknown flag" : "unknown command") + " (see: " +
                                std::string(kProgram) + " --help)");
  }
  const auto vm = parse_options(*command, {args.begin() + 1, args.end()});
  if (vm.count("help")) {
    print_command_help(out, *command);
    return ExitCode::kOk;
  }
  return command->run(vm, out);
}

}  // namespace

ExitCode run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return dispatch(args, out, err);
  } catch (const UsageError& e) {
    // Arguments come back in messages; a 128 KiB one must not come back whole.
    err << kProgram << ": " << abbreviate(e.where()) << ": " << abbreviate(e.what(), kMaxMessage) << "\n";
    return ExitCode::kUsage;
  } catch (const InternalError& e) {
    err << kProgram << ": " << e.what() << "\n";  // already says "internal error: ..."
    return ExitCode::kInternal;
  } catch (const std::exception& e) {
    err << kProgram << ": internal error: " << e.what() << "\n";
    return ExitCode::kInternal;
  }
}

}  // namespace hvo::cli
