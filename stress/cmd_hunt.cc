#include "stress/cmd_hunt.h"

#include <chrono>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "engine/check.h"
#include "models/registry.h"
#include "stress/campaign.h"
#include "stress/cmd_run_controlled.h"
#include "stress/controlled_campaign.h"
#include "stress/coverage.h"
#include "stress/duration_parse.h"
#include "stress/finding_writer.h"
#include "stress/flag_values.h"
#include "stress/hunt_portfolio.h"
#include "stress/json_out.h"
#include "stress/campaign_json.h"
#include "stress/test_only_plant.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;
namespace json = boost::json;

namespace hvo::cli {

namespace {

using stress::CampaignConfig;
using Clock = std::chrono::steady_clock;

// Executions of one controlled pull, and the length of a free one: short,
// so that the bandit gets many pulls in a minute, long enough that a pull
// is more than its setup.
constexpr uint64_t kPullExecutions = 40;
constexpr uint64_t kPullFreeMs = 1500;

po::options_description hunt_flags() {
  po::options_description flags("hunt flags");
  flags.add_options()
      ("model", po::value<std::string>()->value_name("M"), "the HVO model (hvo-stress list models)")
      ("revert", po::value<std::vector<std::string>>()->value_name("FIX")->composing(),
       "bring a fixed bug back (repeatable)")
      ("duration", po::value<std::string>()->value_name("T")->default_value("60s"), "the time budget (30s, 10m)")
      ("all", po::bool_switch(), "collect every distinct finding instead of stopping at the first")
      ("seed", po::value<std::string>()->value_name("S"), "the seed of the portfolio's choices (default: fresh, printed)")
      ("out", po::value<std::string>()->value_name("DIR")->default_value("hvo-stress-out"),
       "where findings (replay files) are written")
      ("json", po::bool_switch(), "print one JSON summary object on stdout");
  return flags;
}

// What makes two findings the same: their kind, invariant and operation.
using FindingKey = std::tuple<std::string, std::string, std::string>;

struct Finding {
  std::string pull;
  std::string kind;
  std::string message;
  std::string file;     // the replay file (controlled) or finding file (free)
  std::string command;  // what runs it again
  double at_s = 0;      // seconds into the hunt when its pull ended: the time to find it
};

struct ArmStats {
  uint64_t pulls = 0;
  uint64_t new_items = 0;
  double seconds = 0;
};

ExitCode run_hunt(const po::variables_map& vm, std::ostream& out) {
  if (!vm.count("model")) throw UsageError("--model", "is required (hvo-stress list models)");
  const std::string model = vm["model"].as<std::string>();
  std::set<std::string> reverts;
  if (vm.count("revert"))
    for (const std::string& r : vm["revert"].as<std::vector<std::string>>()) reverts.insert(r);
  if (std::string err = check_model_and_reverts(model, reverts); !err.empty())
    throw UsageError(reverts.empty() || find_model(model) == nullptr ? "--model" : "--revert", err);
  const uint64_t budget_ms = parse_duration_flag("--duration", vm["duration"].as<std::string>());
  const bool all = vm["all"].as<bool>();
  const uint64_t seed = vm.count("seed") ? parse_count_flag("--seed", vm["seed"].as<std::string>(), 0, UINT64_MAX)
                                         : (uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  const std::string out_dir = vm["out"].as<std::string>();
  if (out_dir.empty()) throw UsageError("--out", "empty directory name");
  std::cerr << fmt::format("hvo-stress: hunt on {} for {}, seed {}\n", model, stress::format_duration_ms(budget_ms),
                           seed);
  // TEST-ONLY (stress/test_only_plant.h): measuring hunt on planted bugs.
  std::set<std::string> planted;
  try {
    planted = stress::test_only_plants_from_env();
  } catch (const std::invalid_argument& e) {
    throw UsageError(stress::kTestOnlyPlantEnv, e.what());
  }
  if (!planted.empty())
    std::cerr << fmt::format("hvo-stress: TEST-ONLY: bugs planted from {}: {} (findings' replay files do not carry "
                             "them)\n",
                             stress::kTestOnlyPlantEnv, fmt::join(planted, ","));

  const stress::HuntDimensions dims = stress::hunt_dimensions(model);
  stress::HuntBandit bandit(dims, seed);
  CoverageReport seen;
  bool pairs_recorded = false;
  std::vector<Finding> findings;
  std::set<FindingKey> distinct;
  std::map<std::string, ArmStats> arms;
  const auto t0 = Clock::now();
  const auto elapsed_ms = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
  };
  uint64_t pulls = 0, executions = 0, operations = 0;
  stress::FaultStats faults;
  while (elapsed_ms() < budget_ms && (all || findings.empty())) {
    const stress::HuntPick pick = bandit.pick();
    const uint64_t pull_seed = seed + pulls * kPullExecutions;
    CampaignConfig c = stress::hunt_config(model, dims, pick, pull_seed, kPullExecutions,
                                           std::min(kPullFreeMs, std::max<uint64_t>(200, budget_ms - elapsed_ms())));
    c.reverts = reverts;
    c.planted_bugs = planted;
    // The budget binds inside a pull too: no execution starts after it.
    c.stop_at = t0 + std::chrono::milliseconds(budget_ms);
    c.out_dir = out_dir;
    const std::string name = stress::describe(dims, pick);
    ++pulls;
    const auto p0 = Clock::now();
    CoverageReport got;
    std::vector<Finding> found;
    std::vector<Violation> vs;
    if (c.mode == stress::CampaignMode::kControlled) {
      if (!stress::check_controlled_config(c).empty()) continue;  // a shape the hstate cannot take
      stress::ControlledResult r;
      try {
        r = stress::run_controlled(c);
      } catch (const InternalError& e) {
        // An assertion of the modelled kernel code that stops the run
        // (the static key's WARN on a negative count, say) is a finding,
        // the campaign's command line its reproducer, not the end of the hunt.
        found.push_back(Finding{name, "internal-error", e.what(), "", c.command_line()});
      }
      got = r.coverage;
      pairs_recorded = true;
      executions += r.report.executions;
      faults += r.faults;
      if (r.report.first_failure) {
        const std::string file = save_controlled_failure(c, r);
        if (r.violation) vs.push_back(*r.violation);
        found.push_back(Finding{name, r.violation ? std::string(to_string(r.violation->kind)) : "failure",
                                r.violation ? r.violation->to_string() : r.report.first_failure->message, file,
                                file.empty() ? c.command_line() : "hvo-stress replay " + file});
      }
    } else {
      stress::FindingWriter writer(c, std::cerr);
      if (std::string err = writer.prepare(); !err.empty()) throw UsageError("--out", err);
      stress::CampaignResult r;
      try {
        r = stress::run_free_campaign(c, [&](const Violation& v) { writer.write(v); }, {});
      } catch (const std::invalid_argument&) {
        continue;
      } catch (const InternalError& e) {
        found.push_back(Finding{name, "internal-error", e.what(), "", c.command_line()});
      }
      got = r.stats.coverage;
      operations += r.stats.operations;
      for (const Violation& v : r.violations) {
        vs.push_back(v);
        found.push_back(Finding{name, std::string(to_string(v.kind)), v.to_string(),
                                writer.files().empty() ? std::string() : writer.files().front(), c.command_line()});
      }
    }
    const double secs = std::chrono::duration<double>(Clock::now() - p0).count();
    const uint64_t fresh = got.new_items(seen);
    seen += got;
    bandit.reward(pick, fresh, secs);
    ArmStats& a = arms[name];
    ++a.pulls;
    a.new_items += fresh;
    a.seconds += secs;
    for (size_t i = 0; i < found.size(); ++i) {
      const Violation* v = i < vs.size() ? &vs[i] : nullptr;
      const FindingKey key{found[i].kind, v ? std::string(to_string(v->invariant)) : "", v ? v->operation : ""};
      if (distinct.insert(key).second) {
        findings.push_back(found[i]);
        findings.back().at_s = static_cast<double>(elapsed_ms()) / 1000.0;
      }
    }
  }

  const double total_s = static_cast<double>(elapsed_ms()) / 1000.0;
  const std::vector<std::string> warnings = stress::coverage_warnings(model, seen, pairs_recorded);
  if (vm["json"].as<bool>()) {
    json::object o;
    o["model"] = model;
    json::array rv;
    for (const std::string& r : reverts) rv.emplace_back(r);
    o["reverts"] = std::move(rv);
    o["seed"] = seed;
    o["duration_ms"] = budget_ms;
    o["elapsed_s"] = total_s;
    o["pulls"] = pulls;
    o["executions"] = executions;
    o["free_operations"] = operations;
    o["allocations_failed"] = faults.allocs_failed;
    json::array fs;
    for (const Finding& f : findings)
      fs.emplace_back(json::object{{"pull", f.pull}, {"kind", f.kind}, {"message", f.message}, {"file", f.file},
                                   {"command", f.command}, {"at_s", f.at_s}});
    o["findings"] = std::move(fs);
    json::array as;
    for (const auto& [n, a] : arms)
      as.emplace_back(json::object{{"arm", n}, {"pulls", a.pulls}, {"new_items", a.new_items}, {"seconds", a.seconds}});
    o["arms"] = std::move(as);
    o["coverage"] = stress::to_json(seen, warnings);
    print_json(out, o);
  } else {
    out << fmt::format("hunt {} (reverts: {}), seed {}: {} pulls in {:.1f} s, {} controlled executions, {} free "
                       "operations, {} allocations failed\n",
                       model, reverts.empty() ? "none" : fmt::format("{}", fmt::join(reverts, ",")), seed, pulls,
                       total_s, executions, operations, faults.allocs_failed);
    // The arms that found the most, first.
    std::vector<std::pair<std::string, ArmStats>> best(arms.begin(), arms.end());
    std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) { return a.second.new_items > b.second.new_items; });
    for (size_t i = 0; i < best.size() && i < 8; ++i)
      out << fmt::format("  arm  {:<48} {:>3} pulls {:>4} new coverage items\n", best[i].first, best[i].second.pulls,
                         best[i].second.new_items);
    stress::print_coverage(out, seen, warnings);
    out << fmt::format("findings        {}\n", findings.size());
    for (const Finding& f : findings)
      out << "  " << f.message << "\n    (" << f.pull << fmt::format(", at {:.1f} s) ", f.at_s) << f.command << "\n";
  }
  return findings.empty() ? ExitCode::kOk : ExitCode::kViolation;
}

}  // namespace

Command hunt_command() {
  return Command{
      .name = "hunt",
      .synopsis = "hunt --model M [--revert FIX]... [--duration T] [--all] [--seed S] [--json] [--out DIR]",
      .summary = "hunt for bugs over every workload, strategy, memory model and fault injection, spending the time "
                 "where coverage grows; start here",
      .positionals = {},
      .flags = hunt_flags,
      .run = run_hunt,
  };
}

}  // namespace hvo::cli
