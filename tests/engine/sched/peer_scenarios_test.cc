// mp2 and cas4 pass on every execution, whatever the strategy.
#include "engine/sched/peer_scenarios.h"

#include <gtest/gtest.h>

namespace hvo::sched {
namespace {

TEST(PeerScenariosTest, Mp2PassesOnEveryExecution) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
    const Report r = explore(mp2_scenario(), Options{.strategy = k, .executions = 2000});
    EXPECT_EQ(r.count(Verdict::kPass), 2000u) << to_string(k);
  }
  // Every schedule (4 accesses, at most 2 preemptions is all of them).
  const Report r = explore(mp2_scenario(), Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 2});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kPass), r.executions);
  EXPECT_GT(r.executions, 2u);
}

TEST(PeerScenariosTest, Cas4CountsToTwelveOnEveryExecution) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
    const Report r = explore(cas4_scenario(), Options{.strategy = k, .executions = 2000});
    EXPECT_EQ(r.count(Verdict::kPass), 2000u) << to_string(k);
  }
  const Report r = explore(cas4_scenario(), Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 1});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kPass), r.executions);
  std::printf("cas4, bounded P=1: %llu schedules\n", static_cast<unsigned long long>(r.executions));
}

}  // namespace
}  // namespace hvo::sched
