// The public scenario API: write a concurrent scenario as a setup that
// builds fresh state and CPU bodies for each execution, an end check and
// an expected verdict; explore() runs it under a strategy and reports.
//
//   sched::Scenario mp2{"mp2", [](sched::Execution& e) {
//     struct State { sched::Shared<int> data, flag; bool stale = false; };
//     auto& s = e.make<State>();
//     e.cpu([&s] { s.data.store(42, std::memory_order_relaxed);
//                  s.flag.store(1, std::memory_order_release); });
//     e.cpu([&s] { if (s.flag.load(std::memory_order_acquire) == 1 &&
//                      s.data.load(std::memory_order_relaxed) != 42) s.stale = true; });
//     e.check([&s] { return s.stale ? sched::Verdict::kViolation : sched::Verdict::kPass; });
//   }};
//   sched::Report r = sched::explore(mp2, {.strategy = sched::StrategyKind::kPct, .executions = 1000});
//   // r.as_expected(), r.count(Verdict::kViolation), r.first_failure->decisions ...
//
// CPU bodies may use any engine object (locks, RCU, the machine): their
// schedule points go to the scheduler through hvo::current()'s hook.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/sched/execution.h"
#include "engine/sched/memory_model.h"
#include "engine/sched/trace.h"
#include "engine/sched/verdict.h"

namespace hvo::sched {

struct Scenario {
  std::string name;
  // Builds one execution's state, CPUs, check and watched log into `e`.
  // Called before every execution; must build the same thing every time
  // (the bounded search and replays rely on it).
  std::function<void(Execution& e)> setup;
  // What exploring it must show: kPass = no execution fails; anything else
  // = at least one execution ends with that verdict.
  Verdict expected = Verdict::kPass;
};

enum class StrategyKind : uint8_t { kRandom, kPct, kBounded, kReplay };
std::string_view to_string(StrategyKind k);
std::optional<StrategyKind> strategy_from_string(std::string_view s);

struct Options {
  StrategyKind strategy = StrategyKind::kRandom;
  uint64_t seed = 1;              // execution i uses seed + i (random, pct)
  uint64_t executions = 1000;     // how many; for bounded a cap, 0 = until exhausted
  unsigned depth = 3;             // pct: bug depth d (d - 1 priority change points)
  uint64_t pct_steps = 0;         // pct: k, decisions per execution; 0 = measure on the first
  unsigned preemptions = 2;       // bounded: at most this many preemptions per schedule
  uint64_t max_steps = 1'000'000; // schedule points per execution before kStepBound
  bool stop_on_violation = true;  // end an execution at its first recorded violation
  bool detect_races = true;       // the happens-before data-race detector (Limits::detect_races)
  MemoryModel memory_model = MemoryModel::kSc;  // sc, tso, weak (Limits::memory_model)
  bool stop_at_first_failure = false;  // end the exploration at the first failing execution
  DecisionRecord replay{};        // replay: the decisions to follow (one execution)
  // Asked before each execution; true ends the exploration there (a
  // signal, say), with Report::interrupted set. Never asked mid-execution,
  // so that every execution run is whole and replayable.
  std::function<bool()> stop_requested{};
};

struct ExecutionResult {
  Verdict verdict = Verdict::kPass;
  uint64_t index = 0;         // its place in the exploration, from 0
  uint64_t seed = 0;          // the seed it ran with (random, pct)
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  uint64_t failure_step = 0;  // where the verdict was reached (0 for a pass)
  int failure_cpu = -1;
  std::string message;        // the first violation, "deadlock: ...", "step bound reached", ...
  DecisionRecord decisions;   // replays it: Options{.strategy = kReplay, .replay = decisions}
};

struct Report {
  std::string scenario;
  StrategyKind strategy = StrategyKind::kRandom;
  Verdict expected = Verdict::kPass;
  uint64_t executions = 0;
  std::array<uint64_t, kNumVerdicts> verdicts{};
  std::optional<ExecutionResult> first_failure;  // the first execution with is_failure(verdict)
  ExecutionResult last;                          // the last execution run
  uint64_t schedule_points = 0;                  // over all executions
  bool exhausted = false;  // bounded: every schedule within the bound was run
  bool interrupted = false;  // Options::stop_requested ended it early
  // pct: k, the decisions per execution the strategy estimates after the
  // last execution (what a next one would use as Options::pct_steps): with
  // it, an exploration can be continued, or split, execution by execution.
  uint64_t pct_steps = 0;
  double seconds = 0;      // wall time, reported, never a bound
  double executions_per_second = 0;

  [[nodiscard]] uint64_t count(Verdict v) const { return verdicts[static_cast<int>(v)]; }
  // The scenario showed what it was expected to (Scenario::expected).
  [[nodiscard]] bool as_expected() const;
};

// Runs `options.executions` executions of the scenario (bounded: until the
// space is exhausted or the cap) on the calling thread.
Report explore(const Scenario& scenario, const Options& options);

// What explore() runs in: a scheduler (its CPUs' fibers, the race
// detector's tables grown to the scenario's working set) and the
// execution's arena, kept from one call to the next. Many short
// explorations on one thread (a parallel search runs one execution per
// call) then pay for that storage once, not per call. Use it on one thread
// only, one call at a time.
class Explorer {
 public:
  Explorer();
  ~Explorer();
  Explorer(const Explorer&) = delete;
  Explorer& operator=(const Explorer&) = delete;

  // The same as the free explore().
  Report explore(const Scenario& scenario, const Options& options);

 private:
  struct Storage;
  std::unique_ptr<Storage> storage_;
};

// Re-runs one recorded execution (ExecutionResult::decisions) with the
// given limits; the result's verdict is kDiverged if it is not the same
// execution.
ExecutionResult replay(const Scenario& scenario, std::span<const Decision> decisions,
                       uint64_t max_steps = Options{}.max_steps, bool stop_on_violation = true,
                       MemoryModel memory_model = MemoryModel::kSc);

}  // namespace hvo::sched
