// `run --shard K/N` and `merge RESULT...`: a random controlled search split
// into shards and merged back gives exactly the unsharded search's result
// (the lowest failing seed, its replay file byte for byte, the executions
// counted up to and including it, verdict totals, schedule points, trace
// hash), whatever the split; results that do not make one search are
// refused with exit 2. Through the binary, as a cluster job runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
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

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The parent's environment without any shard variable, plus `extra`.
class Env {
 public:
  explicit Env(const std::vector<std::string>& extra = {}) {
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string s(*e);
      if (s.starts_with("SLURM_") || s.starts_with("JOB_COMPLETION_INDEX=") || s.starts_with("HVO_SHARD_COUNT="))
        continue;
      strings_.push_back(s);
    }
    for (const std::string& x : extra) strings_.push_back(x);
    for (std::string& s : strings_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  [[nodiscard]] char* const* get() const { return ptrs_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> ptrs_;
};

testing::RunResult hvo_stress(const std::vector<std::string>& args, const Env& env = Env()) {
  return testing::run_program(HVO_STRESS_BINARY, args, env.get());
}

class ShardMerge : public ::testing::Test {
 public:
  struct Search {
    testing::RunResult result;
    json::object summary;
    std::string replay_file;  // its contents; empty for a clean search
  };

 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("hvo-shard-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Search parse(testing::RunResult r) {
    Search s;
    s.result = std::move(r);
    if (s.result.exit_code != 0 && s.result.exit_code != 1) return s;
    s.summary = json::parse(s.result.out).as_object();
    const json::array& files = s.summary.at("replay_files").as_array();
    if (!files.empty()) s.replay_file = read_file(std::string(files.at(0).as_string()));
    return s;
  }

  Search unsharded(std::vector<std::string> args) {
    args.insert(args.end(), {"--json", "--out", dir_ + "/whole"});
    return parse(hvo_stress(args));
  }

  // Runs shard k of n into dir_/shards (--jobs `jobs`); the result file's path.
  std::string shard(std::vector<std::string> args, unsigned k, unsigned n, uint64_t block, unsigned jobs = 1) {
    args.insert(args.end(), {"--shard", std::to_string(k) + "/" + std::to_string(n), "--shard-block",
                             std::to_string(block), "--jobs", std::to_string(jobs), "--json", "--out",
                             dir_ + "/shards-" + std::to_string(n)});
    const testing::RunResult r = hvo_stress(args);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    if (r.exit_code != 0 && r.exit_code != 1) return {};
    return std::string(json::parse(r.out).as_object().at("result_file").as_string());
  }

  std::vector<std::string> all_shards(const std::vector<std::string>& args, unsigned n, uint64_t block,
                                      unsigned jobs = 1) {
    std::vector<std::string> files;
    for (unsigned k = 0; k < n; ++k) files.push_back(shard(args, k, n, block, jobs));
    return files;
  }

  Search merge(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"merge"};
    args.insert(args.end(), files.begin(), files.end());
    args.push_back("--json");
    return parse(hvo_stress(args));
  }

  std::string dir_;
};

// What the summary says the search found and did, without how fast it went
// or where its replay file went, and without the coverage counts: a shard
// result does not carry them yet, so `merge` cannot fold them (docs/cluster.md).
json::object verdict_of(const json::object& summary) {
  json::object o = summary;
  for (const char* key : {"executions_per_s", "jobs", "replay_files", "coverage"}) o.erase(key);
  json::object stats = o.at("stats").as_object();
  for (const char* key : {"executions_per_s", "elapsed_s", "schedule_points_per_s", "jobs"}) stats.erase(key);
  o["stats"] = stats;
  return o;
}

void expect_same(const ShardMerge::Search& whole, const ShardMerge::Search& merged, const std::string& how) {
  ASSERT_EQ(merged.result.exit_code, whole.result.exit_code) << how << ": " << merged.result.err;
  EXPECT_EQ(json::serialize(verdict_of(merged.summary)), json::serialize(verdict_of(whole.summary))) << how;
  EXPECT_EQ(merged.replay_file, whole.replay_file) << how;
}

// v17 with plain PTE accesses: the random search from seed 51 fails at
// execution 17 (seed 68), so with blocks of 3 every one of four shards runs
// blocks below it, and what they run past it is left out of the merge.
const std::vector<std::string> kFailing = {"run",    "--model",    "v17",      "--pte-access", "plain-torn",
                                           "--mode", "controlled", "--strategy", "random",     "--seeds",
                                           "500",    "--seed",     "51"};
// The same with READ_ONCE/WRITE_ONCE: clean.
const std::vector<std::string> kClean = {"run",    "--model",    "v17",      "--pte-access", "once",
                                         "--mode", "controlled", "--strategy", "random",     "--seeds",
                                         "40",     "--seed",     "5"};

TEST_F(ShardMerge, FourShardsOfAFailingSearchMergeIntoTheUnshardedResult) {
  const Search whole = unsharded(kFailing);
  ASSERT_EQ(whole.result.exit_code, 1) << whole.result.err;
  const uint64_t failing = whole.summary.at("failing_execution").as_object().at("index").to_number<uint64_t>();
  // Below it, blocks of every shard: the merge has something to fold.
  ASSERT_GE(failing, 12u) << "pick a seed whose search fails later";
  ASSERT_FALSE(whole.replay_file.empty());
  expect_same(whole, merge(all_shards(kFailing, 4, 3)), "4 shards, blocks of 3");
  // Another split, in another order, two jobs per shard: the same result.
  std::vector<std::string> files = all_shards(kFailing, 3, 5, 2);
  std::reverse(files.begin(), files.end());
  expect_same(whole, merge(files), "3 shards, blocks of 5, --jobs 2, merged in reverse");
}

TEST_F(ShardMerge, FourShardsOfACleanSearchMergeIntoTheUnshardedResult) {
  const Search whole = unsharded(kClean);
  ASSERT_EQ(whole.result.exit_code, 0) << whole.result.err;
  EXPECT_EQ(whole.summary.at("executions").to_number<uint64_t>(), 40u);
  expect_same(whole, merge(all_shards(kClean, 4, 3)), "4 shards, blocks of 3");
  // More shards than blocks: some shards run nothing, the merge still holds.
  expect_same(whole, merge(all_shards(kClean, 5, 16)), "5 shards, blocks of 16");
}

TEST_F(ShardMerge, AMissingDuplicateOrForeignShardIsRefused) {
  const std::vector<std::string> files = all_shards(kClean, 4, 3);
  const Search missing = merge({files[0], files[1], files[3]});
  EXPECT_EQ(missing.result.exit_code, 2);
  EXPECT_THAT(missing.result.err, HasSubstr("shard 2/4 is missing"));
  const Search twice = merge({files[0], files[1], files[2], files[3], files[1]});
  EXPECT_EQ(twice.result.exit_code, 2);
  EXPECT_THAT(twice.result.err, HasSubstr("shard 1/4 is given twice"));
  std::vector<std::string> other = kClean;
  other.back() = "6";  // --seed 6: another search
  const std::string foreign = shard(other, 2, 4, 3);
  const Search mixed = merge({files[0], files[1], foreign, files[3]});
  EXPECT_EQ(mixed.result.exit_code, 2);
  EXPECT_THAT(mixed.result.err, HasSubstr("are not shards of one search"));
  const std::string block5 = shard(kClean, 2, 4, 5);
  const Search blocks = merge({files[0], files[1], block5, files[3]});
  EXPECT_EQ(blocks.result.exit_code, 2);
  EXPECT_THAT(blocks.result.err, HasSubstr("are not shards of one search"));
  const Search garbage = merge({files[0], files[1], HVO_STRESS_BINARY, files[3]});
  EXPECT_EQ(garbage.result.exit_code, 2);
  EXPECT_THAT(garbage.result.err, HasSubstr("not a shard result"));
}

// A shard stopped by a signal before the executions the result needs
// makes no result; one stopped after them does not matter.
TEST_F(ShardMerge, AShardIncompleteWhereItMattersIsRefused) {
  const std::vector<std::string> files = all_shards(kClean, 4, 3);
  json::object cut = json::parse(read_file(files[1])).as_object();
  json::array& blocks = cut["blocks"].as_array();
  blocks.erase(blocks.begin() + 1, blocks.end());
  cut["interrupted"] = true;
  const std::string cut_file = dir_ + "/cut.json";
  std::ofstream(cut_file) << json::serialize(cut);
  const Search clean = merge({files[0], cut_file, files[2], files[3]});
  EXPECT_EQ(clean.result.exit_code, 2);
  EXPECT_THAT(clean.result.err, HasSubstr("stopped by a signal before execution 15"));
  EXPECT_THAT(clean.result.err, HasSubstr("run that shard again"));
  // Claiming to be whole while missing blocks is a broken file.
  cut["interrupted"] = false;
  std::ofstream(cut_file) << json::serialize(cut);
  const Search broken = merge({files[0], cut_file, files[2], files[3]});
  EXPECT_EQ(broken.result.exit_code, 2);
  EXPECT_THAT(broken.result.err, HasSubstr("did not run all its blocks"));
}

TEST_F(ShardMerge, TheShardComesFromSlurmOrKubernetesWhenTheFlagIsAbsent) {
  std::vector<std::string> args = kClean;
  args.insert(args.end(), {"--shard-block", "3", "--json", "--out", dir_ + "/env"});
  std::vector<std::string> files;
  // Slurm: --array=1-2 numbers the tasks from SLURM_ARRAY_TASK_MIN.
  for (const char* id : {"1", "2"}) {
    const testing::RunResult r = hvo_stress(
        args, Env({std::string("SLURM_ARRAY_TASK_ID=") + id, "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN=1"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    files.push_back(std::string(json::parse(r.out).as_object().at("result_file").as_string()));
  }
  // Kubernetes: the index from the job, the count given once.
  std::vector<std::string> with_count = args;
  with_count.insert(with_count.end(), {"--shard-count", "4"});
  const testing::RunResult k8s = hvo_stress(with_count, Env({"JOB_COMPLETION_INDEX=2"}));
  ASSERT_EQ(k8s.exit_code, 0) << k8s.err;
  files.push_back(std::string(json::parse(k8s.out).as_object().at("result_file").as_string()));
  const testing::RunResult k8s_env = hvo_stress(args, Env({"JOB_COMPLETION_INDEX=3", "HVO_SHARD_COUNT=4"}));
  ASSERT_EQ(k8s_env.exit_code, 0) << k8s_env.err;
  files.push_back(std::string(json::parse(k8s_env.out).as_object().at("result_file").as_string()));
  for (size_t k = 0; k < files.size(); ++k) EXPECT_THAT(files[k], HasSubstr("shard-" + std::to_string(k) + "-of-4"));
  expect_same(unsharded(kClean), merge(files), "shards from the environment");
}

TEST_F(ShardMerge, BadShardsAreUsageErrors) {
  std::vector<std::string> args = kClean;
  args.insert(args.end(), {"--out", dir_ + "/bad"});
  auto expect_usage = [&](std::vector<std::string> extra, const Env& env, const std::string& message) {
    std::vector<std::string> a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    const testing::RunResult r = hvo_stress(a, env);
    EXPECT_EQ(r.exit_code, 2) << message << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
  };
  for (const char* bad : {"4/4", "1", "a/4", "1/0", "-1/4", "1/4x", "/4"})
    expect_usage({"--shard", bad}, Env(), "is not K/N");
  expect_usage({"--shard", "1/4", "--shard-count", "4"}, Env(), "--shard K/N names the count");
  expect_usage({"--shard-block", "3"}, Env(), "needs a shard");
  expect_usage({"--shard", "1/4", "--shard-block", "0"}, Env(), "--shard-block");
  expect_usage({}, Env({"SLURM_ARRAY_TASK_ID=4", "SLURM_ARRAY_TASK_COUNT=4"}), "SLURM_ARRAY_TASK_ID=4 is not one of");
  expect_usage({}, Env({"SLURM_ARRAY_TASK_ID=x", "SLURM_ARRAY_TASK_COUNT=4"}), "SLURM_ARRAY_TASK_ID='x'");
  expect_usage({}, Env({"SLURM_ARRAY_TASK_ID=1"}), "SLURM_ARRAY_TASK_COUNT is not");
  expect_usage({}, Env({"JOB_COMPLETION_INDEX=1"}), "--shard-count N or HVO_SHARD_COUNT");
  expect_usage({}, Env({"JOB_COMPLETION_INDEX=4", "HVO_SHARD_COUNT=4"}), "is not below the shard count 4");
  expect_usage({"--shard-count", "4"}, Env(), "needs JOB_COMPLETION_INDEX");
  // PCT's k and the bounded walk depend on every earlier execution.
  std::vector<std::string> pct = kClean;
  std::replace(pct.begin(), pct.end(), std::string("random"), std::string("pct"));
  pct.insert(pct.end(), {"--shard", "1/4", "--out", dir_ + "/bad"});
  const testing::RunResult p = hvo_stress(pct);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_THAT(p.err, HasSubstr("needs --strategy random (the strategy is pct)"));
  const testing::RunResult free_mode =
      hvo_stress({"run", "--model", "v17", "--iterations", "10", "--shard", "1/4"});
  EXPECT_EQ(free_mode.exit_code, 2);
  EXPECT_THAT(free_mode.err, HasSubstr("--shard: needs --mode controlled"));
  const testing::RunResult none = hvo_stress({"merge"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("missing RESULT"));
}

}  // namespace
}  // namespace hvo::cli
