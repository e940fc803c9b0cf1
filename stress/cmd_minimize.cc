#include "stress/cmd_minimize.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <variant>

#include <fmt/format.h>

#include "stress/atomic_file.h"
#include "stress/config_check.h"
#include "stress/controlled_campaign.h"
#include "stress/controlled_minimize.h"
#include "stress/flag_values.h"
#include "stress/json_out.h"
#include "stress/replay_file.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;
namespace json = boost::json;

namespace hvo::cli {

namespace {

po::options_description minimize_flags() {
  po::options_description flags("minimize flags");
  flags.add_options()
      ("out", po::value<std::string>()->value_name("FILE2"), "where the minimized replay file goes (default: FILE.min.json)")
      ("max-replays", po::value<std::string>()->value_name("N")->default_value("4000"),
       "candidate executions to try, at most (exactly this many at most, over all phases)")
      ("json", po::bool_switch(), "print one JSON object on stdout");
  return flags;
}

json::object size_json(const stress::FailureSize& s) {
  return json::object{{"decisions", s.decisions}, {"cpus", s.cpus}, {"operations", s.operations}, {"steps", s.steps}};
}

std::string default_out(const std::string& path) {
  const std::string stem = path.ends_with(".json") ? path.substr(0, path.size() - 5) : path;
  return stem + ".min.json";
}

ExitCode run_minimize(const po::variables_map& vm, std::ostream& out) {
  const std::string path = vm["FILE"].as<std::string>();
  const std::string out_path = vm.count("out") ? vm["out"].as<std::string>() : default_out(path);
  if (out_path.empty()) throw UsageError("--out", "empty file name");
  stress::MinimizeBudget budget;
  budget.max_replays = parse_count_flag("--max-replays", vm["max-replays"].as<std::string>(), 1, uint64_t{1} << 32);
  auto read = stress::read_replay_file(path);
  if (auto* err = std::get_if<std::string>(&read)) throw UsageError(path, *err);
  const stress::ReplayFile& f = std::get<stress::ReplayFile>(read);
  if (f.config.mode != stress::CampaignMode::kControlled)
    throw UsageError(path, "a free-mode finding has no schedule to shrink (run it with --mode controlled)");
  // What `run` would refuse is refused here too (one rule set, config_check.h).
  if (std::string err = stress::check_campaign_config(f.config); !err.empty()) throw UsageError(path, err);
  // Before minutes of work, not after: the result must have somewhere to go.
  if (std::string err = stress::check_can_create(out_path); !err.empty()) throw UsageError("--out", err);
  // Minimizing what does not fail would "succeed" with nothing: check first.
  const stress::ReplayResult first = stress::replay_execution(f.config, f.seed, f.decisions, nullptr, f.alloc_failures);
  if (first.result.verdict != sched::Verdict::kViolation && first.result.verdict != sched::Verdict::kDeadlock)
    throw UsageError(path, fmt::format("its replay does not fail (verdict {}{}); nothing to minimize",
                                       sched::to_string(first.result.verdict),
                                       first.result.message.empty() ? "" : ": " + first.result.message));

  const auto t0 = std::chrono::steady_clock::now();
  // A progress line only for a person watching: a log file or a CI job
  // gets the summary alone.
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto last_drawn = t0 - std::chrono::seconds(1);  // the first report draws at once
  if (tty)
    budget.progress = [&](const stress::MinimizeProgress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_drawn < std::chrono::milliseconds(250)) return;
      last_drawn = now;
      std::fprintf(stderr, "\r[hvo-stress] minimize %5.1fs  candidates %llu/%llu  taken %llu  decisions %llu   ",
                   std::chrono::duration<double>(now - t0).count(), static_cast<unsigned long long>(p.candidates),
                   static_cast<unsigned long long>(budget.max_replays), static_cast<unsigned long long>(p.accepted),
                   static_cast<unsigned long long>(p.decisions));
      std::fflush(stderr);
    };
  const stress::MinimizeResult m = stress::minimize_failure(f, budget);
  if (tty) std::fprintf(stderr, "\r\033[K");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Exclusive, as every finding: if FILE2 appeared meanwhile, the result
  // takes FILE2-2 rather than replacing it.
  const std::filesystem::path target(out_path);
  const std::string dir = target.parent_path().empty() ? std::string(".") : target.parent_path().string();
  const stress::AtomicWriteResult w = stress::write_new_file(dir, target.stem().string(), target.extension().string(),
                                                             stress::replay_file_text(m.minimized));
  if (!w.ok()) throw UsageError("--out", w.error);
  const std::string& written = w.path;

  const stress::FailureSize before = stress::size_of(f);
  const stress::FailureSize after = stress::size_of(m.minimized);
  if (vm["json"].as<bool>()) {
    json::object o;
    o["file"] = path;
    o["out"] = written;
    o["violation_kind"] = m.minimized.violation_kind();
    o["before"] = size_json(before);
    o["after"] = size_json(after);
    o["candidates"] = m.candidates;
    o["diverged"] = m.diverged;
    o["accepted"] = m.accepted;
    o["elapsed_s"] = seconds;
    o["trace_hash"] = stress::hex64(m.minimized.trace_hash);
    print_json(out, o);
  } else {
    out << fmt::format("minimized {} ({}) in {:.2f} s: {} candidates, {} diverged, {} taken\n", path,
                       m.minimized.violation_kind(), seconds, m.candidates, m.diverged, m.accepted);
    out << fmt::format("  {:<10} {:>10} {:>6} {:>12} {:>10}\n", "", "decisions", "CPUs", "operations", "steps");
    out << fmt::format("  {:<10} {:>10} {:>6} {:>12} {:>10}\n", "before", before.decisions, before.cpus,
                       before.operations, before.steps);
    out << fmt::format("  {:<10} {:>10} {:>6} {:>12} {:>10}\n", "after", after.decisions, after.cpus,
                       after.operations, after.steps);
    out << "wrote " << written << "\nreplay: hvo-stress replay " << written << "\n";
  }
  return ExitCode::kOk;  // the job was done; replaying the file shows the failure
}

}  // namespace

Command minimize_command() {
  return Command{
      .name = "minimize",
      .synopsis = "minimize FILE [--out FILE2] [--max-replays N] [--json]",
      .summary = "shrinks a controlled failure (fewer switches, CPUs, operations), keeping its violation kind",
      .positionals = {"FILE"},
      .flags = minimize_flags,
      .run = run_minimize,
  };
}

}  // namespace hvo::cli
