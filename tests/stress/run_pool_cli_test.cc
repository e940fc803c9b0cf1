// `hvo-stress run` and `hvo-stress pool` as users run them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "stress/exit_code.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("hvo-stress-test-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(CliPool, TwoMegPagesSaveSixVmemmapPagesEach) {
  const auto r = hvo_stress({"pool", "--model", "v17", "--hugepage-size", "2M", "--count", "64", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("vmemmap_pages_freed").to_number<uint64_t>(), 384u);
  EXPECT_EQ(o.at("vmemmap_pages_freed_per_hugepage").to_number<uint64_t>(), 6u);
  EXPECT_EQ(o.at("bytes_saved").to_number<uint64_t>(), 384u * 4096);
  EXPECT_TRUE(o.at("returned").as_bool());
  EXPECT_EQ(o.at("vmemmap_pages_in_use_after"), o.at("vmemmap_pages_in_use_before"));
  EXPECT_TRUE(o.at("violations").as_array().empty());
}

TEST(CliPool, OneGigPagesSave4094VmemmapPagesEach) {
  const auto r =
      hvo_stress({"pool", "--model", "v17", "--hugepage-size", "1G", "--count", "2", "--memory", "8G", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("vmemmap_pages_freed").to_number<uint64_t>(), 8188u);
  EXPECT_EQ(o.at("vmemmap_pages_freed_per_hugepage").to_number<uint64_t>(), 4094u);
  EXPECT_TRUE(o.at("returned").as_bool());
}

struct BadRun {
  std::vector<std::string> args;
  std::string names;
};

class BadRunTest : public ::testing::TestWithParam<BadRun> {};

TEST_P(BadRunTest, ExitsTwoNamingTheFlag) {
  const auto r = hvo_stress(GetParam().args);
  EXPECT_EQ(r.exit_code, to_int(ExitCode::kUsage)) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(GetParam().names));
  EXPECT_TRUE(r.out.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cli, BadRunTest,
    ::testing::Values(BadRun{{"run", "--model", "v99", "--iterations", "10"}, "--model"},
                      BadRun{{"run", "--model", "v17", "--revert", "nope", "--iterations", "10"}, "--revert"},
                      BadRun{{"run", "--model", "v17", "--threads", "0"}, "--threads"},
                      BadRun{{"run", "--model", "v17", "--duration", "10x"}, "--duration"},
                      BadRun{{"run", "--model", "v17", "--duration", "0s"}, "--duration"},
                      BadRun{{"run", "--model", "v17", "--seed", "abc"}, "--seed"},
                      BadRun{{"run", "--model", "v17", "--seed", "-1"}, "--seed"},
                      BadRun{{"run", "--model", "v17", "--iterations", "5", "--duration", "1s"}, "--iterations"},
                      BadRun{{"run", "--model", "v17", "--out", "/proc/hvo-stress-cannot-write"}, "--out"},
                      BadRun{{"run", "--model", "v17", "--workload", "nope"}, "--workload"},
                      BadRun{{"run", "--model", "v17", "--mode", "sideways"}, "--mode"},
                      BadRun{{"run", "--model", "v17", "--hugepage-size", "4M"}, "--hugepage-size"},
                      BadRun{{"run", "--model", "v17", "--hugepage-size", "1G", "--memory", "2G"}, "--memory"},
                      BadRun{{"run", "--iterations", "10"}, "--model"},
                      BadRun{{"pool", "--model", "v17", "--count", "100000"}, "--count"},
                      BadRun{{"pool", "--model", "v17", "--count", "4", "--memory", "3X"}, "--memory"},
                      BadRun{{"pool", "--model", "nope", "--count", "4"}, "--model"},
                      BadRun{{"pool", "--model", "v17"}, "--count"}));

TEST(CliRun, CleanCampaignExitsZeroWithItsThroughput) {
  const std::string out = temp_dir("clean");
  const auto r = hvo_stress({"run", "--model", "v17", "--mode", "free", "--threads", "2", "--iterations", "20000",
                             "--seed", "3", "--memory", "512M", "--json", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("model").as_string(), "v17");
  EXPECT_EQ(o.at("seed").to_number<uint64_t>(), 3u);
  EXPECT_TRUE(o.at("violations").as_array().empty());
  const json::object& s = o.at("stats").as_object();
  EXPECT_EQ(s.at("operations").to_number<uint64_t>(), 20000u);
  EXPECT_GT(s.at("operations_per_s").as_double(), 0);
  EXPECT_GT(s.at("hugepages_optimized").to_number<uint64_t>(), 0u);
  EXPECT_GT(s.at("schedule_points").to_number<uint64_t>(), 0u);
}

TEST(CliRun, RevertedFixExitsOneWritesTheReplayFileFirstAndPrintsTheCommand) {
  const std::string out = temp_dir("revert");
  const auto r = hvo_stress({"run", "--model", "v17", "--revert", "raw-hwpoison", "--mode", "free", "--threads",
                             "1", "--iterations", "200000", "--seed", "1", "--json", "--out", out});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json::object o = json::parse(r.out).as_object();
  const json::array& vs = o.at("violations").as_array();
  ASSERT_FALSE(vs.empty());
  EXPECT_EQ(vs.at(0).as_object().at("kind").as_string(), "ro-tail-write");
  EXPECT_THAT(std::string(vs.at(0).as_object().at("operation").as_string()), ::testing::StartsWith("memory_failure"));
  const json::array& files = o.at("replay_files").as_array();
  ASSERT_EQ(files.size(), 1u);
  std::ifstream f(std::string(files.at(0).as_string()));
  std::stringstream text;
  text << f.rdbuf();
  const json::object replay = json::parse(text.str()).as_object();
  EXPECT_EQ(replay.at("format").as_string(), "hvo-stress-replay");
  EXPECT_EQ(replay.at("config").as_object().at("seed").to_number<uint64_t>(), 1u);
  EXPECT_EQ(replay.at("violation").as_object().at("kind").as_string(), "ro-tail-write");
  // The command on stderr runs the same campaign.
  EXPECT_THAT(r.err, HasSubstr("replay: hvo-stress run --model v17 --revert raw-hwpoison --mode free --threads 1"));
  EXPECT_THAT(r.err, HasSubstr("--seed 1 "));
}

}  // namespace
}  // namespace hvo::cli

namespace hvo::cli {
namespace {

TEST(CliList, ModelsJsonNamesEachModelWithItsReverts) {
  const auto r = testing::run_program(HVO_STRESS_BINARY, {"list", "models", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::array models = json::parse(r.out).as_object().at("models").as_array();
  bool v17 = false;
  for (const json::value& m : models) {
    if (m.as_object().at("name") != "v17") continue;
    v17 = true;
    std::vector<std::string> reverts;
    for (const json::value& rv : m.as_object().at("reverts").as_array())
      reverts.emplace_back(rv.as_object().at("name").as_string());
    EXPECT_THAT(reverts, ::testing::Contains("raw-hwpoison"));
    EXPECT_THAT(reverts, ::testing::Contains("d8f5f7e445f0"));
  }
  EXPECT_TRUE(v17);
}

TEST(CliList, WorkloadsTextHasTheDefault) {
  const auto r = testing::run_program(HVO_STRESS_BINARY, {"list", "workloads"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("mixed"));
}

}  // namespace
}  // namespace hvo::cli
