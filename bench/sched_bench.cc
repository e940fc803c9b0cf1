// The controlled scheduler's costs (engine/sched/), in one binary so that
// the ratios are meaningful:
//   - schedule points per second under the scheduler;
//   - a fiber switch against an OS-thread hand-off (a baton of two real
//     threads and binary semaphores, as folly's DeterministicSchedule parks
//     its threads): the reason the scheduler runs CPUs as fibers;
//   - executions per second of the peer scenarios mp2 and cas4 with
//     `random` (Relacy, built here with g++ -O2: ~4.5 M mp2 and ~0.42 M
//     cas4 executions/s, docs/build-notes.md).
#include <benchmark/benchmark.h>

#include <atomic>
#include <semaphore>
#include <thread>

#include "engine/sched/fiber.h"
#include "engine/sched/peer_scenarios.h"
#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"

namespace hvo::sched {
namespace {

// `cpus` CPUs each making `points` schedule points (atomic increments).
Scenario points_scenario(int cpus, int points) {
  return Scenario{"points", [=](Execution& e) {
                    auto& x = e.make<Shared<uint64_t>>(0);
                    for (int c = 0; c < cpus; ++c)
                      e.cpu([&x, points] {
                        for (int i = 0; i < points; ++i) x.fetch_add(1, std::memory_order_relaxed);
                      });
                  }};
}

void BM_SchedulePoints(benchmark::State& state) {
  const int cpus = static_cast<int>(state.range(0));
  const Scenario s = points_scenario(cpus, 100'000);
  uint64_t points = 0;
  for (auto _ : state) {
    const Report r = explore(s, Options{.strategy = StrategyKind::kRandom, .executions = 1});
    points += r.schedule_points;
  }
  state.counters["points/s"] = benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
}
// 1 CPU: the hook alone (no choice, no switch); 2 and 4: a random choice at
// every point and a switch at half (2) or three quarters (4) of them.
BENCHMARK(BM_SchedulePoints)->Arg(1)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond);

// One switch per iteration: two fibers resuming each other, with the same
// pooled stacks the scheduler uses.
void BM_FiberSwitch(benchmark::State& state) {
  bool stop = false;
  Fiber other{std::allocator_arg, PooledStack(), [&stop](Fiber&& back) {
                while (!stop) back = std::move(back).resume();
                return std::move(back);
              }};
  for (auto _ : state) other = std::move(other).resume();  // there and back: two switches
  stop = true;
  other = std::move(other).resume();
  state.SetItemsProcessed(2 * state.iterations());
  state.counters["ns/switch"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberSwitch);

// One hand-off per half iteration: a baton passed between two OS threads,
// each parked on its binary semaphore while the other runs.
void BM_ThreadBatonHandoff(benchmark::State& state) {
  std::binary_semaphore to_peer{0}, to_main{0};
  std::atomic<bool> stop{false};
  std::thread peer([&] {
    for (;;) {
      to_peer.acquire();
      // relaxed: the semaphore's acquire already orders the flag's store.
      if (stop.load(std::memory_order_relaxed)) return;
      to_main.release();
    }
  });
  for (auto _ : state) {
    to_peer.release();
    to_main.acquire();
  }
  stop.store(true, std::memory_order_relaxed);  // published by the release below
  to_peer.release();
  peer.join();
  state.SetItemsProcessed(2 * state.iterations());
  state.counters["ns/switch"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThreadBatonHandoff)->UseRealTime();

// Arg 1: with the happens-before race detector (the default, as Relacy
// always runs its own); arg 0: the bare scheduler.
void run_executions(benchmark::State& state, const Scenario& s, uint64_t per_iteration) {
  uint64_t executions = 0;
  uint64_t seed = 1;
  const bool detect_races = state.range(0) != 0;
  state.SetLabel(detect_races ? "race detector on" : "race detector off");
  for (auto _ : state) {
    const Report r = explore(s, Options{.strategy = StrategyKind::kRandom,
                                        .seed = seed,
                                        .executions = per_iteration,
                                        .detect_races = detect_races});
    if (!r.as_expected()) state.SkipWithError("the scenario failed");
    executions += r.executions;
    seed += per_iteration;
  }
  state.counters["executions/s"] = benchmark::Counter(static_cast<double>(executions), benchmark::Counter::kIsRate);
}

void BM_Mp2Random(benchmark::State& state) { run_executions(state, mp2_scenario(), 100'000); }
BENCHMARK(BM_Mp2Random)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_Cas4Random(benchmark::State& state) { run_executions(state, cas4_scenario(), 20'000); }
BENCHMARK(BM_Cas4Random)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hvo::sched
