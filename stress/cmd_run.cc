#include "stress/cmd_run.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include <fmt/format.h>

#include "models/registry.h"
#include "stress/campaign.h"
#include "stress/campaign_json.h"
#include "stress/cmd_outputs.h"
#include "stress/coverage.h"
#include "stress/cmd_run_controlled.h"
#include "stress/cmd_run_shard.h"
#include "stress/config_check.h"
#include "stress/controlled_campaign.h"
#include "stress/duration_parse.h"
#include "stress/fail_alloc_parse.h"
#include "stress/finding_writer.h"
#include "stress/flag_values.h"
#include "stress/interrupt.h"
#include "stress/json_out.h"
#include "stress/junit_results.h"
#include "stress/options_parse.h"
#include "stress/race_catalogue.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

using stress::CampaignConfig;
using stress::CampaignResult;

po::options_description run_flags() {
  po::options_description flags("run flags");
  flags.add_options()
      ("model", po::value<std::string>()->value_name("M"), "the HVO model (hvo-stress list models)")
      ("revert", po::value<std::vector<std::string>>()->value_name("FIX")->composing(),
       "bring a fixed bug back (repeatable; hvo-stress list models shows each model's)")
      ("mode", po::value<std::string>()->value_name("free")->default_value("free"),
       "free: real threads, as fast as the machine goes; controlled: simulated CPUs as fibers, "
       "one execution per seed, replayable")
      ("threads", po::value<std::string>()->value_name("N")->default_value("2"),
       "simulated CPUs, one thread (free) or fiber (controlled) each (1..64)")
      ("iterations", po::value<std::string>()->value_name("N"),
       "free: total operations over all threads (default 100000); controlled: operations per CPU (default 4)")
      ("duration", po::value<std::string>()->value_name("T"), "run this long instead (30s, 2m, 1h)")
      ("seed", po::value<std::string>()->value_name("S"), "the seed of every random choice (default: a fresh one, printed)")
      ("workload", po::value<std::string>()->value_name("NAME")->default_value(std::string(stress::kDefaultWorkload)),
       "which actors, in which proportions (hvo-stress list workloads)")
      ("hugepage-size", po::value<std::string>()->value_name("2M|1G")->default_value("2M"), "the hstate")
      ("memory", po::value<std::string>()->value_name("SIZE"), "simulated RAM (default 1G for 2M pages, 4G for 1G; controlled mode: 256M for 2M pages)")
      ("pte-access", po::value<std::string>()->value_name("once|plain|plain-torn")->default_value("once"),
       "the walk's page-table entry accesses: READ_ONCE/WRITE_ONCE; plain (the v17 walk's plain 64-bit *pte reads, "
       "set_pte_at() still one store); plain-torn (32-bit page tables: reads and writes in two halves)")
      ("check-every", po::value<std::string>()->value_name("N")->default_value("20000"),
       "operations between stop-the-world invariant checks")
      ("out", po::value<std::string>()->value_name("DIR")->default_value("hvo-stress-out"),
       "where findings (replay files) are written")
      ("json", po::bool_switch(), "print one JSON summary object on stdout")
      ("strategy", po::value<std::string>()->value_name("random|pct|bounded"),
       "controlled: who runs at each schedule point (default random)")
      ("seeds", po::value<std::string>()->value_name("N"),
       "controlled: executions, from seeds S, S+1, ... (default 100; bounded: a cap)")
      ("depth", po::value<std::string>()->value_name("d"), "controlled, pct: the bug depth (default 3)")
      ("preemptions", po::value<std::string>()->value_name("P"),
       "controlled, bounded: at most P preemptions per schedule (default 2)")
      ("max-steps", po::value<std::string>()->value_name("N"),
       "controlled: schedule points per execution before it is cut (default 200000)")
      ("memory-model", po::value<std::string>()->value_name("sc|tso|weak"),
       "controlled: sequential consistency, or per-CPU store buffers (x86-like tso, arm64-like weak); default sc")
      ("jobs", po::value<std::string>()->value_name("N"),
       "controlled: executions run in parallel (default 1); the result is the same for every N "
       "(bounded: always 1)")
      ("initial-pool", po::value<std::string>()->value_name("N"),
       "controlled: hugepages in the pool when the CPUs start (default 2; 0: the CPUs grow it themselves)")
      ("race", po::value<std::string>()->value_name("ID"),
       "run a race catalogue entry's scenario on its reverted model (hvo-stress list races); "
       "other flags override the scenario's")
      ("fixed", po::bool_switch(), "with --race: run the same scenario on the fixed model")
      ("fail-allocs", po::value<std::string>()->value_name("N"),
       "controlled: up to N allocations that may fail in the kernel fail per execution, chosen from the seed, "
       "recorded in the replay file (default 0)")
      ("fail-alloc", po::value<std::string>()->value_name("SPEC"),
       "free: fail_page_alloc's knobs, e.g. probability=1,interval=1,times=100,min-order=0 "
       "(probability in percent, as the kernel's)");
  add_report_flag(flags);
  add_junit_flag(flags);
  add_shard_flags(flags);
  return flags;
}

