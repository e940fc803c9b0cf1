#include "stress/junit_results.h"

#include <algorithm>

#include <fmt/format.h>

#include "stress/report.h"

namespace hvo::stress {

namespace {

using Outcome = JunitCase::Outcome;

std::vector<std::pair<std::string, std::string>> properties(const CampaignConfig& c) {
  std::string reverts;
  for (const std::string& r : c.reverts) reverts += (reverts.empty() ? "" : ",") + r;
  std::vector<std::pair<std::string, std::string>> p = {
      {"model", c.model},
      {"reverts", reverts},
      {"mode", std::string(to_string(c.mode))},
      {"threads", std::to_string(c.threads)},
      {"seed", std::to_string(c.seed)},
      {"workload", c.workload},
      {"hugepage_size", std::string(c.hstate.size_name)},
      {"pte_access", std::string(to_string(c.pte_access))},
      {"command", c.command_line()},
  };
  if (c.mode == CampaignMode::kControlled) {
    p.emplace_back("strategy", std::string(sched::to_string(c.strategy)));
    p.emplace_back("seeds", std::to_string(c.seeds));
    p.emplace_back("memory_model", std::string(sched::to_string(c.memory_model)));
  }
  return p;
}

std::string classname(const CampaignConfig& c) {
  return fmt::format("hvo-stress.{}.{}", to_string(c.mode), c.model);
}

std::string replay_lines(const std::vector<std::string>& files, const CampaignConfig& c) {
  std::string s;
  for (const std::string& f : files) s += "replay: hvo-stress replay " + shell_quote(f) + "\n";
  if (c.mode == CampaignMode::kControlled)
    for (const std::string& f : files) s += "minimize: hvo-stress minimize " + shell_quote(f) + "\n";
  return s + "re-run: " + c.command_line() + "\n";
}

}  // namespace

JunitSuite junit_free_run(const CampaignConfig& c, const CampaignResult& r, const std::vector<std::string>& files) {
  JunitSuite s;
  s.name = "hvo-stress run " + c.model;
  s.seconds = r.stats.elapsed_s;
  s.properties = properties(c);
  JunitCase k;
  k.name = fmt::format("free campaign, {} threads, seed {}, {} operations", c.threads, c.seed, r.stats.operations);
  k.classname = classname(c);
  k.seconds = r.stats.elapsed_s;
  if (r.violation_count != 0) {
    k.outcome = Outcome::kFailure;
    k.message = r.violations.empty() ? fmt::format("{} violations", r.violation_count) : r.violations.front().to_string();
    k.type = r.violations.empty() ? "violation" : std::string(to_string(r.violations.front().kind));
    k.body = fmt::format("{} violation(s):\n", r.violation_count);
    for (const Violation& v : r.violations) k.body += "  " + v.to_string() + "\n";
    k.body += replay_lines(files, c);
  }
  s.cases.push_back(std::move(k));
  return s;
}

JunitSuite junit_controlled_run(const CampaignConfig& c, const ControlledResult& r, const std::string& file) {
  JunitSuite s;
  s.name = "hvo-stress run " + c.model;
  s.seconds = r.report.seconds;
  s.properties = properties(c);
  const bool bounded = c.strategy == sched::StrategyKind::kBounded;
  const uint64_t ran = r.report.executions;
  const uint64_t planned = std::max(c.seeds, ran);
  const bool failed = r.report.first_failure.has_value();
  const uint64_t failing = failed ? r.report.first_failure->index : 0;
  const uint64_t batch = std::max(kJunitBatch, (planned + kJunitMaxBatches - 1) / kJunitMaxBatches);
  for (uint64_t first = 0; first < planned; first += batch) {
    const uint64_t last = std::min(planned, first + batch) - 1;  // inclusive
    JunitCase k;
    k.name = bounded ? fmt::format("schedules {}-{} (seed {})", first, last, c.seed)
                     : fmt::format("executions {}-{} (seeds {}-{})", first, last, c.seed + first, c.seed + last);
    k.classname = classname(c);
    if (first >= ran) {
      k.outcome = Outcome::kSkipped;
      k.message = failed ? "not run: the campaign stops at its first failure" : "not run: the search was exhausted";
    } else {
      const uint64_t in_batch = std::min(last + 1, ran) - first;
      k.seconds = ran > 0 ? r.report.seconds * static_cast<double>(in_batch) / static_cast<double>(ran) : 0;
      if (failed && failing >= first && failing <= last) {
        const sched::ExecutionResult& x = *r.report.first_failure;
        k.outcome = Outcome::kFailure;
        k.message = r.violation ? r.violation->to_string() : x.message;
        k.type = r.violation ? std::string(to_string(r.violation->kind)) : std::string(sched::to_string(x.verdict));
        k.body = fmt::format("execution {} (seed {}): {} at step {} on cpu {}\n{}\n", x.index,
                             r.failing_seed.value_or(0), sched::to_string(x.verdict), x.failure_step, x.failure_cpu,
                             k.message);
        k.body += replay_lines(file.empty() ? std::vector<std::string>{} : std::vector<std::string>{file}, c);
      }
    }
    s.cases.push_back(std::move(k));
  }
  return s;
}

JunitSuite junit_replay(const CampaignConfig& c, const ReplayOutcome& o) {
  JunitSuite s;
  s.name = "hvo-stress replay";
  s.seconds = o.seconds;
  s.properties = properties(c);
  s.properties.emplace_back("file", o.file);
  JunitCase k;
  k.name = "replay " + o.file;
  k.classname = classname(c);
  k.seconds = o.seconds;
  std::string commands = "replay: hvo-stress replay " + shell_quote(o.file) + "\n";
  if (c.mode == CampaignMode::kControlled) commands += "minimize: hvo-stress minimize " + shell_quote(o.file) + "\n";
  commands += "report: hvo-stress report " + shell_quote(o.file) + "\n";
  std::string diverged;
  if (o.exact && !o.differences.empty()) {
    diverged = "DIVERGED: not the recorded execution:\n";
    for (const std::string& d : o.differences) diverged += "  " + d + "\n";
  }
  if (!o.violations.empty()) {
    k.outcome = Outcome::kFailure;
    k.message = o.violations.front();
    k.type = o.kind;
    for (const std::string& v : o.violations) k.body += v + "\n";
    k.body += diverged + (o.exact ? "" : "(free mode: a re-run of the campaign, not an exact replay)\n") + commands;
  } else if (!diverged.empty()) {
    k.outcome = Outcome::kError;
    k.message = "the replay diverged and found no violation";
    k.type = "diverged";
    k.body = diverged + commands;
  }
  s.cases.push_back(std::move(k));
  return s;
}

JunitSuite junit_time_to_bug(const std::vector<TimeToBug>& results, double seconds) {
  JunitSuite s;
  s.name = "hvo-stress time-to-bug";
  s.seconds = seconds;
  for (const TimeToBug& t : results) {
    JunitCase k;
    k.name = std::string(t.entry->id);
    k.classname = "hvo-stress.time-to-bug." + std::string(t.entry->model);
    std::string missed, odd;
    for (const TrialSummary& st : t.strategies) {
      double secs = 0;
      bool expected = false;
      std::string kinds;
      for (const TrialResult& tr : st.trials) {
        secs += tr.seconds;
        expected = expected || (tr.found && tr.expected_kind);
        if (tr.found && !tr.expected_kind && kinds.find(tr.kind) == std::string::npos)
          kinds += (kinds.empty() ? "" : ",") + tr.kind;
      }
      k.seconds += secs;
      k.out += fmt::format("{}: found in {}/{} trials of {} executions; median {}, worst {} executions\n",
                           sched::to_string(st.strategy), st.found, st.trials.size(), st.budget,
                           st.median_executions ? std::to_string(*st.median_executions) : "not found",
                           st.worst_executions ? std::to_string(*st.worst_executions) : "not found");
      if (st.found == 0)
        missed += fmt::format("{}: not found in {} trials of {} executions\n", sched::to_string(st.strategy),
                              st.trials.size(), st.budget);
      else if (!expected)
        odd += fmt::format("{}: found only {} (expected {})\n", sched::to_string(st.strategy), kinds, t.entry->expected);
    }
    if (t.free_run) {
      k.seconds += t.free_run->seconds;
      k.out += t.free_run->found ? fmt::format("free ({} threads): found {} after {:.2f} s\n", t.free_run->threads,
                                               t.free_run->kind, t.free_run->seconds)
                                 : fmt::format("free ({} threads): not found in {:.0f} s\n", t.free_run->threads,
                                               t.free_run->seconds);
    }
    if (!missed.empty() || !odd.empty()) {
      k.outcome = Outcome::kFailure;
      k.message = fmt::format("{}: {}", t.entry->id, !missed.empty() ? "the expected bug was not found" : "found only other kinds");
      k.type = std::string(t.entry->expected);
      k.body = missed + odd + fmt::format("run it: hvo-stress run --race {} (hvo-stress list races)\n", t.entry->id);
    }
    s.cases.push_back(std::move(k));
  }
  return s;
}

}  // namespace hvo::stress
