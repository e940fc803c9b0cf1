// Under the weak memory model a CPU's buffered stores to different
// locations may reach memory in any order unless a barrier forbids it
// (store_buffer.h, StoreBuffer::overtaking): not only the oldest or the
// youngest, any store that no release, smp_wmb() or older store to the same
// location holds back. The litmus test: CPU 0 stores a, b, c; CPU 1 sees b
// while a and c are still unseen. That needs b to drain first with both its
// neighbours still buffered, the middle of three entries.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"

namespace hvo::sched {
namespace {

// CPU 0: a = 1; [smp_wmb]; b = 1; [smp_wmb]; c = 1 (relaxed stores).
// CPU 1: rb = b; ra = a; rc = c, acquire loads, so that the reader's loads
// stay in order and only the writer's stores can reorder. "Fails" on
// rb == 1 && ra == 0 && rc == 0.
Scenario middle_store_first(bool barriers) {
  return Scenario{"middle-store-first", [barriers](Execution& e) {
                    struct State {
                      Shared<int> a{0}, b{0}, c{0};
                      int ra = -1, rb = -1, rc = -1;
                    };
                    auto& s = e.make<State>();
                    e.cpu([&s, barriers] {
                      s.a.store(1, std::memory_order_relaxed);
                      if (barriers) smp_wmb();
                      s.b.store(1, std::memory_order_relaxed);
                      if (barriers) smp_wmb();
                      s.c.store(1, std::memory_order_relaxed);
                    });
                    e.cpu([&s] {
                      s.rb = s.b.load(std::memory_order_acquire);
                      s.ra = s.a.load(std::memory_order_acquire);
                      s.rc = s.c.load(std::memory_order_acquire);
                    });
                    e.check([&s] {
                      return s.rb == 1 && s.ra == 0 && s.rc == 0 ? Verdict::kViolation : Verdict::kPass;
                    });
                  }};
}

Report run(const Scenario& s, StrategyKind k, MemoryModel m) {
  Options o{.strategy = k, .executions = k == StrategyKind::kBounded ? 0u : 2000u, .memory_model = m};
  const Report r = explore(s, o);
  EXPECT_EQ(r.count(Verdict::kDiverged) + r.count(Verdict::kDeadlock) + r.count(Verdict::kStepBound), 0u)
      << to_string(k);
  return r;
}

TEST(WeakDrainTest, AMiddleStoreCanReachMemoryBeforeItsNeighbours) {
  EXPECT_GT(run(middle_store_first(false), StrategyKind::kRandom, MemoryModel::kWeak).count(Verdict::kViolation), 0u);
  const Report bounded = run(middle_store_first(false), StrategyKind::kBounded, MemoryModel::kWeak);
  EXPECT_TRUE(bounded.exhausted);
  EXPECT_GT(bounded.count(Verdict::kViolation), 0u);
}

TEST(WeakDrainTest, NeverWithSmpWmbNorUnderScOrTso) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct, StrategyKind::kBounded}) {
    EXPECT_EQ(run(middle_store_first(true), k, MemoryModel::kWeak).count(Verdict::kViolation), 0u) << to_string(k);
    EXPECT_EQ(run(middle_store_first(false), k, MemoryModel::kTso).count(Verdict::kViolation), 0u) << to_string(k);
    EXPECT_EQ(run(middle_store_first(false), k, MemoryModel::kSc).count(Verdict::kViolation), 0u) << to_string(k);
  }
}

// The entry drained is a recorded choice: the failure replays exactly.
TEST(WeakDrainTest, TheReorderingReplaysExactly) {
  const Report r = explore(middle_store_first(false),
                           Options{.strategy = StrategyKind::kRandom, .executions = 2000,
                                   .memory_model = MemoryModel::kWeak, .stop_at_first_failure = true});
  ASSERT_TRUE(r.first_failure.has_value());
  for (int i = 0; i < 2; ++i) {
    const ExecutionResult again = replay(middle_store_first(false), r.first_failure->decisions, Options{}.max_steps,
                                         true, MemoryModel::kWeak);
    EXPECT_EQ(again.verdict, Verdict::kViolation);
    EXPECT_EQ(again.trace_hash, r.first_failure->trace_hash);
  }
}

}  // namespace
}  // namespace hvo::sched
