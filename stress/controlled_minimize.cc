#include "stress/controlled_minimize.h"

#include <algorithm>

#include "stress/campaign_json.h"
#include "stress/controlled_campaign.h"

namespace hvo::stress {

namespace {

bool fails(sched::Verdict v) { return v == sched::Verdict::kViolation || v == sched::Verdict::kDeadlock; }

ReplayFile file_of(const CampaignConfig& c, uint64_t seed, uint64_t index, const sched::ExecutionResult& x,
                   const std::optional<Violation>& v, const std::vector<uint64_t>& alloc_failures) {
  ReplayFile f;
  f.config = c;
  f.seed = seed;
  f.execution = index;
  f.decisions = x.decisions;
  f.alloc_failures = alloc_failures;
  f.verdict = std::string(sched::to_string(x.verdict));
  f.steps = x.steps;
  f.failure_step = x.failure_step;
  f.failure_cpu = x.failure_cpu;
  f.message = x.message;
  f.trace_hash = x.trace_hash;
  if (v) f.violation = to_json(*v);
  return f;
}

class Minimizer {
 public:
  Minimizer(const ReplayFile& f, const MinimizeBudget& b) : best_(f), kind_(f.violation_kind()), budget_(b) {}

  MinimizeResult run() {
    shrink_schedule();
    while (fewer_cpus_or_operations()) shrink_schedule();
    return MinimizeResult{best_, candidates_, diverged_, accepted_};
  }

 private:
  [[nodiscard]] bool out_of_budget() const { return candidates_ >= budget_.max_replays; }

  // Takes `f` if it fails the same way and is no longer than the best.
  bool consider(ReplayFile f) {
    if (f.violation_kind() != kind_) return false;
    if (f.decisions.size() > best_.decisions.size() || f.failure_step > best_.failure_step) return false;
    if (f.decisions.size() == best_.decisions.size() && f.failure_step == best_.failure_step &&
        f.config.threads == best_.config.threads && *f.config.iterations == *best_.config.iterations)
      return false;  // no progress
    best_ = std::move(f);
    ++accepted_;
    return true;
  }

  void report_progress() const {
    if (budget_.progress) budget_.progress(MinimizeProgress{candidates_, accepted_, best_.decisions.size()});
  }

  bool try_decisions(const sched::DecisionRecord& candidate) {
    ++candidates_;
    report_progress();
    // The same allocation points fail: a shorter schedule that reaches
    // them all is the same failure with fewer switches.
    const ReplayResult r = replay_execution(best_.config, best_.seed, candidate, nullptr, best_.alloc_failures);
    if (r.result.verdict == sched::Verdict::kDiverged || !r.alloc_failures_reached) {
      ++diverged_;
      return false;
    }
    if (!fails(r.result.verdict)) return false;
    return consider(file_of(best_.config, best_.seed, best_.execution, r.result, r.violation, best_.alloc_failures));
  }

  void drop_decisions() {
    for (size_t chunk = std::max<size_t>(1, best_.decisions.size() / 2); chunk >= 1 && !out_of_budget();
         chunk /= 2) {
      // From the end: later switches matter less often to an earlier failure.
      for (size_t end = best_.decisions.size(); end > 0 && !out_of_budget();) {
        const size_t begin = end >= chunk ? end - chunk : 0;
        sched::DecisionRecord candidate = best_.decisions;
        candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(begin),
                        candidate.begin() + static_cast<std::ptrdiff_t>(end));
        // Taken or not, the next chunk to try is the one before this.
        (void)try_decisions(candidate);
        end = std::min(begin, best_.decisions.size());
      }
      if (chunk == 1) break;
    }
  }

  // Moves a switch earlier, by 1, 2, 4, ... steps (never past the one
  // before it): taken only when the failure then comes sooner.
  bool move_decisions() {
    bool moved = false;
    for (size_t i = best_.decisions.size(); i-- > 0 && !out_of_budget();) {
      if (i >= best_.decisions.size()) continue;
      const uint64_t floor = i == 0 ? 0 : best_.decisions[i - 1].step;
      for (uint64_t by = 1; !out_of_budget(); by *= 2) {
        const uint64_t step = best_.decisions[i].step;
        if (step <= floor + by) break;
        sched::DecisionRecord candidate = best_.decisions;
        candidate[i].step = step - by;
        if (try_decisions(candidate)) {
          moved = true;
          break;
        }
      }
    }
    return moved;
  }

  void shrink_schedule() {
    drop_decisions();
    while (!out_of_budget() && move_decisions()) drop_decisions();
  }

  // A new search with `c` from the failing seed; true if it found a
  // failure that was taken.
  bool search(CampaignConfig c) {
    c.seed = best_.seed;
    for (uint64_t tried = 0; tried < budget_.search_seeds && !out_of_budget();) {
      // Never more executions than the budget has left: --max-replays is a
      // promise, not a hint.
      c.seeds = std::min(budget_.search_seeds - tried, budget_.max_replays - candidates_);
      const ControlledResult r = run_controlled(c);
      candidates_ += r.report.executions;
      tried += r.report.executions;
      report_progress();
      if (!r.report.first_failure) return false;
      const sched::ExecutionResult& x = *r.report.first_failure;
      if (fails(x.verdict) && consider(file_of(c, *r.failing_seed, x.index, x, r.violation, r.alloc_failures)))
        return true;
      c.seed += x.index + 1;  // go on after it
    }
    return false;
  }

  bool fewer_cpus_or_operations() {
    for (unsigned t = 1; t < best_.config.threads && !out_of_budget(); ++t) {
      CampaignConfig c = best_.config;
      c.threads = t;
      if (search(c)) return true;
    }
    for (uint64_t ops = 1; ops < *best_.config.iterations && !out_of_budget(); ++ops) {
      CampaignConfig c = best_.config;
      c.iterations = ops;
      if (search(c)) return true;
    }
    return false;
  }

  ReplayFile best_;
  const std::string kind_;
  const MinimizeBudget budget_;
  uint64_t candidates_ = 0;
  uint64_t diverged_ = 0;
  uint64_t accepted_ = 0;
};

}  // namespace

FailureSize size_of(const ReplayFile& f) {
  return FailureSize{f.decisions.size(), f.config.threads, f.config.iterations.value_or(0), f.failure_step};
}

MinimizeResult minimize_failure(const ReplayFile& f, const MinimizeBudget& budget) {
  return Minimizer(f, budget).run();
}

}  // namespace hvo::stress