// The catalogue entry --race names, or null without --race.
const stress::RaceEntry* race_of(const po::variables_map& vm) {
  if (!vm.count("race")) {
    if (vm["fixed"].as<bool>()) throw UsageError("--fixed", "needs --race ID (hvo-stress list races)");
    return nullptr;
  }
  const std::string id = vm["race"].as<std::string>();
  const stress::RaceEntry* e = stress::find_race(id);
  if (e == nullptr) {
    std::string ids;
    for (const stress::RaceEntry& r : stress::race_catalogue()) ids += (ids.empty() ? "" : ", ") + std::string(r.id);
    throw UsageError("--race", "unknown race '" + abbreviate(id) + "' (known: " + ids + ")");
  }
  for (const char* flag : {"model", "revert"})
    if (vm.count(flag))
      throw UsageError(std::string("--") + flag, "cannot be given with --race: the race names its model and revert");
  return e;
}

// A flag the user gave (not one left at its default).
bool given(const po::variables_map& vm, const char* flag) { return vm.count(flag) && !vm[flag].defaulted(); }

CampaignConfig config_from_flags(const po::variables_map& vm) {
  const stress::RaceEntry* race = race_of(vm);
  CampaignConfig c;
  if (race != nullptr) {
    c = stress::race_config(*race, vm["fixed"].as<bool>());
  } else {
    if (!vm.count("model")) throw UsageError("--model", "is required (hvo-stress list models)");
    c.model = vm["model"].as<std::string>();
    if (vm.count("revert"))
      for (const std::string& r : vm["revert"].as<std::vector<std::string>>()) c.reverts.insert(r);
  }
  // No model or fix name is this long: say so without echoing all of it.
  constexpr size_t kLongestName = 80;
  if (c.model.size() > kLongestName) throw UsageError("--model", "unknown model '" + abbreviate(c.model) + "'");
  for (const std::string& r : c.reverts)
    if (r.size() > kLongestName) throw UsageError("--revert", "unknown fix '" + abbreviate(r) + "'");
  if (std::string err = check_model_and_reverts(c.model, c.reverts); !err.empty())
    throw UsageError(c.reverts.empty() || find_model(c.model) == nullptr ? "--model" : "--revert", err);
  // With --race, a flag left at its default keeps the scenario's value.
  auto use = [&](const char* flag) { return race == nullptr ? vm.count(flag) != 0 : given(vm, flag); };
  if (use("mode"))
    c.mode = parse_choice_flag<stress::CampaignMode>(
        "--mode", vm["mode"].as<std::string>(),
        {{"free", stress::CampaignMode::kFree}, {"controlled", stress::CampaignMode::kControlled}});
  const bool controlled = c.mode == stress::CampaignMode::kControlled;
  for (const char* flag :
       {"strategy", "seeds", "depth", "preemptions", "max-steps", "initial-pool", "memory-model", "jobs",
        "fail-allocs"})
    if (!controlled && vm.count(flag)) throw UsageError(std::string("--") + flag, "needs --mode controlled");
  if (controlled && !vm["check-every"].defaulted())
    throw UsageError("--check-every", "is for free mode: controlled mode checks at the end of every execution");
  if (controlled && vm.count("duration"))
    throw UsageError("--duration", "controlled mode runs executions (--seeds, --iterations), not a duration");
  if (use("threads"))
    c.threads = static_cast<unsigned>(
        parse_count_flag("--threads", vm["threads"].as<std::string>(), 1, MachineConfig::kMaxCpus));
  if (vm.count("iterations") && vm.count("duration"))
    throw UsageError("--iterations", "and --duration cannot both be given");
  if (vm.count("iterations")) {
    c.iterations = parse_count_flag("--iterations", vm["iterations"].as<std::string>(), 1, uint64_t{1} << 50);
  } else if (vm.count("duration")) {
    c.iterations.reset();
    c.duration_ms = parse_duration_flag("--duration", vm["duration"].as<std::string>());
  } else if (race == nullptr) {
    c.iterations = controlled ? 4 : 100000;
  }
  if (vm.count("seed"))
    c.seed = parse_count_flag("--seed", vm["seed"].as<std::string>(), 0, UINT64_MAX);
  else if (race == nullptr)
    c.seed = uint64_t{std::random_device{}()} << 32 | std::random_device{}();
  if (use("workload")) c.workload = vm["workload"].as<std::string>();
  if (stress::find_workload(c.workload) == nullptr) {
    std::string names;
    for (const stress::Workload& w : stress::all_workloads()) names += (names.empty() ? "" : ", ") + std::string(w.name);
    throw UsageError("--workload", quote_arg(c.workload) + " is not one of: " + names);
  }
  if (use("hugepage-size"))
    c.hstate = parse_choice_flag<Hstate>("--hugepage-size", vm["hugepage-size"].as<std::string>(),
                                         {{"2M", kHstate2M}, {"1G", kHstate1G}});
  if (vm.count("memory")) c.memory_bytes = parse_memory_flag("--memory", vm["memory"].as<std::string>());
  if (c.hstate.gigantic() && c.effective_memory() < (uint64_t{4} << 30))
    throw UsageError("--memory", "1G hugepages need at least 4G of memory");
  if (use("pte-access"))
    c.pte_access = parse_choice_flag<PteAccess>("--pte-access", vm["pte-access"].as<std::string>(),
                                      {{"once", PteAccess::kOnce},
                                       {"plain", PteAccess::kPlain},
                                       {"plain-torn", PteAccess::kPlainTorn}});
  c.check_every = parse_count_flag("--check-every", vm["check-every"].as<std::string>(), 1, uint64_t{1} << 40);
  c.out_dir = vm["out"].as<std::string>();
  if (c.out_dir.empty()) throw UsageError("--out", "empty directory name");
  if (c.out_dir.size() > PATH_MAX) throw UsageError("--out", fmt::format("longer than PATH_MAX ({})", PATH_MAX));
  if (vm.count("fail-alloc")) {
    if (controlled)
      throw UsageError("--fail-alloc", "is for free mode: controlled mode fails allocations as choices (--fail-allocs N)");
    auto attr = stress::parse_fail_alloc(vm["fail-alloc"].as<std::string>());
    if (auto* err = std::get_if<std::string>(&attr)) throw UsageError("--fail-alloc", *err);
    c.fail_alloc = std::get<FaultAttr>(attr);
  }
  if (!controlled) return c;
  if (vm.count("fail-allocs"))
    c.fail_allocs = parse_count_flag("--fail-allocs", vm["fail-allocs"].as<std::string>(), 0, 1024);
  if (vm.count("strategy"))
    c.strategy = parse_choice_flag<sched::StrategyKind>(
        "--strategy", vm["strategy"].as<std::string>(),
        {{"random", sched::StrategyKind::kRandom}, {"pct", sched::StrategyKind::kPct},
         {"bounded", sched::StrategyKind::kBounded}});
  if (vm.count("seeds")) c.seeds = parse_count_flag("--seeds", vm["seeds"].as<std::string>(), 1, uint64_t{1} << 40);
  if (vm.count("depth"))
    c.depth = static_cast<unsigned>(parse_count_flag("--depth", vm["depth"].as<std::string>(), 1, 64));
  if (vm.count("preemptions"))
    c.preemptions =
        static_cast<unsigned>(parse_count_flag("--preemptions", vm["preemptions"].as<std::string>(), 0, 1000));
  if (vm.count("max-steps"))
    c.max_steps = parse_count_flag("--max-steps", vm["max-steps"].as<std::string>(), 1, uint64_t{1} << 40);
  if (vm.count("memory-model"))
    c.memory_model = parse_choice_flag<sched::MemoryModel>(
        "--memory-model", vm["memory-model"].as<std::string>(),
        {{"sc", sched::MemoryModel::kSc}, {"tso", sched::MemoryModel::kTso}, {"weak", sched::MemoryModel::kWeak}});
  if (vm.count("jobs"))
    c.jobs = static_cast<unsigned>(
        parse_count_flag("--jobs", vm["jobs"].as<std::string>(), 1, CampaignConfig::kMaxJobs));
  if (vm.count("initial-pool"))
    c.initial_pool = parse_count_flag("--initial-pool", vm["initial-pool"].as<std::string>(), 0,
                                      stress::max_controlled_pool(c.hstate));
  // A knob of another strategy would be ignored without a word: refuse it.
  if (vm.count("depth") && c.strategy != sched::StrategyKind::kPct)
    throw UsageError("--depth", fmt::format("is for --strategy pct (the strategy is {})", sched::to_string(c.strategy)));
  if (vm.count("preemptions") && c.strategy != sched::StrategyKind::kBounded)
    throw UsageError("--preemptions",
                     fmt::format("is for --strategy bounded (the strategy is {})", sched::to_string(c.strategy)));
  return c;
}

