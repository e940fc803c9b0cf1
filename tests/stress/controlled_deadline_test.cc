// CampaignConfig::stop_at: hunt's time budget binds inside a controlled
// pull. Before it, a `hunt --duration 20s` on v6.10 ran 141 s: a pull of
// 1 GiB executions ran all of them past the budget.
#include <gtest/gtest.h>

#include <chrono>

#include "stress/controlled_campaign.h"

namespace hvo::stress {
namespace {

CampaignConfig small_search() {
  CampaignConfig c;
  c.mode = CampaignMode::kControlled;
  c.model = "v6.10";
  c.workload = "resize";
  c.threads = 2;
  c.iterations = 2;
  c.seed = 1;
  c.seeds = 50;
  return c;
}

TEST(ControlledDeadline, NoExecutionStartsAfterItAndItIsNotAnInterruption) {
  for (unsigned jobs : {1u, 2u}) {
    CampaignConfig c = small_search();
    c.jobs = jobs;
    c.stop_at = std::chrono::steady_clock::now();
    const ControlledResult r = run_controlled(c);
    EXPECT_EQ(r.report.executions, 0u) << jobs;
    EXPECT_FALSE(r.report.interrupted) << jobs;
    EXPECT_FALSE(r.report.first_failure.has_value()) << jobs;
  }
}

TEST(ControlledDeadline, AFarDeadlineChangesNothing) {
  CampaignConfig c = small_search();
  const ControlledResult without = run_controlled(c);
  c.stop_at = std::chrono::steady_clock::now() + std::chrono::hours(1);
  const ControlledResult with = run_controlled(c);
  EXPECT_EQ(with.report.executions, without.report.executions);
  EXPECT_EQ(with.report.executions, 50u);
}

}  // namespace
}  // namespace hvo::stress
