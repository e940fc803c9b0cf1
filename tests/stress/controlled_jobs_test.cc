// `hvo-stress run --mode controlled --jobs N`: executions run N at a time,
// and nothing of the result depends on N. A failing search reports the
// lowest failing execution (not the first to finish), counts executions as
// the sequential search does (up to and including it), and writes the same
// replay file byte for byte; a passing search runs every execution and
// ends on the same last one. PCT's estimate k grows with the executions
// before (pct_strategy.h), so a PCT search is the one where running ahead
// in parallel could go wrong: it is compared execution for execution
// through the sum of their schedule points.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
namespace json = boost::json;

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("hvo-stress-jobs-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct SearchRun {
  testing::RunResult result;
  json::object summary;
  std::string replay_file;  // its contents; empty for a passing search
};

// `hvo-stress run <args> --jobs <jobs> --json` into its own output directory.
SearchRun search(std::vector<std::string> args, unsigned jobs, const std::string& name) {
  const std::string out = temp_dir(name + "-jobs" + std::to_string(jobs));
  args.insert(args.end(), {"--jobs", std::to_string(jobs), "--json", "--out", out});
  SearchRun run;
  run.result = testing::run_program(HVO_STRESS_BINARY, args);
  if (run.result.exit_code != 0 && run.result.exit_code != 1) return run;
  run.summary = json::parse(run.result.out).as_object();
  const json::array& files = run.summary.at("replay_files").as_array();
  if (!files.empty()) run.replay_file = read_file(std::string(files.at(0).as_string()));
  fs::remove_all(out);
  return run;
}

// Everything of the summary that says what the search found and did, with
// what only says how fast it went (wall times, rates, jobs) and where the
// replay file went left out.
json::object verdict_of(const json::object& summary) {
  json::object o = summary;
  for (const char* key : {"executions_per_s", "jobs", "replay_files"}) o.erase(key);
  json::object stats = o.at("stats").as_object();
  for (const char* key : {"executions_per_s", "elapsed_s", "schedule_points_per_s", "jobs"}) stats.erase(key);
  o["stats"] = stats;
  return o;
}

void expect_same_search(const SearchRun& sequential, const SearchRun& parallel, unsigned jobs) {
  ASSERT_EQ(parallel.result.exit_code, sequential.result.exit_code) << parallel.result.err;
  EXPECT_EQ(json::serialize(verdict_of(parallel.summary)), json::serialize(verdict_of(sequential.summary)))
      << "--jobs " << jobs;
  EXPECT_EQ(parallel.replay_file, sequential.replay_file) << "--jobs " << jobs;
  EXPECT_EQ(parallel.summary.at("jobs").to_number<uint64_t>(), jobs);
}

// Fails at execution 26 (seed 27) after PCT's k has grown along the way.
const std::vector<std::string> kFailingPct = {"run",      "--model", "v17",      "--pte-access", "plain-torn",
                                              "--mode",   "controlled", "--strategy", "pct",     "--seeds",
                                              "500",      "--seed",  "1"};

TEST(ControlledJobs, AFailingPctSearchFindsTheSameLowestFailureWithAnyJobs) {
  const SearchRun one = search(kFailingPct, 1, "pct");
  ASSERT_EQ(one.result.exit_code, 1) << one.result.err;
  const json::object& failing = one.summary.at("failing_execution").as_object();
  // Not the first execution: several ran, and a later one could finish first.
  ASSERT_GT(failing.at("index").to_number<uint64_t>(), 2u);
  EXPECT_EQ(one.summary.at("executions").to_number<uint64_t>(), failing.at("index").to_number<uint64_t>() + 1);
  ASSERT_FALSE(one.replay_file.empty());
  for (unsigned jobs : {2u, 3u}) expect_same_search(one, search(kFailingPct, jobs, "pct"), jobs);
}

TEST(ControlledJobs, AFailingRandomSearchFindsTheSameLowestFailureWithAnyJobs) {
  const std::vector<std::string> args = {"run",        "--model",    "v17",    "--pte-access", "plain-torn", "--mode",
                                         "controlled", "--strategy", "random", "--seeds",      "500",   "--seed",
                                         "7"};
  const SearchRun one = search(args, 1, "random");
  ASSERT_EQ(one.result.exit_code, 1) << one.result.err;
  ASSERT_GT(one.summary.at("failing_execution").as_object().at("index").to_number<uint64_t>(), 0u);
  expect_same_search(one, search(args, 2, "random"), 2);
}

TEST(ControlledJobs, ARaceCatalogueEntryIsFoundTheSameWithTwoJobs) {
  const std::vector<std::string> args = {"run", "--race", "raw-hwpoison"};
  const SearchRun one = search(args, 1, "race");
  ASSERT_EQ(one.result.exit_code, 1) << one.result.err;
  expect_same_search(one, search(args, 2, "race"), 2);
}

TEST(ControlledJobs, APassingSearchRunsEveryExecutionWithAnyJobs) {
  const std::vector<std::string> args = {"run", "--race", "raw-hwpoison", "--fixed", "--seeds", "200"};
  const SearchRun one = search(args, 1, "clean");
  ASSERT_EQ(one.result.exit_code, 0) << one.result.err;
  EXPECT_EQ(one.summary.at("executions").to_number<uint64_t>(), 200u);
  const SearchRun two = search(args, 2, "clean");
  expect_same_search(one, two, 2);
  EXPECT_TRUE(two.replay_file.empty());
}

// Every execution's k must be the sequential one, or its schedule (and so
// the sum of schedule points) differs.
TEST(ControlledJobs, APassingPctSearchRunsTheSameExecutionsWithAnyJobs) {
  const std::vector<std::string> args = {"run",    "--model",    "v17",      "--pte-access", "once",
                                         "--mode", "controlled", "--strategy", "pct",        "--seeds",
                                         "60",     "--seed",     "5"};
  const SearchRun one = search(args, 1, "pct-clean");
  ASSERT_EQ(one.result.exit_code, 0) << one.result.err;
  for (unsigned jobs : {2u, 4u}) expect_same_search(one, search(args, jobs, "pct-clean"), jobs);
}

TEST(ControlledJobs, BadJobsValuesAreUsageErrors) {
  for (const char* bad : {"0", "-1", "abc", "2x", "100000"}) {
    const testing::RunResult r = testing::run_program(
        HVO_STRESS_BINARY, {"run", "--mode", "controlled", "--model", "v17", "--seeds", "1", "--jobs", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_THAT(r.err, HasSubstr("--jobs")) << bad;
    EXPECT_THAT(r.err, HasSubstr("(1..256)")) << bad;
  }
  const testing::RunResult free_mode =
      testing::run_program(HVO_STRESS_BINARY, {"run", "--model", "v17", "--iterations", "10", "--jobs", "2"});
  EXPECT_EQ(free_mode.exit_code, 2);
  EXPECT_THAT(free_mode.err, HasSubstr("--jobs: needs --mode controlled"));
}

}  // namespace
}  // namespace hvo::cli