// The flags' configuration, checked by the rules `replay` applies to a
// file's (config_check.h).
CampaignConfig checked_config_from_flags(const po::variables_map& vm) {
  CampaignConfig c = config_from_flags(vm);
  if (std::string err = stress::check_campaign_config(c); !err.empty()) throw UsageError("run", err);
  return c;
}

void print_text(std::ostream& out, const CampaignConfig& c, const CampaignResult& r) {
  const stress::CampaignStats& s = r.stats;
  const double rate = s.elapsed_s > 0 ? static_cast<double>(s.operations) / s.elapsed_s : 0;
  const uint64_t cycles = std::min(s.vmemmap.optimized, s.vmemmap.restored);
  std::string reverts;
  for (const std::string& x : c.reverts) reverts += (reverts.empty() ? "" : ",") + x;
  out << fmt::format("model {} (reverts: {}), free mode, {} threads, seed {}, workload {}, {} pages, pte {}\n",
                     c.model, reverts.empty() ? "none" : reverts, c.threads, c.seed, c.workload, c.hstate.size_name,
                     to_string(c.pte_access));
  out << fmt::format("operations      {} in {:.2f} s ({:.0f}/s)\n", s.operations, s.elapsed_s, rate);
  out << fmt::format("hugepages       {} optimized, {} restored ({:.0f} cycles/s), {} restore failures\n",
                     s.vmemmap.optimized, s.vmemmap.restored, s.elapsed_s > 0 ? cycles / s.elapsed_s : 0.0,
                     s.vmemmap.restore_failures);
  out << fmt::format("vmemmap pages   {} freed, {} allocated back\n", s.vmemmap.pages_freed, s.vmemmap.pages_allocated);
  if (c.fail_alloc)
    out << fmt::format("alloc failures  {} injected ({}); error paths: {} vmemmap restores failed\n", s.allocs_failed,
                       stress::to_string(*c.fail_alloc), s.vmemmap.restore_failures);
  out << fmt::format("checks          {} stop-the-world, {} kpageflags reads checked\n", s.quiescent_checks,
                     s.actors.kpageflags_checked);
  out << fmt::format("schedule points {}, TLB flushes {}, grace periods {}\n", s.schedule_points, s.tlb_flushes,
                     s.grace_periods);
  stress::print_coverage(out, s.coverage, stress::coverage_warnings(c.model, s.coverage, false));
  out << fmt::format("violations      {}\n", r.violation_count);
  for (const Violation& v : r.violations) out << "  " << v.to_string() << "\n";
  if (r.interrupted) out << "interrupted     by a signal: the figures above are of the part that ran\n";
}

