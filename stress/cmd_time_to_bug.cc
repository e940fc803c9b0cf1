#include "stress/cmd_time_to_bug.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>

#include "stress/cmd_outputs.h"
#include "stress/flag_values.h"
#include "stress/json_out.h"
#include "stress/junit_results.h"
#include "stress/output_file.h"
#include "stress/time_to_bug_html.h"
#include "stress/duration_parse.h"
#include "stress/race_catalogue.h"
#include "stress/time_to_bug.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;
namespace json = boost::json;

namespace hvo::cli {

namespace {

po::options_description time_to_bug_flags() {
  po::options_description flags("time-to-bug flags");
  flags.add_options()
      ("race", po::value<std::vector<std::string>>()->value_name("ID")->composing(),
       "a catalogue entry (repeatable; default: every entry the controlled search finds)")
      ("trials", po::value<std::string>()->value_name("N")->default_value("20"),
       "independent searches per strategy, each over its own seeds")
      ("budget", po::value<std::string>()->value_name("N"),
       "executions per trial before it counts as not found (default: the entry's budget, at least 1000)")
      ("strategies", po::value<std::string>()->value_name("LIST")->default_value("random,pct"),
       "comma-separated: random, pct")
      ("free", po::value<std::string>()->value_name("DURATION")->default_value("60s"),
       "free-running stress per entry, 0 to skip")
      ("free-threads", po::value<std::string>()->value_name("N")->default_value("2"), "threads of the free run")
      ("jobs", po::value<std::string>()->value_name("N")->default_value("1"),
       "trials run at a time (oneTBB tasks); the executions found do not depend on it, the seconds do")
      ("json", po::bool_switch(), "print one JSON object instead of text");
  flags.add_options()("html", po::value<std::string>()->value_name("FILE"),
                      "also draw the results as an HTML/SVG chart in FILE");
  add_junit_flag(flags);
  return flags;
}

std::vector<const stress::RaceEntry*> entries_of(const po::variables_map& vm) {
  std::vector<const stress::RaceEntry*> entries;
  if (!vm.count("race")) {
    // The entries whose scenario the search finds; the others (a unit test,
    // weak memory only) may be named with --race.
    for (const stress::RaceEntry& e : stress::race_catalogue())
      if (e.found_by == stress::FoundBy::kControlled) entries.push_back(&e);
    return entries;
  }
  for (const std::string& id : vm["race"].as<std::vector<std::string>>()) {
    const stress::RaceEntry* e = stress::find_race(id);
    if (e == nullptr) throw UsageError("--race", "unknown race '" + abbreviate(id) + "' (hvo-stress list races)");
    if (e->found_by == stress::FoundBy::kFigure)
      throw UsageError("--race", "'" + abbreviate(id) + "' is a figure (a cost), not a bug with a time to find");
    if (e->found_by == stress::FoundBy::kNoRace)
      throw UsageError("--race", "'" + abbreviate(id) + "' has no race to find (the code as shipped is clean there)");
    entries.push_back(e);
  }
  return entries;
}

std::vector<sched::StrategyKind> strategies_of(const std::string& text) {
  std::vector<sched::StrategyKind> out;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    const auto s = parse_choice_flag<sched::StrategyKind>(
        "--strategies", name, {{"random", sched::StrategyKind::kRandom}, {"pct", sched::StrategyKind::kPct}});
    if (std::find(out.begin(), out.end(), s) != out.end())
      throw UsageError("--strategies", "'" + std::string(name) + "' is given twice");
    out.push_back(s);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

json::value opt(const std::optional<uint64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value opt(const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object to_json(const stress::TrialSummary& s) {
  json::object o;
  o["strategy"] = std::string(sched::to_string(s.strategy));
  o["budget"] = s.budget;
  o["trials"] = s.trials.size();
  o["found"] = s.found;
  o["median_executions"] = opt(s.median_executions);
  o["worst_executions"] = opt(s.worst_executions);
  o["median_seconds"] = opt(s.median_seconds);
  o["worst_seconds"] = opt(s.worst_seconds);
  json::array trials;
  for (const stress::TrialResult& t : s.trials) {
    json::object j;
    j["first_seed"] = t.first_seed;
    j["found"] = t.found;
    j["executions"] = t.executions;
    j["seconds"] = t.seconds;
    if (t.found) {
      j["kind"] = t.kind;
      j["expected_kind"] = t.expected_kind;
    }
    trials.emplace_back(std::move(j));
  }
  o["per_trial"] = std::move(trials);
  return o;
}

json::object to_json(const stress::FreeRunResult& f) {
  json::object o;
  o["threads"] = f.threads;
  o["duration_ms"] = f.duration_ms;
  o["found"] = f.found;
  o["seconds"] = f.seconds;
  o["operations"] = f.operations;
  if (f.found) {
    o["kind"] = f.kind;
    o["expected_kind"] = f.expected_kind;
  }
  return o;
}

std::string executions_cell(const std::optional<uint64_t>& v, uint64_t budget) {
  return v ? std::to_string(*v) : fmt::format(">{}", budget);
}
std::string seconds_cell(const std::optional<double>& v) { return v ? fmt::format("{:.2f}", *v) : "-"; }

// Kinds found that the entry does not expect: a finding all the same, and
// one a reader of the table must know about.
std::string unexpected_kinds(const stress::TrialSummary& s) {
  std::string out;
  for (const stress::TrialResult& t : s.trials)
    if (t.found && !t.expected_kind && out.find(t.kind) == std::string::npos) out += (out.empty() ? "" : ",") + t.kind;
  return out;
}

ExitCode run_time_to_bug(const po::variables_map& vm, std::ostream& out) {
  const auto entries = entries_of(vm);
  const auto trials = static_cast<unsigned>(parse_count_flag("--trials", vm["trials"].as<std::string>(), 1, 1000));
  std::optional<uint64_t> budget;
  if (vm.count("budget")) budget = parse_count_flag("--budget", vm["budget"].as<std::string>(), 1, 100'000'000);
  const auto strategies = strategies_of(vm["strategies"].as<std::string>());
  // "0" skips the free run; any other value is a duration.
  const std::string free_text = vm["free"].as<std::string>();
  const uint64_t free_ms = free_text == "0" ? 0 : parse_duration_flag("--free", free_text);
  const auto free_threads =
      static_cast<unsigned>(parse_count_flag("--free-threads", vm["free-threads"].as<std::string>(), 1, 64));
  const bool as_json = vm["json"].as<bool>();
  const auto jobs = static_cast<unsigned>(
      parse_count_flag("--jobs", vm["jobs"].as<std::string>(), 1, stress::CampaignConfig::kMaxJobs));
  const OutputOptions outputs = output_options(vm);
  std::optional<std::string> html;
  if (vm.count("html")) {
    html = vm["html"].as<std::string>();
    if (std::string err = stress::check_writable(*html); !err.empty()) throw UsageError("--html", err);
  }
  const auto start = std::chrono::steady_clock::now();

  std::vector<stress::TimeToBug> results;
  if (!as_json)
    out << fmt::format("{:<22} {:<7} {:>6} {:>12} {:>12} {:>9} {:>9}  {}\n", "race", "search", "found",
                       "median exec", "worst exec", "median s", "worst s",
                       free_ms ? fmt::format("free ({} threads, {})", free_threads, stress::format_duration_ms(free_ms))
                               : std::string());
  for (const stress::RaceEntry* e : entries) {
    stress::TimeToBug r;
    r.entry = e;
    const uint64_t b = budget.value_or(stress::default_trial_budget(*e));
    for (const sched::StrategyKind s : strategies) {
      r.strategies.push_back(stress::measure_trials(*e, s, trials, b, jobs));
      if (!as_json) {
        const stress::TrialSummary& t = r.strategies.back();
        const std::string odd = unexpected_kinds(t);
        out << fmt::format("{:<22} {:<7} {:>3}/{:<2} {:>12} {:>12} {:>9} {:>9}{}\n", e->id, sched::to_string(s),
                           t.found, trials, executions_cell(t.median_executions, b),
                           executions_cell(t.worst_executions, b), seconds_cell(t.median_seconds),
                           seconds_cell(t.worst_seconds), odd.empty() ? "" : "  (also found: " + odd + ")");
        out.flush();
      }
    }
    if (free_ms != 0) {
      r.free_run = stress::measure_free_run(*e, free_threads, free_ms);
      if (!as_json) {
        const stress::FreeRunResult& f = *r.free_run;
        out << fmt::format("{:<22} {:<7} {}\n", e->id, "free",
                           f.found ? fmt::format("found {} after {:.2f} s", f.kind, f.seconds)
                                   : fmt::format("not found in {:.0f} s ({} operations)", f.seconds, f.operations));
        out.flush();
      }
    }
    results.push_back(std::move(r));
  }
  if (as_json) {
    json::array races;
    for (const stress::TimeToBug& r : results) {
      json::object o;
      o["id"] = std::string(r.entry->id);
      o["model"] = std::string(r.entry->model);
      o["expected"] = std::string(r.entry->expected);
      json::array s;
      for (const stress::TrialSummary& t : r.strategies) s.emplace_back(to_json(t));
      o["searches"] = std::move(s);
      o["free"] = r.free_run ? json::value(to_json(*r.free_run)) : json::value(nullptr);
      races.emplace_back(std::move(o));
    }
    json::object top;
    top["trials"] = trials;
    top["races"] = std::move(races);
    print_json(out, top);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (void)write_junit_file(outputs, {stress::junit_time_to_bug(results, seconds)}, std::cerr);
  if (html)
    if (std::string err = stress::write_file_atomically(*html, stress::time_to_bug_html(results, trials)); !err.empty())
      std::cerr << "hvo-stress: --html: " << err << "\n";
  return ExitCode::kOk;
}

}  // namespace

Command time_to_bug_command() {
  return Command{
      .name = "time-to-bug",
      .synopsis = "time-to-bug [--race ID]... [--trials N] [--budget N] [--strategies random,pct] "
                  "[--free DURATION] [--free-threads N] [--jobs N] [--json] [--junit FILE] [--html FILE]",
      .summary = "how many executions (and seconds) the controlled search needs to find each catalogue bug, "
                 "over independent trials, and whether free-running stress finds it",
      .positionals = {},
      .flags = time_to_bug_flags,
      .run = run_time_to_bug,
  };
}

}  // namespace hvo::cli
