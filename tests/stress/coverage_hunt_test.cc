// Coverage in the campaigns' summaries and warnings, and `hvo-stress hunt`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "stress/controlled_campaign.h"
#include "stress/coverage.h"
#include "stress/hunt_portfolio.h"
#include "tests/stress/subprocess.h"

namespace hvo::stress {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

CampaignConfig controlled(std::string model, std::string workload, uint64_t fail_allocs) {
  CampaignConfig c;
  c.mode = CampaignMode::kControlled;
  c.model = std::move(model);
  c.workload = std::move(workload);
  c.iterations = 4;
  c.seed = 1;
  c.seeds = 40;
  c.fail_allocs = fail_allocs;
  return c;
}

TEST(Coverage, AControlledCampaignRecordsFunctionsPairsAndErrorPaths) {
  const ControlledResult r = run_controlled(controlled("v5.18", "mixed", 2));
  EXPECT_GT(r.coverage.functions.count("vmemmap_remap_free"), 0u);
  EXPECT_GT(r.coverage.functions.count("memory_failure"), 0u);
  EXPECT_FALSE(r.coverage.pairs.empty());
  EXPECT_GT(r.coverage.errors.count(error_path::kRestoreFailed), 0u);
}

TEST(Coverage, WithoutFaultInjectionTheErrorPathsAreReportedNeverTaken) {
  const ControlledResult r = run_controlled(controlled("v6.10", "resize", 0));
  EXPECT_TRUE(r.coverage.errors.empty());
  const std::vector<std::string> w = coverage_warnings("v6.10", r.coverage, true);
  EXPECT_THAT(w, ::testing::Contains(HasSubstr(error_path::kRestoreFailed)));
  EXPECT_THAT(w, ::testing::Contains(HasSubstr(error_path::kSplitFailed)));
  // resize has no memory_failure: its racy pairs with HVO are never run.
  EXPECT_THAT(w, ::testing::Contains(HasSubstr("racy pair never interleaved")));
}

TEST(Coverage, EveryModelsExpectedErrorPathIsReachableWithFaultInjection) {
  for (const char* model : {"v17", "v5.18", "v6.10", "v7.1"}) {
    CoverageReport all;
    for (const char* w : {"mixed", "hwpoison", "grow", "restore-walk"}) {
      CampaignConfig c = controlled(model, w, 3);
      c.seeds = 80;
      all += run_controlled(c).coverage;
      CampaignConfig empty = c;  // the first HVOs (splits, the shared tail page) from an empty pool
      empty.initial_pool = 0;
      empty.memory_bytes = uint64_t{64} << 20;
      empty.threads = 4;
      empty.iterations = 1;
      all += run_controlled(empty).coverage;
    }
    for (const std::string& w : coverage_warnings(model, all, false)) ADD_FAILURE() << model << ": " << w;
  }
}

TEST(HuntPortfolio, TheBanditTriesEveryValueThenPrefersWhatFindsCoverage) {
  const HuntDimensions d = hunt_dimensions("v6.10");
  EXPECT_THAT(d.workloads, ::testing::Contains("demote"));
  EXPECT_THAT(hunt_dimensions("v17").workloads, ::testing::Not(::testing::Contains("demote")));
  HuntBandit b(d, 1);
  std::vector<bool> tried(d.schedulers.size(), false);
  for (size_t i = 0; i < d.schedulers.size(); ++i) {
    const HuntPick p = b.pick();
    tried[p.scheduler] = true;
    b.reward(p, p.scheduler == 2 ? 100 : 0, 1.0);  // pct3 finds coverage
  }
  EXPECT_EQ(std::count(tried.begin(), tried.end(), true), static_cast<long>(d.schedulers.size()));
  size_t pct3 = 0;
  for (int i = 0; i < 200; ++i) {
    const HuntPick p = b.pick();
    pct3 += p.scheduler == 2 ? 1 : 0;
    b.reward(p, p.scheduler == 2 ? 100 : 0, 1.0);
  }
  EXPECT_GT(pct3, 120u);  // about 4/5 exploit + its share of 1/5 explore
}

TEST(HuntPortfolio, EveryPullIsARunnableCampaign) {
  const HuntDimensions d = hunt_dimensions("v6.10");
  for (size_t w = 0; w < d.workloads.size(); ++w)
    for (size_t s = 0; s < d.schedulers.size(); ++s) {
      const HuntPick p{w, (w + s) % d.shapes.size(), s, s % 2};
      const CampaignConfig c = hunt_config("v6.10", d, p, 1, 10, 500);
      if (c.mode == CampaignMode::kControlled) EXPECT_EQ(check_controlled_config(c), "") << describe(d, p);
    }
}

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

TEST(HuntCli, BadUseExits2) {
  EXPECT_EQ(hvo_stress({"hunt"}).exit_code, 2);
  EXPECT_EQ(hvo_stress({"hunt", "--model", "v99"}).exit_code, 2);
  EXPECT_EQ(hvo_stress({"hunt", "--model", "v17", "--duration", "soon"}).exit_code, 2);
  EXPECT_EQ(hvo_stress({"hunt", "--model", "v17", "--revert", "nope"}).exit_code, 2);
}

TEST(HuntCli, AShortCleanHuntReportsWhatItCovered) {
  const std::string out = (std::filesystem::temp_directory_path() / "hvo-hunt-clean").string();
  const auto r = hvo_stress({"hunt", "--model", "v7.1", "--duration", "4s", "--seed", "1", "--json", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_GE(o.at("pulls").to_number<uint64_t>(), 1u);
  EXPECT_FALSE(o.at("arms").as_array().empty());
  EXPECT_FALSE(o.at("coverage").as_object().at("functions").as_object().empty());
  EXPECT_TRUE(o.at("findings").as_array().empty());
}

TEST(HuntCli, FindsARevertedFixAndSavesItsReplayFile) {
  const std::string out = (std::filesystem::temp_directory_path() / "hvo-hunt-revert").string();
  std::filesystem::remove_all(out);
  const auto r = hvo_stress(
      {"hunt", "--model", "v17", "--revert", "raw-hwpoison", "--duration", "60s", "--seed", "1", "--out", out});
  ASSERT_EQ(r.exit_code, 1) << r.err << r.out;
  // It stops after the pull that found it (which may record a consequence
  // of the same bug too).
  EXPECT_THAT(r.out, HasSubstr("findings        "));
  EXPECT_THAT(r.out, HasSubstr("ro-tail-write"));
}

}  // namespace
}  // namespace hvo::stress
