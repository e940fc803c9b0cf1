// Replay: a recorded failing execution, re-run from its decisions, hits the
// same failure at the same step with the same trace hash; a tampered
// decision list is reported as diverged, never silently followed.
#include <gtest/gtest.h>

#include "engine/sched/scenario.h"
#include "tests/engine/sched/test_scenarios.h"

namespace hvo::sched {
namespace {

using testing::mp_wrong_order_scenario;

ExecutionResult first_failure(StrategyKind k) {
  const Report r = explore(mp_wrong_order_scenario(), Options{.strategy = k, .seed = 1, .executions = 500});
  EXPECT_TRUE(r.as_expected()) << "the wrong-order bug must be found";
  EXPECT_TRUE(r.first_failure.has_value());
  return r.first_failure.value_or(ExecutionResult{});
}

TEST(ReplayTest, ARecordedFailureReplaysToTheSameViolationStepAndHash) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct, StrategyKind::kBounded}) {
    const ExecutionResult f = first_failure(k);
    ASSERT_EQ(f.verdict, Verdict::kViolation);
    ASSERT_FALSE(f.decisions.empty());
    for (int run = 0; run < 2; ++run) {
      const ExecutionResult r = replay(mp_wrong_order_scenario(), f.decisions);
      EXPECT_EQ(r.verdict, Verdict::kViolation) << to_string(k) << ": " << r.message;
      EXPECT_EQ(r.failure_step, f.failure_step) << to_string(k);
      EXPECT_EQ(r.failure_cpu, f.failure_cpu) << to_string(k);
      EXPECT_EQ(r.trace_hash, f.trace_hash) << to_string(k);
      EXPECT_EQ(r.message, f.message) << to_string(k);
      EXPECT_EQ(r.decisions, f.decisions) << to_string(k);
    }
  }
}

TEST(ReplayTest, APassingExecutionReplaysToThePassWithTheSameHash) {
  const Report r = explore(testing::steps_scenario(3, 4), Options{.seed = 9, .executions = 1});
  ASSERT_EQ(r.last.verdict, Verdict::kPass);
  const ExecutionResult again = replay(testing::steps_scenario(3, 4), r.last.decisions);
  EXPECT_EQ(again.verdict, Verdict::kPass);
  EXPECT_EQ(again.trace_hash, r.last.trace_hash);
}

TEST(ReplayTest, ADecisionNamingACpuThatCannotRunDiverges) {
  const ExecutionResult f = first_failure(StrategyKind::kRandom);
  DecisionRecord tampered = f.decisions;
  tampered.front().cpu = 5;  // the scenario has 2 CPUs
  const ExecutionResult r = replay(mp_wrong_order_scenario(), tampered);
  EXPECT_EQ(r.verdict, Verdict::kDiverged);
  EXPECT_EQ(r.failure_step, tampered.front().step);
  EXPECT_NE(r.message.find("diverged"), std::string::npos) << r.message;
}

TEST(ReplayTest, ADecisionAtAStepThatIsNoDecisionDiverges) {
  const ExecutionResult f = first_failure(StrategyKind::kRandom);
  DecisionRecord tampered = f.decisions;
  tampered.insert(tampered.begin(), Decision{0, 1});  // step 0 is before any CPU was primed
  EXPECT_EQ(replay(mp_wrong_order_scenario(), tampered).verdict, Verdict::kDiverged);
}

TEST(ReplayTest, LeftoverDecisionsDiverge) {
  const ExecutionResult f = first_failure(StrategyKind::kRandom);
  DecisionRecord tampered = f.decisions;
  tampered.push_back(Decision{f.steps + 100, 0});
  EXPECT_EQ(replay(mp_wrong_order_scenario(), tampered).verdict, Verdict::kDiverged);
}

TEST(ReplayTest, ADroppedSwitchIsADifferentExecution) {
  const ExecutionResult f = first_failure(StrategyKind::kRandom);
  DecisionRecord tampered = f.decisions;
  tampered.pop_back();
  const ExecutionResult r = replay(mp_wrong_order_scenario(), tampered);
  // Without its last switch the run is not the recorded one: either the
  // replay notices (diverged) or it is another execution (another hash).
  EXPECT_TRUE(r.verdict == Verdict::kDiverged || r.trace_hash != f.trace_hash);
}

}  // namespace
}  // namespace hvo::sched
