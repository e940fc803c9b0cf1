#include "stress/cmd_replay.h"

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

#include "stress/campaign.h"
#include "stress/campaign_json.h"
#include "stress/cmd_outputs.h"
#include "stress/config_check.h"
#include "stress/controlled_campaign.h"
#include "stress/interleaving_view.h"
#include "stress/json_out.h"
#include "stress/junit_results.h"
#include "stress/replay_file.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;
namespace json = boost::json;

namespace hvo::cli {

namespace {

po::options_description replay_flags() {
  po::options_description flags("replay flags");
  flags.add_options()("json", po::bool_switch(), "print one JSON object on stdout");
  add_report_flag(flags);
  add_junit_flag(flags);
  return flags;
}

// The differences between the recorded execution and its replay; none
// means it was reproduced.
std::vector<std::string> differences(const stress::ReplayFile& f, const stress::ReplayResult& r) {
  std::vector<std::string> d;
  const sched::ExecutionResult& x = r.result;
  if (x.verdict == sched::Verdict::kDiverged) d.push_back(x.message);
  if (sched::to_string(x.verdict) != f.verdict)
    d.push_back(fmt::format("verdict {} (recorded: {})", sched::to_string(x.verdict), f.verdict));
  const std::string kind = r.violation ? std::string(to_string(r.violation->kind)) : std::string(sched::to_string(x.verdict));
  if (kind != f.violation_kind()) d.push_back(fmt::format("violation {} (recorded: {})", kind, f.violation_kind()));
  if (x.failure_step != f.failure_step)
    d.push_back(fmt::format("failure at step {} (recorded: {})", x.failure_step, f.failure_step));
  if (!r.alloc_failures_reached)
    d.push_back(fmt::format("not every recorded allocation failure ({}) was reached", f.alloc_failures.size()));
  if (x.trace_hash != f.trace_hash)
    d.push_back(fmt::format("trace hash {} (recorded: {})", stress::hex64(x.trace_hash), stress::hex64(f.trace_hash)));
  return d;
}

std::optional<stress::ViolationSite> site_of(const std::optional<Violation>& v) {
  if (!v || v->address == 0) return std::nullopt;
  return stress::ViolationSite{static_cast<unsigned>(v->cpu.value()), v->address};
}

json::array interleaving_json(const stress::StepRing& ring, uint64_t failure_step,
                              const std::optional<stress::ViolationSite>& site) {
  const uint64_t access = site ? stress::violating_step(ring, failure_step, *site) : 0;
  json::array rows;
  for (const stress::StepRecord& s : ring.before(failure_step, 20)) {
    json::object o;
    o["step"] = s.step;
    o["cpu"] = s.cpu;
    o["event"] = s.kind == stress::StepRecord::Kind::kFinish ? std::string("finish") : std::string(to_string(s.event));
    o["blocked"] = s.kind == stress::StepRecord::Kind::kBlocked;
    o["address"] = fmt::format("{:#x}", s.address);
    o["value"] = fmt::format("{:#x}", s.value);
    o["operation"] = std::string(s.operation);
    o["violation_seen"] = s.step == failure_step;
    o["violating_access"] = s.step == access;
    rows.emplace_back(std::move(o));
  }
  return rows;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ExitCode replay_controlled(const std::string& path, const stress::ReplayFile& f, bool as_json, std::ostream& out,
                           const OutputOptions& outputs) {
  stress::StepRing ring;
  const auto start = std::chrono::steady_clock::now();
  const stress::ReplayResult r = stress::replay_execution(f.config, f.seed, f.decisions, &ring, f.alloc_failures);
  const double seconds = seconds_since(start);
  const sched::ExecutionResult& x = r.result;
  const std::vector<std::string> diff = differences(f, r);
  const bool failed = x.verdict == sched::Verdict::kViolation || x.verdict == sched::Verdict::kDeadlock;
  // Our step numbers are the scheduler's only if every step went through
  // the task's hook; say so when they did not.
  const bool steps_match = ring.steps() == x.steps;
  if (outputs.junit) {
    stress::ReplayOutcome o;
    o.file = path;
    o.differences = diff;
    o.seconds = seconds;
    if (failed) {
      o.violations.push_back(r.violation ? r.violation->to_string() : x.message);
      o.kind = r.violation ? std::string(to_string(r.violation->kind)) : std::string(sched::to_string(x.verdict));
    }
    (void)write_junit_file(outputs, {stress::junit_replay(f.config, o)}, std::cerr);
  }
  // The page replays the execution again, with the full recorder: the
  // ring above keeps only the last steps.
  if (outputs.report) write_report_beside(path, std::cerr);
  if (as_json) {
    json::object o;
    o["file"] = path;
    o["mode"] = "controlled";
    o["exact"] = true;
    o["reproduced"] = diff.empty();
    o["diverged"] = !diff.empty();
    json::array ds;
    for (const std::string& s : diff) ds.emplace_back(s);
    o["differences"] = std::move(ds);
    o["verdict"] = std::string(sched::to_string(x.verdict));
    o["steps"] = x.steps;
    o["failure_step"] = x.failure_step;
    o["failure_cpu"] = x.failure_cpu;
    o["message"] = x.message;
    o["violation"] = r.violation ? json::value(stress::to_json(*r.violation)) : json::value(nullptr);
    o["trace_hash"] = stress::hex64(x.trace_hash);
    o["recorded_trace_hash"] = stress::hex64(f.trace_hash);
    o["decisions"] = f.decisions.size();
    o["interleaving"] = interleaving_json(ring, x.failure_step, site_of(r.violation));
    o["interleaving_steps_exact"] = steps_match;
    print_json(out, o);
  } else {
    out << fmt::format("replay of {}: model {}, {} CPUs x {} operations, seed {}, {} decisions (strategy {})\n", path,
                       f.config.model, f.config.threads, *f.config.iterations, f.seed, f.decisions.size(),
                       sched::to_string(f.config.strategy));
    out << fmt::format("verdict {} at step {} on cpu {} of {} steps, trace hash {}\n", sched::to_string(x.verdict),
                       x.failure_step, x.failure_cpu, x.steps, stress::hex64(x.trace_hash));
    if (r.violation) out << "  " << r.violation->to_string() << "\n";
    if (diff.empty()) {
      out << "REPRODUCED: the same violation at the same step with the same trace hash\n";
    } else {
      out << "DIVERGED: not the recorded execution:\n";
      for (const std::string& s : diff) out << "  " << s << "\n";
    }
    out << fmt::format("\nthe last steps up to step {} (each CPU stops before its access, which runs when it is "
                       "next scheduled; * the violating access, > where the scheduler saw the violation):\n",
                       x.failure_step);
    out << stress::render_interleaving(ring, f.config.threads, x.failure_step, site_of(r.violation));
    if (!steps_match)
      out << fmt::format("(note: {} steps recorded against the scheduler's {}: step numbers are approximate)\n",
                         ring.steps(), x.steps);
  }
  return failed ? ExitCode::kViolation : ExitCode::kOk;
}

ExitCode replay_free(const std::string& path, const stress::ReplayFile& f, bool as_json, std::ostream& out,
                     const OutputOptions& outputs) {
  // Real threads: the campaign is re-run from its configuration and seed,
  // which makes the same choices but not the same interleaving.
  stress::CampaignResult r;
  const auto start = std::chrono::steady_clock::now();
  try {
    r = stress::run_free_campaign(f.config, [](const Violation&) {});
  } catch (const std::invalid_argument& e) {
    throw UsageError(path, e.what());
  }
  if (outputs.junit) {
    stress::ReplayOutcome o;
    o.file = path;
    o.exact = false;
    o.seconds = seconds_since(start);
    for (const Violation& v : r.violations) o.violations.push_back(v.to_string());
    if (!r.violations.empty()) o.kind = std::string(to_string(r.violations.front().kind));
    (void)write_junit_file(outputs, {stress::junit_replay(f.config, o)}, std::cerr);
  }
  if (outputs.report) write_report_beside(path, std::cerr);
  const std::string recorded = f.violation_kind();
  bool same_kind = false;
  for (const Violation& v : r.violations) same_kind = same_kind || to_string(v.kind) == recorded;
  if (as_json) {
    json::object o;
    o["file"] = path;
    o["mode"] = "free";
    o["exact"] = false;
    o["command"] = f.config.command_line();
    o["violation_count"] = r.violation_count;
    json::array vs;
    for (const Violation& v : r.violations) vs.emplace_back(stress::to_json(v));
    o["violations"] = std::move(vs);
    o["same_kind"] = same_kind;
    print_json(out, o);
  } else {
    out << "replay of " << path << ": a free-mode finding, NOT an exact replay (real threads); re-ran:\n  "
        << f.config.command_line() << "\n";
    out << fmt::format("violations {}{}\n", r.violation_count,
                       r.violation_count == 0 ? "" : same_kind ? " (the recorded kind among them)" : " (other kinds)");
    for (const Violation& v : r.violations) out << "  " << v.to_string() << "\n";
  }
  return r.violation_count == 0 ? ExitCode::kOk : ExitCode::kViolation;
}

ExitCode run_replay(const po::variables_map& vm, std::ostream& out) {
  const std::string path = vm["FILE"].as<std::string>();
  auto read = stress::read_replay_file(path);
  if (auto* err = std::get_if<std::string>(&read)) throw UsageError(path, *err);
  const stress::ReplayFile& f = std::get<stress::ReplayFile>(read);
  // What `run` would refuse is refused here too (one rule set, config_check.h).
  if (std::string err = stress::check_campaign_config(f.config); !err.empty()) throw UsageError(path, err);
  const bool as_json = vm["json"].as<bool>();
  const OutputOptions outputs = output_options(vm);
  return f.config.mode == stress::CampaignMode::kControlled ? replay_controlled(path, f, as_json, out, outputs)
                                                            : replay_free(path, f, as_json, out, outputs);
}

}  // namespace

Command replay_command() {
  return Command{
      .name = "replay",
      .synopsis = "replay FILE [--json] [--no-report] [--junit FILE]",
      .summary = "re-runs a saved failure (a replay file): exactly, with its interleaving, in controlled mode",
      .positionals = {"FILE"},
      .flags = replay_flags,
      .run = run_replay,
  };
}

}  // namespace hvo::cli
