#include "engine/sched/scenario.h"

#include <chrono>
#include <memory>

#include "engine/check.h"
#include "engine/sched/bounded_strategy.h"
#include "engine/sched/pct_strategy.h"
#include "engine/sched/random_strategy.h"
#include "engine/sched/replay_strategy.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/shared.h"
#include "engine/violation.h"

namespace hvo::sched {

namespace {

constexpr std::pair<StrategyKind, std::string_view> kStrategyNames[] = {
    {StrategyKind::kRandom, "random"},
    {StrategyKind::kPct, "pct"},
    {StrategyKind::kBounded, "bounded"},
    {StrategyKind::kReplay, "replay"},
};

std::unique_ptr<Strategy> make_strategy(const Options& o) {
  switch (o.strategy) {
    case StrategyKind::kRandom: return std::make_unique<RandomStrategy>();
    case StrategyKind::kPct: return std::make_unique<PctStrategy>(o.depth, o.pct_steps);
    case StrategyKind::kBounded: return std::make_unique<BoundedStrategy>(o.preemptions);
    case StrategyKind::kReplay: return std::make_unique<ReplayStrategy>(o.replay);
  }
  HVO_CHECK(false, "unknown strategy");
  return nullptr;
}

// The verdict of an execution the scheduler ran to its end (or stopped).
void judge(const Outcome& out, const Execution& e, uint64_t violations_before, ExecutionResult& r) {
  r.verdict = out.verdict;
  r.steps = out.steps;
  r.trace_hash = out.trace_hash;
  r.failure_step = out.failure_step;
  r.failure_cpu = out.failure_cpu;
  r.message = out.message;
  if (r.verdict != Verdict::kPass) return;
  // Every CPU finished: the end check, then anything recorded on the way
  // (with stop_on_violation off, or in the check itself).
  if (e.run_check() != Verdict::kPass) {
    r.verdict = Verdict::kViolation;
    if (r.failure_step == 0) r.failure_step = out.steps;
    r.message = "the scenario's end check failed";
  }
  ViolationLog* log = e.log();
  if (log != nullptr && log->count() > violations_before) {
    r.verdict = Verdict::kViolation;
    if (r.failure_step == 0) r.failure_step = out.steps;
    const auto kept = log->snapshot();
    if (!kept.empty()) r.message = kept.front().to_string();
  }
}

}  // namespace

std::string_view to_string(StrategyKind k) {
  for (const auto& [kind, name] : kStrategyNames)
    if (kind == k) return name;
  return "?";
}

std::optional<StrategyKind> strategy_from_string(std::string_view s) {
  for (const auto& [kind, name] : kStrategyNames)
    if (name == s) return kind;
  return std::nullopt;
}

bool Report::as_expected() const {
  if (expected == Verdict::kPass)
    return count(Verdict::kViolation) == 0 && count(Verdict::kDeadlock) == 0 && count(Verdict::kDiverged) == 0;
  return count(expected) > 0;
}

struct Explorer::Storage {
  Scheduler scheduler;
  Execution execution;
};

Explorer::Explorer() : storage_(std::make_unique<Storage>()) {}
Explorer::~Explorer() = default;

Report explore(const Scenario& scenario, const Options& o) { return Explorer().explore(scenario, o); }

Report Explorer::explore(const Scenario& scenario, const Options& o) {
  HVO_CHECK(scenario.setup != nullptr, "a scenario needs a setup");
  HVO_CHECK(o.strategy == StrategyKind::kBounded || o.executions > 0, "explore() needs executions > 0");
  Report report;
  report.scenario = scenario.name;
  report.strategy = o.strategy;
  report.expected = scenario.expected;
  const std::unique_ptr<Strategy> strategy = make_strategy(o);
  const Limits limits{o.max_steps, o.stop_on_violation, o.detect_races, o.memory_model};
  const uint64_t cap = o.strategy == StrategyKind::kReplay ? 1 : o.executions;
  Scheduler& scheduler = storage_->scheduler;
  Execution& e = storage_->execution;
  const auto t0 = std::chrono::steady_clock::now();

  bool more = true;
  for (uint64_t i = 0; more && (cap == 0 || i < cap); ++i) {
    if (o.stop_requested && o.stop_requested()) {
      report.interrupted = true;
      break;
    }
    const uint64_t seed = o.seed + i;
    detail::reset_shared_addresses();
    scenario.setup(e);
    HVO_CHECK(!e.cpus().empty(), "the scenario's setup added no CPU");
    const uint64_t violations_before = e.log() != nullptr ? e.log()->count() : 0;
    // Under tso/weak the store-buffer drains are schedule ids too (memory_model.h).
    strategy->begin_execution(seed, static_cast<unsigned>(e.cpus().size()) * ids_per_cpu(o.memory_model));
    const Outcome out = scheduler.run(e.cpus(), *strategy, e.log(), limits);
    ExecutionResult& r = report.last;
    r.index = i;
    r.seed = seed;
    judge(out, e, violations_before, r);
    e.reset();
    more = strategy->end_execution(out.steps);

    ++report.executions;
    ++report.verdicts[static_cast<int>(r.verdict)];
    report.schedule_points += out.steps;
    if (is_failure(r.verdict) && !report.first_failure) {
      r.decisions = scheduler.decisions();
      report.first_failure = r;
      if (o.stop_at_first_failure) break;
    }
  }
  report.exhausted = o.strategy == StrategyKind::kBounded && !more;
  if (o.strategy == StrategyKind::kPct) report.pct_steps = static_cast<const PctStrategy&>(*strategy).steps_estimate();
  report.last.decisions = scheduler.decisions();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.executions_per_second = report.seconds > 0 ? static_cast<double>(report.executions) / report.seconds : 0;
  return report;
}

ExecutionResult replay(const Scenario& scenario, std::span<const Decision> decisions, uint64_t max_steps,
                       bool stop_on_violation, MemoryModel memory_model) {
  Options o;
  o.strategy = StrategyKind::kReplay;
  o.executions = 1;
  o.max_steps = max_steps;
  o.stop_on_violation = stop_on_violation;
  o.memory_model = memory_model;
  o.replay.assign(decisions.begin(), decisions.end());
  return explore(scenario, o).last;
}

}  // namespace hvo::sched
