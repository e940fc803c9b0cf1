#include "stress/time_to_bug.h"

#include "stress/tbb_executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>

#include "stress/campaign.h"
#include "stress/controlled_campaign.h"

namespace hvo::stress {

namespace {

bool is_expected(const RaceEntry& e, const std::string& kind) {
  const std::vector<std::string> kinds = expected_kinds(e);
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

}  // namespace

uint64_t default_trial_budget(const RaceEntry& e) { return std::max<uint64_t>(e.seeds, 1000); }

void summarize(TrialSummary& s) {
  s.found = 0;
  std::vector<const TrialResult*> order;
  for (const TrialResult& t : s.trials) {
    s.found += t.found ? 1 : 0;
    order.push_back(&t);
  }
  s.median_executions.reset();
  s.worst_executions.reset();
  s.median_seconds.reset();
  s.worst_seconds.reset();
  if (order.empty()) return;
  // Not found sorts last: it is "more than the budget".
  const auto pick = [&](auto key, size_t rank) -> std::optional<decltype(key(*order[0]))> {
    std::vector<const TrialResult*> sorted = order;
    std::sort(sorted.begin(), sorted.end(), [&](const TrialResult* a, const TrialResult* b) {
      if (a->found != b->found) return a->found;
      return key(*a) < key(*b);
    });
    if (!sorted[rank]->found) return std::nullopt;
    return key(*sorted[rank]);
  };
  const size_t median_rank = (order.size() - 1) / 2;
  const size_t worst_rank = order.size() - 1;
  const auto executions = [](const TrialResult& t) { return t.executions; };
  const auto seconds = [](const TrialResult& t) { return t.seconds; };
  s.median_executions = pick(executions, median_rank);
  s.worst_executions = pick(executions, worst_rank);
  s.median_seconds = pick(seconds, median_rank);
  s.worst_seconds = pick(seconds, worst_rank);
}

TrialSummary measure_trials(const RaceEntry& e, sched::StrategyKind strategy, unsigned trials, uint64_t budget,
                            unsigned jobs) {
  TrialSummary s;
  s.strategy = strategy;
  s.budget = budget;
  s.trials.resize(trials);
  // Trial t writes only its own slot; run_batch() returning orders every
  // slot's writes before summarize() reads them.
  auto trial = [&](uint64_t t) {
    CampaignConfig c = race_config(e, /*fixed=*/false);
    c.mode = CampaignMode::kControlled;
    c.strategy = strategy;
    c.seed = 1 + t * budget;
    c.seeds = budget;
    TrialResult r;
    r.first_seed = c.seed;
    const auto start = std::chrono::steady_clock::now();
    const ControlledResult cr = run_controlled(c);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.executions = cr.report.executions;
    r.found = cr.failing_seed.has_value();
    if (r.found) {
      r.kind = cr.violation ? std::string(to_string(cr.violation->kind)) : cr.report.first_failure->message;
      r.expected_kind = cr.violation && is_expected(e, r.kind);
    }
    s.trials[t] = std::move(r);
  };
  if (jobs <= 1) {
    for (unsigned t = 0; t < trials; ++t) trial(t);
  } else {
    TaskExecutor pool(jobs);
    pool.run_batch(0, trials, trial);
  }
  summarize(s);
  return s;
}

FreeRunResult measure_free_run(const RaceEntry& e, unsigned threads, uint64_t duration_ms) {
  CampaignConfig c = race_config(e, /*fixed=*/false);
  c.mode = CampaignMode::kFree;
  c.threads = threads;
  c.iterations.reset();
  c.duration_ms = duration_ms;
  FreeRunResult r;
  r.threads = threads;
  r.duration_ms = duration_ms;
  // The sink runs under the violation log's lock on the recording thread:
  // it only notes the first finding's time and kind.
  std::mutex mu;
  std::optional<double> first_at;
  std::string first_kind;
  const auto start = std::chrono::steady_clock::now();
  const CampaignResult cr = run_free_campaign(c, [&](const Violation& v) {
    const std::lock_guard<std::mutex> lock(mu);
    if (first_at) return;
    first_at = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    first_kind = std::string(to_string(v.kind));
  });
  r.operations = cr.stats.operations;
  r.found = cr.violation_count != 0;
  r.seconds = first_at.value_or(cr.stats.elapsed_s);
  if (r.found) {
    r.kind = first_kind.empty() ? std::string(to_string(cr.violations.front().kind)) : first_kind;
    r.expected_kind = is_expected(e, r.kind);
  }
  return r;
}

}  // namespace hvo::stress
