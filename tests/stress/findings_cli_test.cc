// Issue 13 as a CI job sees hvo-stress: findings never lost or overwritten
// (unique names, two processes on one --out, a full disk), SIGINT/SIGTERM
// ending a campaign with its partial summary, hostile inputs and flags that
// cannot apply refused with exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "stress/exit_code.h"
#include "stress/replay_file.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

// The parent's environment plus `extra` ("NAME=value").
class Env {
 public:
  explicit Env(const std::string& extra) {
    for (char** e = environ; *e != nullptr; ++e) strings_.emplace_back(*e);
    strings_.push_back(extra);
    for (std::string& s : strings_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  [[nodiscard]] char* const* get() const { return ptrs_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> ptrs_;
};

class FindingsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("hvo-findings-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Every file in `dir` but the HTML reports written beside a finding
  // (FILE.html next to FILE.json): a temporary or partial file left behind
  // still shows up here.
  [[nodiscard]] std::vector<std::string> files(const std::string& dir) const {
    std::vector<std::string> n;
    if (!std::filesystem::exists(dir)) return n;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::filesystem::path p = e.path();
      if (p.extension() == ".html" && std::filesystem::exists(std::filesystem::path(p).replace_extension(".json")))
        continue;
      n.push_back(p.string());
    }
    std::sort(n.begin(), n.end());
    return n;
  }
  static void expect_valid_replay_file(const std::string& path) {
    const auto f = stress::read_replay_file(path);
    EXPECT_TRUE(std::holds_alternative<stress::ReplayFile>(f))
        << path << ": " << (f.index() == 1 ? std::get<std::string>(f) : "");
  }

  std::string dir_;
};

TEST_F(FindingsCli, ThreeRacesWithOneSeedLeaveThreeFiles) {
  const std::string out = dir_ + "/out";
  std::set<std::string> saved;
  for (const char* race : {"v7.1/unlocked-split", "v7.1/flush-before-free", "v7.1/32c877191e02"}) {
    const auto r = hvo_stress({"run", "--race", race, "--seed", "1", "--out", out, "--json"});
    ASSERT_EQ(r.exit_code, 1) << race << ": " << r.err;
    const json::object o = json::parse(r.out).as_object();
    ASSERT_EQ(o.at("replay_files").as_array().size(), 1u) << race;
    const std::string file(o.at("replay_files").as_array()[0].as_string());
    EXPECT_THAT(r.err, HasSubstr("saved " + file));
    saved.insert(file);
  }
  EXPECT_EQ(saved.size(), 3u);
  const auto left = files(out);
  ASSERT_EQ(left.size(), 3u);
  for (const std::string& f : left) {
    EXPECT_TRUE(saved.count(f)) << f;
    expect_valid_replay_file(f);
  }
}

TEST_F(FindingsCli, TheSameCampaignTwiceKeepsBothFindings) {
  const std::string out = dir_ + "/out";
  const std::vector<std::string> args = {"run", "--model", "v17", "--revert", "raw-hwpoison", "--mode", "controlled",
                                         "--seed", "1", "--out", out};
  ASSERT_EQ(hvo_stress(args).exit_code, 1);
  ASSERT_EQ(hvo_stress(args).exit_code, 1);
  const auto left = files(out);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_THAT(left[0], HasSubstr("-2.json")) << "the second takes the next suffix";
}

// Two processes, one configuration, one --out, at the same moment: the
// name is the same, so exactly one link() wins and the other takes -2.
TEST_F(FindingsCli, TwoConcurrentProcessesLeaveTwoValidFilesEveryTime) {
  const std::string out = dir_ + "/out";
  constexpr int kPairs = 10;
  for (int i = 0; i < kPairs; ++i) {
    const std::vector<std::string> args = {"run",  "--model", "v17", "--revert", "raw-hwpoison", "--mode",
                                           "controlled", "--seed", "1",  "--out", out};
    testing::Child a(HVO_STRESS_BINARY, args), b(HVO_STRESS_BINARY, args);
    const auto ra = a.wait(), rb = b.wait();
    ASSERT_EQ(ra.exit_code, 1) << ra.err;
    ASSERT_EQ(rb.exit_code, 1) << rb.err;
    EXPECT_THAT(ra.err, HasSubstr("saved "));
    EXPECT_THAT(rb.err, HasSubstr("saved "));
  }
  const auto left = files(out);
  ASSERT_EQ(left.size(), size_t{2 * kPairs});
  for (const std::string& f : left) expect_valid_replay_file(f);
}

// A disk that fills mid-write, without root: the campaign runs under
// `ulimit -f` with SIGXFSZ ignored, so the finding's write fails with
// EFBIG. Its output goes through a pipe, which the limit does not touch.
TEST_F(FindingsCli, AFailedWriteLeavesNoPartialFileSaysWhyAndGivesTheCommand) {
  const std::string out = dir_ + "/out";
  const std::string script = "{ ( ulimit -f 8; trap '' XFSZ; exec " + std::string(HVO_STRESS_BINARY) +
                             " run --race v7.1/32c877191e02 --seed 1 --out " + out + " ) 2>&1; echo \"exit=$?\"; } | cat";
  const auto r = testing::run_program("/bin/sh", {"-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("exit=1")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("finding not saved"));
  EXPECT_THAT(r.out, HasSubstr("File too large"));
  EXPECT_THAT(r.out, HasSubstr("run it again with: hvo-stress run --model v7.1"));
  EXPECT_THAT(r.out, Not(HasSubstr("saved " + out)));
  EXPECT_TRUE(files(out).empty()) << "no partial finding, no temporary, no write-test file";
}

TEST_F(FindingsCli, ACleanRunLeavesNoWriteTestFileInOut) {
  const std::string out = dir_ + "/out";
  const auto r = hvo_stress({"run", "--model", "v17", "--mode", "controlled", "--seeds", "3", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_directory(out));
  EXPECT_TRUE(files(out).empty());
}

TEST_F(FindingsCli, AnOutThatIsAFileIsRefusedWithTheReason) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/file") << "x";
  const auto r = hvo_stress({"run", "--model", "v17", "--iterations", "10", "--seed", "1", "--out", dir_ + "/file"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--out"));
  EXPECT_THAT(r.err, HasSubstr("Not a directory"));
}

// Waits until the child's stderr holds `text` (the campaign has started).
bool wait_for_stderr(const testing::Child& c, const std::string& text) {
  for (int i = 0; i < 300; ++i) {
    if (c.err_so_far().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(FindingsCli, SigtermStopsAFreeCampaignWithItsSeedAndPartialJsonSummary) {
  testing::Child c(HVO_STRESS_BINARY,
                   {"run", "--model", "v17", "--duration", "1h", "--out", dir_ + "/out", "--json"});
  ASSERT_TRUE(wait_for_stderr(c, "hvo-stress: seed ")) << "the drawn seed is printed when the campaign starts";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(c.pid(), SIGTERM), 0);
  const auto r = c.wait();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 143) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_TRUE(o.at("interrupted").as_bool());
  EXPECT_GT(o.at("stats").as_object().at("operations").to_number<uint64_t>(), 0u);
  EXPECT_THAT(r.err, HasSubstr("--seed " + std::to_string(o.at("seed").to_number<uint64_t>())));
}

TEST_F(FindingsCli, SigintStopsAControlledCampaignOnTwoJobsWithItsTextSummary) {
  testing::Child c(HVO_STRESS_BINARY, {"run", "--model", "v17", "--mode", "controlled", "--seeds", "1000000",
                                       "--jobs", "2", "--out", dir_ + "/out"});
  ASSERT_TRUE(wait_for_stderr(c, "hvo-stress: seed "));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(kill(c.pid(), SIGINT), 0);
  const auto r = c.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_THAT(r.out, HasSubstr("executions "));
  EXPECT_THAT(r.out, HasSubstr("interrupted     by a signal"));
}

TEST_F(FindingsCli, SigtermStopsASequentialControlledCampaign) {
  testing::Child c(HVO_STRESS_BINARY, {"run", "--model", "v17", "--mode", "controlled", "--strategy", "pct",
                                       "--seeds", "1000000", "--out", dir_ + "/out", "--json"});
  ASSERT_TRUE(wait_for_stderr(c, "hvo-stress: seed "));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(kill(c.pid(), SIGTERM), 0);
  const auto r = c.wait();
  EXPECT_EQ(r.exit_code, 143) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_TRUE(o.at("interrupted").as_bool());
  EXPECT_LT(o.at("executions").to_number<uint64_t>(), 1000000u);
}

// One execution of millions of operations: the first SIGINT waits for it
// to end (executions run whole), the second ends the process at once,
// with no summary.
TEST_F(FindingsCli, ASecondSignalEndsTheProcessAtOnce) {
  testing::Child c(HVO_STRESS_BINARY, {"run", "--model", "v17", "--mode", "controlled", "--iterations", "10000000",
                                       "--max-steps", "1099511627776", "--seeds", "1", "--out", dir_ + "/out"});
  ASSERT_TRUE(wait_for_stderr(c, "hvo-stress: seed "));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(kill(c.pid(), SIGINT), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(c.pid(), SIGINT), 0);
  const auto r = c.wait();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_EQ(r.out, "") << "no summary: it ended at once";
}

TEST_F(FindingsCli, ACompleteCampaignIsNotMarkedInterrupted) {
  const auto r = hvo_stress({"run", "--model", "v17", "--iterations", "2000", "--seed", "3", "--out", dir_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(json::parse(r.out).as_object().at("interrupted").as_bool());
  EXPECT_THAT(r.err, Not(HasSubstr("(drawn;"))) << "a given seed is not announced as drawn";
}

TEST_F(FindingsCli, ReplayAndMinimizeRefuseWhatIsNotARegularFile) {
  std::filesystem::create_directories(dir_);
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string cmd : {"replay", "minimize"}) {
    for (const auto& [path, why] : std::vector<std::pair<std::string, std::string>>{
             {fifo, "a FIFO"}, {"/dev/zero", "a device"}, {dir_, "directory"}}) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = hvo_stress({cmd, path});
      EXPECT_EQ(r.exit_code, 2) << cmd << " " << path << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr(why)) << cmd;
      EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "never blocks or reads on";
    }
  }
}

TEST_F(FindingsCli, AMachineBeyondTheHostMemoryLimitIsRefusedBeforeItBoots) {
  const Env env("HVO_STRESS_HOST_MEMORY_LIMIT=1G");
  const std::vector<std::vector<std::string>> commands = {
      {"describe", "--memory", "1T"},
      {"pool", "--model", "v17", "--count", "1", "--memory", "1T"},
      {"run", "--model", "v17", "--iterations", "10", "--memory", "1T", "--out", dir_},
      {"run", "--model", "v17", "--mode", "controlled", "--memory", "64G", "--out", dir_},
  };
  for (const auto& args : commands) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = testing::run_program(HVO_STRESS_BINARY, args, env.get());
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("of host memory, above the limit of 1 GiB")) << args[0];
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3)) << args[0];
  }
  // --jobs multiplies it: eight 256M machines fit 1G, sixty-four do not.
  const auto jobs = testing::run_program(
      HVO_STRESS_BINARY, {"run", "--model", "v17", "--mode", "controlled", "--memory", "1G", "--jobs", "64", "--out", dir_},
      env.get());
  EXPECT_EQ(jobs.exit_code, 2);
  EXPECT_THAT(jobs.err, HasSubstr("fewer --jobs"));
}

struct Conflict {
  std::vector<std::string> args;
  std::string message;
};

class FlagConflictTest : public ::testing::TestWithParam<Conflict> {};

TEST_P(FlagConflictTest, ExitsTwoNamingTheConflict) {
  const auto r = hvo_stress(GetParam().args);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Issue13, FlagConflictTest,
    ::testing::Values(
        Conflict{{"run", "--model", "v17", "--mode", "controlled", "--depth", "2"},
                 "--depth: is for --strategy pct (the strategy is random)"},
        Conflict{{"run", "--model", "v17", "--mode", "controlled", "--strategy", "bounded", "--depth", "2"},
                 "--depth: is for --strategy pct"},
        Conflict{{"run", "--model", "v17", "--mode", "controlled", "--strategy", "pct", "--preemptions", "1"},
                 "--preemptions: is for --strategy bounded (the strategy is pct)"},
        Conflict{{"run", "--model", "v6.10", "--workload", "demote"}, "needs --hugepage-size 1G"},
        Conflict{{"run", "--model", "v17", "--workload", "demote", "--hugepage-size", "1G"},
                 "model v17 has none"},
        Conflict{{"run", "--model", "v7.1", "--workload", "demote", "--hugepage-size", "1G", "--mode", "controlled"},
                 "model v7.1 has none"},
        Conflict{{"run", "--model", "v17", "--mode", "controlled", "--seed", "18446744073709551615", "--seeds", "3"},
                 "runs past the last seed"},
        Conflict{{"run", "--model", "v17", "--mode", "controlled", "--seed", "18446744073709551614", "--seeds", "3"},
                 "at most --seeds 2"}));

// A replay file holding what `run` refuses is refused the same way.
TEST_F(FindingsCli, ReplayAppliesRunsValidation) {
  const std::string out = dir_ + "/out";
  const auto r = hvo_stress({"run", "--model", "v17", "--revert", "raw-hwpoison", "--mode", "controlled", "--seed",
                             "1", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string file(json::parse(r.out).as_object().at("replay_files").as_array()[0].as_string());
  std::ifstream in(file);
  json::object o = json::parse(std::string(std::istreambuf_iterator<char>(in), {})).as_object();
  const auto bad = [&](const char* key, json::value v, const char* message) {
    json::object copy = o;
    copy.at("config").as_object()[key] = std::move(v);
    const std::string path = dir_ + "/bad-" + key + ".json";
    std::ofstream(path) << json::serialize(copy);
    for (const char* cmd : {"replay", "minimize"}) {
      const auto x = hvo_stress({cmd, path});
      EXPECT_EQ(x.exit_code, 2) << cmd << " " << key << ": " << x.err;
      EXPECT_THAT(x.err, HasSubstr(message)) << cmd << " " << key;
    }
  };
  bad("seeds", 0, "--seeds 0 is out of range");
  bad("seed", json::value(UINT64_MAX), "runs past the last seed");
  bad("max_steps", json::value(uint64_t{1} << 41), "--max-steps");
}

TEST_F(FindingsCli, MinimizeChecksOutBeforeItStartsAndKeepsToMaxReplays) {
  const std::string out = dir_ + "/out";
  const auto r = hvo_stress({"run", "--model", "v17", "--revert", "raw-hwpoison", "--mode", "controlled", "--seed",
                             "1", "--threads", "3", "--iterations", "6", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string file(json::parse(r.out).as_object().at("replay_files").as_array()[0].as_string());

  const auto t0 = std::chrono::steady_clock::now();
  const auto missing = hvo_stress({"minimize", file, "--out", dir_ + "/no/such/dir/min.json"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("No such file or directory"));
  const auto exists = hvo_stress({"minimize", file, "--out", file});
  EXPECT_EQ(exists.exit_code, 2);
  EXPECT_THAT(exists.err, HasSubstr("never overwritten"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "refused before any work";

  for (const uint64_t max : {1u, 5u, 40u}) {
    const std::string min = dir_ + "/min-" + std::to_string(max) + ".json";
    const auto m = hvo_stress({"minimize", file, "--out", min, "--max-replays", std::to_string(max), "--json"});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    const json::object o = json::parse(m.out).as_object();
    EXPECT_LE(o.at("candidates").to_number<uint64_t>(), max);
    EXPECT_EQ(o.at("out").as_string(), min);
    expect_valid_replay_file(min);
  }
}

// On a terminal (script(1) gives it one) minimize draws a progress line;
// into a file or pipe it does not (the test above, and every CI log).
TEST_F(FindingsCli, MinimizeDrawsAProgressLineOnATerminalOnly) {
  if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "script(1) is not installed";
  const std::string out = dir_ + "/out";
  const auto r = hvo_stress({"run", "--model", "v17", "--revert", "raw-hwpoison", "--mode", "controlled", "--seed",
                             "1", "--threads", "3", "--iterations", "6", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string file(json::parse(r.out).as_object().at("replay_files").as_array()[0].as_string());
  const std::string cmd = std::string(HVO_STRESS_BINARY) + " minimize " + file + " --out " + dir_ +
                          "/tty.json --max-replays 200";
  const auto tty = testing::run_program("/usr/bin/script", {"-qec", cmd, "/dev/null"});
  EXPECT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_THAT(tty.out, HasSubstr("[hvo-stress] minimize"));
  EXPECT_THAT(tty.out, HasSubstr("/200"));
  const auto plain = hvo_stress({"minimize", file, "--out", dir_ + "/plain.json", "--max-replays", "200"});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_THAT(plain.err, Not(HasSubstr("[hvo-stress] minimize")));
}

TEST_F(FindingsCli, LongAndEmptyArgumentsAreNotEchoedWhole) {
  const std::string huge(100 * 1024, '7');  // a single argument may hold at most 128 KiB (MAX_ARG_STRLEN)
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run", "--model", "v17", "--seed", huge},
           {"run", "--model", "v17", "--duration", huge},
           {"run", "--model", "v17", "--memory", huge},
           {"run", "--model", huge},
           {"run", "--model", "v17", "--workload", huge},
           {"replay", huge},
           {huge},
       }) {
    const auto r = hvo_stress(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_LT(r.err.size(), 1200u) << args[0];
    EXPECT_THAT(r.err, HasSubstr("...")) << args[0];
  }
  const auto empty = hvo_stress({"run", "--model", "v17", "--workload", ""});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("--workload: an empty value is not one of"));
}

}  // namespace
}  // namespace hvo::cli
