// Allocation failure as a choice (--fail-allocs, controlled) and as
// fail_page_alloc (--fail-alloc, free): bounded, counted, reaching the error
// paths, recorded in the replay file and replayed exactly; at its default
// the runs are the ones without it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "stress/campaign_json.h"
#include "stress/controlled_campaign.h"
#include "stress/fail_alloc_parse.h"
#include "stress/replay_file.h"
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

TEST(FailAllocs, AtZeroTheConfigurationIsTheOneWithoutIt) {
  const CampaignConfig c = controlled("v6.10", "mixed", 0);
  EXPECT_THAT(c.command_line(), ::testing::Not(HasSubstr("fail-allocs")));
  EXPECT_FALSE(to_json(c).contains("fail_allocs"));
  const ControlledResult r = run_controlled(c);
  EXPECT_EQ(r.faults.allocs_failed, 0u);
  EXPECT_EQ(r.faults.alloc_points, 0u);  // no choice was even offered
}

TEST(FailAllocs, EveryModelsRestoreErrorPathIsReachedAndTheCheckersHold) {
  for (const char* model : {"v17", "v5.18", "v6.10", "v7.1"}) {
    const CampaignConfig c = controlled(model, "restore-walk", 2);
    const ControlledResult r = run_controlled(c);
    EXPECT_FALSE(r.report.first_failure.has_value()) << model << ": " << r.report.first_failure->message;
    EXPECT_GT(r.faults.allocs_failed, 0u) << model;
    EXPECT_LE(r.faults.allocs_failed, 2 * c.seeds) << model;
    EXPECT_GT(r.faults.alloc_points, r.faults.allocs_failed) << model;
    EXPECT_GT(r.faults.restore_failures, 0u) << model << ": the restore error path was never taken";
  }
}

TEST(FailAllocs, AMemoryFailureWhoseDissolveFailsKeepsItsPoison) {
  // hwpoison: memory_failure() dissolves free folios; with failed restores
  // the poison is kept (hwpoison-conservation checks it at every end).
  for (const char* model : {"v17", "v5.18", "v6.10", "v7.1"}) {
    CampaignConfig c = controlled(model, "hwpoison", 3);
    c.seeds = 60;
    const ControlledResult r = run_controlled(c);
    EXPECT_FALSE(r.report.first_failure.has_value()) << model << ": " << r.report.first_failure->message;
    EXPECT_GT(r.faults.restore_failures, 0u) << model;
  }
}

TEST(FailAllocs, AReplayFailsTheSamePointsAndIsTheSameExecution) {
  CampaignConfig c = controlled("v6.10", "restore-walk", 2);
  c.seeds = 1;
  for (uint64_t seed = 1; seed < 40; ++seed) {
    c.seed = seed;
    const ControlledResult r = run_controlled(c);
    if (r.alloc_failures.empty()) continue;
    const sched::ExecutionResult& x = r.report.last;
    const ReplayResult same = replay_execution(c, seed, x.decisions, nullptr, r.alloc_failures);
    EXPECT_EQ(same.result.trace_hash, x.trace_hash);
    EXPECT_TRUE(same.alloc_failures_reached);
    const ReplayResult without = replay_execution(c, seed, x.decisions, nullptr, {});
    EXPECT_NE(without.result.trace_hash, x.trace_hash) << "the failures made no difference";
    return;
  }
  FAIL() << "no execution of 39 failed an allocation";
}

TEST(FailAllocs, TheReplayFileKeepsTheFailuresAndOldFilesStillLoad) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("hvo-fail-allocs-" + std::to_string(getpid()) + ".json")).string();
  ReplayFile f;
  f.config = controlled("v17", "mixed", 2);
  f.config.seeds = 1;
  f.seed = 9;
  f.decisions = {sched::Decision{3, 1}};
  f.alloc_failures = {2, 7};
  f.verdict = "violation";
  std::ofstream(path) << replay_file_text(f);
  auto read = read_replay_file(path);
  ASSERT_TRUE(std::holds_alternative<ReplayFile>(read)) << std::get<std::string>(read);
  EXPECT_EQ(std::get<ReplayFile>(read).alloc_failures, (std::vector<uint64_t>{2, 7}));
  EXPECT_EQ(std::get<ReplayFile>(read).config.fail_allocs, 2u);
  // A file written before the choice existed: neither key.
  json::object o = to_json(f);
  o.erase("alloc_failures");
  o["config"].as_object().erase("fail_allocs");
  std::ofstream(path) << json::serialize(o);
  read = read_replay_file(path);
  ASSERT_TRUE(std::holds_alternative<ReplayFile>(read)) << std::get<std::string>(read);
  EXPECT_TRUE(std::get<ReplayFile>(read).alloc_failures.empty());
  EXPECT_EQ(std::get<ReplayFile>(read).config.fail_allocs, 0u);
  // Not increasing: rejected.
  o["alloc_failures"] = json::array{5, 5};
  std::ofstream(path) << json::serialize(o);
  read = read_replay_file(path);
  ASSERT_TRUE(std::holds_alternative<std::string>(read));
  EXPECT_THAT(std::get<std::string>(read), HasSubstr("alloc_failures"));
  std::filesystem::remove(path);
}

