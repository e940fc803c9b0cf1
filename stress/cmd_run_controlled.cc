#include "stress/cmd_run_controlled.h"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "stress/atomic_file.h"
#include "stress/campaign_json.h"
#include "stress/controlled_campaign.h"
#include "stress/coverage.h"
#include "stress/finding_writer.h"
#include "stress/interrupt.h"
#include "stress/json_out.h"
#include "stress/junit_results.h"
#include "stress/replay_file.h"
#include "stress/usage_error.h"

namespace hvo::cli {

namespace json = boost::json;
using stress::CampaignConfig;
using stress::ControlledResult;

namespace {

stress::ReplayFile replay_file_of(const CampaignConfig& c, const ControlledResult& r) {
  const sched::ExecutionResult& x = *r.report.first_failure;
  stress::ReplayFile f;
  f.config = c;
  f.seed = *r.failing_seed;
  f.execution = x.index;
  f.decisions = x.decisions;
  f.alloc_failures = r.alloc_failures;
  f.verdict = std::string(sched::to_string(x.verdict));
  f.steps = x.steps;
  f.failure_step = x.failure_step;
  f.failure_cpu = x.failure_cpu;
  f.message = x.message;
  f.trace_hash = x.trace_hash;
  if (r.violation) f.violation = stress::to_json(*r.violation);
  return f;
}

}  // namespace

// The failure goes to disk before anything is printed: a finding is never
// lost, and never takes another's name (finding_writer.h, atomic_file.h).
std::string save_controlled_failure(const CampaignConfig& c, const ControlledResult& r) {
  const stress::AtomicWriteResult w = stress::write_new_file(
      c.out_dir, stress::finding_stem(c, *r.failing_seed), ".json", stress::replay_file_text(replay_file_of(c, r)));
  if (!w.ok()) {
    std::cerr << "hvo-stress: finding not saved: " << w.error << "; run it again with: " << c.command_line() << "\n";
    return {};
  }
  std::cerr << "hvo-stress: saved " << w.path << "\nhvo-stress: replay: hvo-stress replay " << w.path << "\n";
  return w.path;
}

namespace {

unsigned effective_jobs(const CampaignConfig& c) {
  return c.strategy == sched::StrategyKind::kBounded ? 1 : c.jobs;
}

const sched::ExecutionResult& shown_execution(const ControlledResult& r) {
  return r.report.first_failure ? *r.report.first_failure : r.report.last;
}

json::object summary(const CampaignConfig& c, const ControlledResult& r, const std::string& file) {
  const sched::Report& rep = r.report;
  const sched::ExecutionResult& x = shown_execution(r);
  json::object o = stress::to_json(c);
  json::array vs;
  if (r.violation) vs.emplace_back(stress::to_json(*r.violation));
  o["violations"] = std::move(vs);
  o["violation_count"] = rep.first_failure ? 1 : 0;
  o["interrupted"] = rep.interrupted;
  json::object verdicts;
  for (int v = 0; v < sched::kNumVerdicts; ++v)
    verdicts[sched::to_string(static_cast<sched::Verdict>(v))] = rep.verdicts[v];
  json::object stats;
  stats["executions"] = rep.executions;
  stats["executions_per_s"] = rep.executions_per_second;
  stats["elapsed_s"] = rep.seconds;
  stats["schedule_points"] = rep.schedule_points;
  stats["schedule_points_per_s"] = rep.seconds > 0 ? static_cast<double>(rep.schedule_points) / rep.seconds : 0.0;
  stats["operations"] = rep.executions * c.threads * *c.iterations;
  stats["verdicts"] = std::move(verdicts);
  stats["exhausted"] = rep.exhausted;
  // The threads the search ran on (bounded: always 1): how fast, not what.
  stats["jobs"] = effective_jobs(c);
  o["stats"] = std::move(stats);
  o["jobs"] = effective_jobs(c);
  o["executions"] = rep.executions;
  o["executions_per_s"] = rep.executions_per_second;
  o["schedule_points"] = rep.schedule_points;
  json::object failing;
  if (rep.first_failure) {
    failing["seed"] = *r.failing_seed;
    failing["index"] = x.index;
    failing["verdict"] = std::string(sched::to_string(x.verdict));
    failing["steps"] = x.steps;
    failing["failure_step"] = x.failure_step;
    failing["failure_cpu"] = x.failure_cpu;
    failing["decisions"] = x.decisions.size();
    failing["message"] = x.message;
    o["failing_execution"] = std::move(failing);
  } else {
    o["failing_execution"] = nullptr;
  }
  o["trace_hash"] = stress::hex64(x.trace_hash);
  json::array files;
  if (!file.empty()) files.emplace_back(file);
  o["replay_files"] = std::move(files);
  // Only with --fail-allocs: summaries without it stay as they were.
  if (c.fail_allocs != 0) {
    json::object fi;
    fi["alloc_decision_points"] = r.faults.alloc_points;
    fi["allocations_failed"] = r.faults.allocs_failed;
    fi["executions_with_a_failure"] = r.faults.executions_with_failure;
    json::object paths;
    paths["vmemmap_restore_failed"] = r.faults.restore_failures;
    fi["error_paths"] = std::move(paths);
    if (rep.first_failure) {
      json::array af;
      for (uint64_t i : r.alloc_failures) af.emplace_back(i);
      fi["failing_execution_alloc_failures"] = std::move(af);
    }
    o["fault_injection"] = std::move(fi);
  }
  o["coverage"] = stress::to_json(r.coverage, stress::coverage_warnings(c.model, r.coverage, true));
  o["command"] = c.command_line();
  return o;
}

void print_text(std::ostream& out, const CampaignConfig& c, const ControlledResult& r) {
  const sched::Report& rep = r.report;
  const sched::ExecutionResult& x = shown_execution(r);
  std::string reverts;
  for (const std::string& s : c.reverts) reverts += (reverts.empty() ? "" : ",") + s;
  const bool bounded = c.strategy == sched::StrategyKind::kBounded;
  // The bounded search is not seeded: one scenario (from --seed), all its
  // schedules with at most P preemptions, up to --seeds of them.
  const std::string what = bounded ? fmt::format("seed {}, <= {} preemptions, at most {} schedules", c.seed,
                                                 c.preemptions, c.seeds)
                                   : fmt::format("seeds {}..{}", c.seed, c.seed + c.seeds - 1);
  out << fmt::format(
      "model {} (reverts: {}), controlled mode, strategy {}, {} CPUs x {} operations, {}, workload {}, "
      "{} pages, pte {}\n",
      c.model, reverts.empty() ? "none" : reverts, sched::to_string(c.strategy), c.threads, *c.iterations, what,
      c.workload, c.hstate.size_name, to_string(c.pte_access));
  out << fmt::format("executions      {} in {:.2f} s ({:.0f}/s{}){}\n", rep.executions, rep.seconds,
                     rep.executions_per_second,
                     effective_jobs(c) > 1 ? fmt::format(" on {} jobs", effective_jobs(c)) : std::string(),
                     rep.exhausted ? ", search exhausted: every schedule within the bound was run" : "");
  out << fmt::format("schedule points {} ({:.0f}/s)\n", rep.schedule_points,
                     rep.seconds > 0 ? static_cast<double>(rep.schedule_points) / rep.seconds : 0.0);
  out << fmt::format("verdicts        pass {}, violation {}, deadlock {}, step-bound {}\n",
                     rep.count(sched::Verdict::kPass), rep.count(sched::Verdict::kViolation),
                     rep.count(sched::Verdict::kDeadlock), rep.count(sched::Verdict::kStepBound));
  if (const uint64_t cut = rep.count(sched::Verdict::kStepBound); cut > 0)
    out << fmt::format("note            {} executions reached --max-steps {} and were cut (not findings)\n", cut,
                       c.max_steps);
  if (c.fail_allocs != 0)
    out << fmt::format(
        "alloc failures  {} injected at {} decision points ({} executions with one, at most {} each); "
        "error paths: {} vmemmap restores failed\n",
        r.faults.allocs_failed, r.faults.alloc_points, r.faults.executions_with_failure, c.fail_allocs,
        r.faults.restore_failures);
  stress::print_coverage(out, r.coverage, stress::coverage_warnings(c.model, r.coverage, true));
  out << fmt::format("trace hash      {} ({} execution)\n", stress::hex64(x.trace_hash),
                     rep.first_failure ? "the failing" : "the last");
  if (rep.interrupted)
    out << fmt::format("interrupted     by a signal after {} executions: the figures above are of the part that ran\n",
                       rep.executions);
  if (!rep.first_failure) {
    out << "violations      0\n";
    return;
  }
  out << fmt::format("FAILED          execution {} (seed {}): {} at step {} on cpu {} after {} switches\n", x.index,
                     *r.failing_seed, sched::to_string(x.verdict), x.failure_step, x.failure_cpu,
                     x.decisions.size());
  out << "  " << (r.violation ? r.violation->to_string() : x.message) << "\n";
}

}  // namespace

void print_controlled_result(std::ostream& out, const CampaignConfig& c, const ControlledResult& r,
                             const std::string& file, bool json_out) {
  if (json_out)
    print_json(out, summary(c, r, file));
  else
    print_text(out, c, r);
}

ExitCode run_controlled_campaign(const CampaignConfig& c, bool json_out, std::ostream& out,
                                 const OutputOptions& outputs) {
  if (std::string err = stress::prepare_directory(c.out_dir); !err.empty()) throw UsageError("--out", err);
  const ControlledResult r = stress::run_controlled(c);
  std::string file;
  if (r.report.first_failure) file = save_controlled_failure(c, r);
  if (!file.empty() && outputs.report) write_report_beside(file, std::cerr);
  (void)write_junit_file(outputs, {stress::junit_controlled_run(c, r, file)}, std::cerr);
  print_controlled_result(out, c, r, file, json_out);
  if (r.report.first_failure) return ExitCode::kViolation;
  return r.report.interrupted ? interrupted_exit_code() : ExitCode::kOk;
}

}  // namespace hvo::cli