// Says the seed when it was drawn, before anything runs: a campaign cut
// short by a signal or a crash can still be repeated.
void print_drawn_seed(const po::variables_map& vm, const CampaignConfig& c) {
  if (vm.count("seed") || vm.count("race")) return;
  std::cerr << "hvo-stress: seed " << c.seed << " (drawn; --seed " << c.seed << " repeats this campaign)\n";
  std::cerr.flush();
}

ExitCode run_free(const po::variables_map& vm, const CampaignConfig& c, std::ostream& out,
                  const OutputOptions& outputs) {
  stress::FindingWriter findings(c, std::cerr);
  if (std::string err = findings.prepare(); !err.empty()) throw UsageError("--out", err);
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto progress = [&](uint64_t ops, uint64_t cycles, uint64_t violations, double elapsed) {
    std::string remaining;
    if (c.duration_ms) remaining = fmt::format("  remaining {:.0f}s", std::max(0.0, *c.duration_ms / 1000.0 - elapsed));
    if (c.iterations && ops > 0)
      remaining = fmt::format("  remaining ~{:.0f}s", elapsed * (static_cast<double>(*c.iterations) / ops - 1));
    std::fprintf(stderr, "\r[hvo-stress] %5.1fs  ops %llu (%.0f/s)  hugepage cycles %llu  violations %llu%s   ", elapsed,
                 static_cast<unsigned long long>(ops), elapsed > 0 ? ops / elapsed : 0.0,
                 static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(violations),
                 remaining.c_str());
    std::fflush(stderr);
  };
  CampaignResult r;
  try {
    r = stress::run_free_campaign(c, [&](const Violation& v) { findings.write(v); },
                                  tty ? stress::ProgressSink(progress) : stress::ProgressSink());
  } catch (const std::invalid_argument& e) {
    throw UsageError("run", e.what());
  }
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (outputs.report)
    for (const std::string& f : findings.files()) write_report_beside(f, std::cerr);
  (void)write_junit_file(outputs, {stress::junit_free_run(c, r, findings.files())}, std::cerr);
  if (vm["json"].as<bool>())
    print_json(out, stress::summary_json(c, r, findings.files()));
  else
    print_text(out, c, r);
  // A violation is the campaign's result whether or not a signal came
  // after it; without one, an interrupted run says so in its status.
  if (r.violation_count > 0) return ExitCode::kViolation;
  if (r.interrupted) return interrupted_exit_code();
  return ExitCode::kOk;
}