TEST(FailAllocParse, TheKernelsKnobs) {
  auto a = parse_fail_alloc("probability=0.5,interval=2,times=100,min-order=1");
  ASSERT_TRUE(std::holds_alternative<FaultAttr>(a)) << std::get<std::string>(a);
  const FaultAttr f = std::get<FaultAttr>(a);
  EXPECT_EQ(f.probability_percent, 0.5);
  EXPECT_EQ(f.interval, 2u);
  EXPECT_EQ(f.times, 100);
  EXPECT_EQ(f.min_order, Order(1));
  // Round trip.
  auto b = parse_fail_alloc(to_string(f));
  ASSERT_TRUE(std::holds_alternative<FaultAttr>(b));
  EXPECT_EQ(std::get<FaultAttr>(b), f);
  auto d = parse_fail_alloc("probability=100");
  ASSERT_TRUE(std::holds_alternative<FaultAttr>(d));
  EXPECT_EQ(std::get<FaultAttr>(d).times, -1);
  EXPECT_EQ(std::get<FaultAttr>(d).interval, 1u);
}

TEST(FailAllocParse, BadSpecsNameWhatIsWrong) {
  for (const char* bad : {"", "probability", "probability=101", "probability=x", "interval=0,probability=1",
                          "probability=1,probability=2", "probability=1,space=3", "probability=1,times=-2",
                          "probability=1,min-order=19", "interval=2"}) {
    auto r = parse_fail_alloc(bad);
    EXPECT_TRUE(std::holds_alternative<std::string>(r)) << bad;
  }
}

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

TEST(FailAllocCli, BadUseExits2) {
  const std::string out = (std::filesystem::temp_directory_path() / "hvo-fail-alloc-cli").string();
  auto r = hvo_stress({"run", "--model", "v17", "--fail-allocs", "2", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--fail-allocs"));
  r = hvo_stress({"run", "--model", "v17", "--fail-alloc", "probability=200", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--fail-alloc"));
  r = hvo_stress({"run", "--model", "v17", "--mode", "controlled", "--fail-alloc", "probability=1", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(FailAllocCli, FreeModeInjectsAndCounts) {
  const std::string out = (std::filesystem::temp_directory_path() / "hvo-fail-alloc-free").string();
  const auto r = hvo_stress({"run", "--model", "v6.10", "--threads", "2", "--iterations", "3000", "--seed", "1",
                             "--workload", "resize", "--fail-alloc", "probability=20,interval=1,times=-1", "--json",
                             "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_GT(o.at("stats").as_object().at("allocations_failed").to_number<uint64_t>(), 0u);
  EXPECT_THAT(std::string(o.at("command").as_string()), HasSubstr("--fail-alloc probability=20"));
}

TEST(FailAllocCli, ControlledSummaryCountsInjectionsAndErrorPaths) {
  const std::string out = (std::filesystem::temp_directory_path() / "hvo-fail-allocs-ctl").string();
  const auto r = hvo_stress({"run", "--model", "v5.18", "--mode", "controlled", "--workload", "restore-walk",
                             "--seed", "1", "--seeds", "30", "--fail-allocs", "2", "--json", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json::object o = json::parse(r.out).as_object();
  const json::object& fi = o.at("fault_injection").as_object();
  EXPECT_GT(fi.at("allocations_failed").to_number<uint64_t>(), 0u);
  EXPECT_GT(fi.at("error_paths").as_object().at("vmemmap_restore_failed").to_number<uint64_t>(), 0u);
  const auto t = hvo_stress({"run", "--model", "v5.18", "--mode", "controlled", "--workload", "restore-walk",
                             "--seed", "1", "--seeds", "30", "--fail-allocs", "2", "--out", out});
  EXPECT_THAT(t.out, HasSubstr("alloc failures"));
}

}  // namespace
}  // namespace hvo::stress
