// Free-mode campaigns through the library: a clean model stays clean, a
// reverted fix is found, findings reach the sink before the campaign ends,
// and one thread with one seed makes the same choices every time.
#include "stress/campaign.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace hvo::stress {
namespace {

CampaignConfig small(std::string model, unsigned threads, uint64_t iterations, uint64_t seed) {
  CampaignConfig c;
  c.model = std::move(model);
  c.threads = threads;
  c.iterations = iterations;
  c.seed = seed;
  c.memory_bytes = uint64_t{512} << 20;
  c.check_every = 2000;
  return c;
}

TEST(Campaign, CleanV17StaysCleanAndGivesEverythingBack) {
  std::vector<Violation> found;
  const CampaignResult r = run_free_campaign(small("v17", 2, 20000, 11), [&](const Violation& v) { found.push_back(v); });
  EXPECT_EQ(r.violation_count, 0u) << r.violations.at(0).to_string();
  EXPECT_TRUE(found.empty());
  EXPECT_EQ(r.stats.operations, 20000u);
  EXPECT_GT(r.stats.vmemmap.optimized, 0u);
  // The end of the campaign shrinks the pool to 0: every optimization undone.
  EXPECT_EQ(r.stats.vmemmap.optimized, r.stats.vmemmap.restored);
  EXPECT_EQ(r.stats.vmemmap.pages_freed, r.stats.vmemmap.pages_allocated);
  EXPECT_GE(r.stats.quiescent_checks, 10u);
  EXPECT_GT(r.stats.actors.kpageflags_checked, 0u);
  EXPECT_GT(r.stats.schedule_points, r.stats.operations);
}

TEST(Campaign, RevertedRawHwpoisonIsFoundByMemoryFailureAndReportedFirst) {
  CampaignConfig c = small("v17", 1, 50000, 5);
  c.reverts = {"raw-hwpoison"};
  c.workload = "hwpoison";
  std::vector<Violation> found;
  const CampaignResult r = run_free_campaign(c, [&](const Violation& v) { found.push_back(v); });
  ASSERT_GE(r.violation_count, 1u);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.front().kind, ViolationKind::kRoTailWrite);
  EXPECT_EQ(found.front().operation.rfind("memory_failure", 0), 0u) << found.front().operation;
  // It stopped there, long before its iterations.
  EXPECT_LT(r.stats.operations, 50000u);
}

TEST(Campaign, OneThreadOneSeedMakesTheSameRun) {
  const CampaignResult a = run_free_campaign(small("v17", 1, 5000, 99), [](const Violation&) {});
  const CampaignResult b = run_free_campaign(small("v17", 1, 5000, 99), [](const Violation&) {});
  EXPECT_EQ(a.stats.schedule_points, b.stats.schedule_points);
  EXPECT_EQ(a.stats.actors.ops, b.stats.actors.ops);
  EXPECT_EQ(a.stats.vmemmap.optimized, b.stats.vmemmap.optimized);
  const CampaignResult c = run_free_campaign(small("v17", 1, 5000, 100), [](const Violation&) {});
  EXPECT_NE(a.stats.schedule_points, c.stats.schedule_points);
}

TEST(Campaign, CommandLineNamesEverythingThatDefinesTheRun) {
  CampaignConfig c = small("v17", 2, 1000, 7);
  c.reverts = {"raw-hwpoison"};
  EXPECT_EQ(c.command_line(),
            "hvo-stress run --model v17 --revert raw-hwpoison --mode free --threads 2 --iterations 1000 --seed 7 "
            "--workload mixed --hugepage-size 2M --memory 512M --pte-access once --check-every 2000");
}

TEST(Campaign, UnknownModelIsInvalidArgument) {
  EXPECT_THROW((void)run_free_campaign(small("v99", 1, 10, 1), [](const Violation&) {}), std::invalid_argument);
}

}  // namespace
}  // namespace hvo::stress
