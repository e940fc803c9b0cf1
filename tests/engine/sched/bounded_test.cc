// Bounded (preemption-bounded) search: it explores exactly the schedules of
// a tiny scenario, counted by hand below, and stops when they are exhausted.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/sched/scenario.h"
#include "tests/engine/sched/test_scenarios.h"

namespace hvo::sched {
namespace {

using testing::steps_scenario;

struct Count {
  uint64_t schedules;
  size_t distinct;
};

Count count_schedules(unsigned cpus, unsigned steps, unsigned bound) {
  std::set<std::string> orders;
  const Report r = explore(steps_scenario(cpus, steps, &orders),
                           Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = bound});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kPass), r.executions);
  return Count{r.executions, orders.size()};
}

// Hand count. A schedule is an order of the CPUs' accesses (each step is one
// schedule point, and a decision picks whose pending access runs next).
// With two CPUs of m steps each, an order is a sequence of b >= 1 blocks
// that alternate between the CPUs. A switch between blocks is a preemption
// unless the CPU left has finished; the last block belongs to one CPU and
// the one before it is necessarily the other CPU's last, so exactly the
// last switch is free: preemptions = b - 2 (b >= 2). Orders with b blocks:
// b = 2r: 2 * C(m-1, r-1)^2; b = 2r+1: 2 * C(m-1, r) * C(m-1, r-1).
//
// m = 2: b=2: 2 (aabb, bbaa; 0 preemptions), b=3: 2 (abba, baab; 1),
//        b=4: 2 (abab, baba; 2). So P=0: 2, P=1: 4, P=2: 6 = C(4,2).
TEST(BoundedTest, TwoCpusTwoStepsHaveTwoFourSixSchedulesWithinZeroOneTwoPreemptions) {
  const Count p0 = count_schedules(2, 2, 0);
  const Count p1 = count_schedules(2, 2, 1);
  const Count p2 = count_schedules(2, 2, 2);
  EXPECT_EQ(p0.schedules, 2u);
  EXPECT_EQ(p1.schedules, 4u);
  EXPECT_EQ(p2.schedules, 6u);
  // Each schedule is a different interleaving: no duplicate, none missing.
  EXPECT_EQ(p0.distinct, 2u);
  EXPECT_EQ(p1.distinct, 4u);
  EXPECT_EQ(p2.distinct, 6u);
  EXPECT_EQ(count_schedules(2, 2, 5).schedules, 6u) << "a larger bound adds nothing";
}

// m = 3: b=2: 2 (P 0); b=3: 2*C(2,1)*C(2,0) = 4 (P 1); b=4: 2*C(2,1)^2 = 8
// (P 2); b=5: 2*C(2,2)*C(2,1) = 4 (P 3); b=6: 2*1*1 = 2 (P 4).
// Cumulative: P=0: 2, P=1: 6, P=2: 14, P=3: 18, P=4: 20 = C(6,3).
TEST(BoundedTest, TwoCpusThreeStepsMatchTheHandCountForEveryBound) {
  const uint64_t expected[] = {2, 6, 14, 18, 20};
  for (unsigned p = 0; p <= 4; ++p) {
    const Count c = count_schedules(2, 3, p);
    EXPECT_EQ(c.schedules, expected[p]) << "P = " << p;
    EXPECT_EQ(c.distinct, expected[p]) << "P = " << p;
  }
}

// Three CPUs of one step each: a CPU finishes right after its access, so
// every switch is free and even P = 0 explores all 3! = 6 orders.
TEST(BoundedTest, SwitchesAtFinishedCpusAreFree) {
  const Count c = count_schedules(3, 1, 0);
  EXPECT_EQ(c.schedules, 6u);
  EXPECT_EQ(c.distinct, 6u);
}

TEST(BoundedTest, AnExecutionCapStopsBeforeExhaustion) {
  const Report r = explore(steps_scenario(2, 3),
                           Options{.strategy = StrategyKind::kBounded, .executions = 5, .preemptions = 4});
  EXPECT_EQ(r.executions, 5u);
  EXPECT_FALSE(r.exhausted);
}

}  // namespace
}  // namespace hvo::sched