ExitCode run_run(const po::variables_map& vm, std::ostream& out) {
  const CampaignConfig c = checked_config_from_flags(vm);
  const OutputOptions outputs = output_options(vm);
  if (const stress::RaceEntry* race = race_of(vm); race != nullptr) {
    const bool fixed = vm["fixed"].as<bool>();
    std::cerr << "hvo-stress: race " << race->id << " (" << race->model << ", "
              << (fixed ? "fixed" : "reverted") << "): expected "
              << (fixed ? std::string("no violation") : std::string(race->expected)) << " ["
              << stress::to_string(race->found_by) << "]\n";
  }
  const std::optional<stress::ShardSpec> shard = shard_of(vm, c);
  print_drawn_seed(vm, c);
  // From here on SIGINT/SIGTERM stop the campaign at its next safe point.
  const stress::InterruptScope interrupts;
  if (shard) return run_shard_campaign(c, *shard, vm["json"].as<bool>(), out);
  if (c.mode == stress::CampaignMode::kControlled)
    return run_controlled_campaign(c, vm["json"].as<bool>(), out, outputs);
  return run_free(vm, c, out, outputs);
}

}  // namespace

stress::CampaignConfig run_config_from_args(const std::vector<std::string>& args) {
  return checked_config_from_flags(parse_options(run_command(), args));
}

Command run_command() {
  return Command{
      .name = "run",
      .synopsis =
          "run --model M [--revert FIX]... [--mode free|controlled] [--threads N] (--iterations N | --duration T) "
          "[--seed S] [--workload NAME] [--hugepage-size 2M|1G] [--memory SIZE] [--pte-access once|plain|plain-torn] "
          "[--strategy random|pct|bounded] [--seeds N] [--depth d] [--preemptions P] [--max-steps N] "
          "[--initial-pool N] [--memory-model sc|tso|weak] [--jobs N] [--shard K/N [--shard-block B]] "
          "[--shard-count N] [--fail-allocs N] [--fail-alloc SPEC] [--race ID [--fixed]] [--json] [--out DIR] "
          "[--no-report] [--junit FILE]",
      .summary = "a stress campaign: threads allocate, free and access hugepages while checkers watch",
      .positionals = {},
      .flags = run_flags,
      .run = run_run,
  };
}

}  // namespace hvo::cli
