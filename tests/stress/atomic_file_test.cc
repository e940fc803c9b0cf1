// The I/O a finding depends on, in-process: exclusive atomic creation
// (stress/atomic_file.h), finding names, input files that are not regular
// files, the host-memory estimate and the shared configuration rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "engine/machine.h"
#include "models/registry.h"
#include "stress/atomic_file.h"
#include "stress/config_check.h"
#include "stress/finding_writer.h"
#include "stress/host_memory.h"
#include "stress/race_catalogue.h"
#include "stress/replay_file.h"

namespace hvo::stress {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("hvo-atomic-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) n.push_back(e.path().filename().string());
    std::sort(n.begin(), n.end());
    return n;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string dir_;
};

TEST_F(AtomicFileTest, ASecondFileOfTheSameNameTakesTheNextSuffixAndNothingIsReplaced) {
  const AtomicWriteResult a = write_new_file(dir_, "finding-x", ".json", "first\n");
  const AtomicWriteResult b = write_new_file(dir_, "finding-x", ".json", "second\n");
  const AtomicWriteResult c = write_new_file(dir_, "finding-x", ".json", "third\n");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.error << b.error << c.error;
  EXPECT_EQ(a.path, dir_ + "/finding-x.json");
  EXPECT_EQ(b.path, dir_ + "/finding-x-2.json");
  EXPECT_EQ(c.path, dir_ + "/finding-x-3.json");
  EXPECT_EQ(read(a.path), "first\n");
  EXPECT_EQ(read(b.path), "second\n");
  EXPECT_EQ(read(c.path), "third\n");
  // No temporary is left beside them.
  EXPECT_EQ(names(), (std::vector<std::string>{"finding-x-2.json", "finding-x-3.json", "finding-x.json"}));
  struct stat st {};
  ASSERT_EQ(stat(a.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "readable by whoever collects the findings";
}

TEST_F(AtomicFileTest, WriteAtAnExistingPathFailsAndKeepsTheFile) {
  ASSERT_TRUE(write_new_file_at(dir_ + "/min.json", "kept").ok());
  const AtomicWriteResult again = write_new_file_at(dir_ + "/min.json", "lost");
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(again.error, HasSubstr("File exists"));
  EXPECT_EQ(read(dir_ + "/min.json"), "kept");
  EXPECT_EQ(names(), std::vector<std::string>{"min.json"});
}

TEST_F(AtomicFileTest, ConcurrentWritersOfOneNameAllKeepTheirFiles) {
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::vector<std::vector<AtomicWriteResult>> results(kThreads);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        results[t].push_back(write_new_file(dir_, "same", ".json", std::to_string(t * 1000 + i)));
    });
  for (std::thread& t : threads) t.join();
  std::set<std::string> contents;
  for (const auto& rs : results)
    for (const AtomicWriteResult& r : rs) {
      ASSERT_TRUE(r.ok()) << r.error;
      contents.insert(read(r.path));
    }
  EXPECT_EQ(contents.size(), size_t{kThreads * kEach}) << "every write kept under a name of its own";
  EXPECT_EQ(names().size(), size_t{kThreads * kEach});
}

// A full disk without root: RLIMIT_FSIZE makes write() fail with EFBIG
// (SIGXFSZ ignored) past the limit, as ENOSPC would.
TEST_F(AtomicFileTest, AFailedWriteLeavesNoFileAndSaysWhy) {
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const AtomicWriteResult r = write_new_file(dir_, "big", ".json", std::string(100000, 'x'));
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.path.empty());
  EXPECT_THAT(r.error, HasSubstr("File too large"));
  EXPECT_THAT(r.error, HasSubstr("nothing was saved"));
  EXPECT_THAT(names(), IsEmpty()) << "neither the final name nor the temporary is left";
}

TEST_F(AtomicFileTest, CheckCanCreateCreatesNothingAndGivesTheReason) {
  EXPECT_EQ(check_can_create(dir_ + "/new.json"), "");
  EXPECT_THAT(check_can_create(dir_ + "/missing/new.json"), HasSubstr("No such file or directory"));
  ASSERT_TRUE(write_new_file_at(dir_ + "/taken.json", "x").ok());
  EXPECT_THAT(check_can_create(dir_ + "/taken.json"), HasSubstr("never overwritten"));
  EXPECT_EQ(prepare_directory(dir_ + "/sub/dir"), "");
  EXPECT_THAT(prepare_directory(dir_ + "/taken.json"), HasSubstr("taken.json"));
  EXPECT_EQ(names(), (std::vector<std::string>{"sub", "taken.json"}));
  EXPECT_THAT(std::filesystem::directory_iterator(dir_ + "/sub/dir") == std::filesystem::directory_iterator(),
              true)
      << "no write-test file";
}

TEST_F(AtomicFileTest, InputFilesThatAreNotRegularAreRefusedWithoutBlocking) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(read_input_file(fifo, 1000).error, HasSubstr("a FIFO"));  // would block forever if opened blocking
  EXPECT_THAT(read_input_file("/dev/zero", 1000).error, HasSubstr("a device"));
  EXPECT_THAT(read_input_file(dir_, 1000).error, HasSubstr("directory"));
  EXPECT_THAT(read_input_file(dir_ + "/none", 1000).error, HasSubstr("No such file or directory"));
  const std::string big = dir_ + "/big.json";
  std::ofstream{big}.put('{');
  std::filesystem::resize_file(big, kMaxReplayFileBytes + 1);  // sparse: costs no disk
  EXPECT_THAT(read_replay_file(big), ::testing::VariantWith<std::string>(HasSubstr("larger than 64M")));
  ASSERT_TRUE(write_new_file_at(dir_ + "/ok.json", "{}").ok());
  EXPECT_EQ(read_input_file(dir_ + "/ok.json", 2).text, "{}");
  EXPECT_THAT(read_input_file(dir_ + "/ok.json", 1).error, HasSubstr("larger than"));
}

TEST(FindingName, EveryCatalogueEntryGetsItsOwnName) {
  std::set<std::string> stems;
  for (const RaceEntry& e : race_catalogue()) {
    const CampaignConfig c = race_config(e, false);
    const std::string stem = finding_stem(c, 1);
    EXPECT_TRUE(stems.insert(stem).second) << e.id << " shares " << stem;
    EXPECT_EQ(stem.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"),
              std::string::npos)
        << stem;
    EXPECT_LT(stem.size(), 220u);
  }
}

TEST(FindingName, AnyDefiningFlagChangesTheName) {
  CampaignConfig c;
  c.model = "v17";
  c.iterations = 100;
  const std::string base = finding_stem(c, 1);
  EXPECT_EQ(finding_stem(c, 1), base) << "stable";
  EXPECT_NE(finding_stem(c, 2), base);
  CampaignConfig d = c;
  d.check_every = 7;  // not among the words: only the hash tells them apart
  EXPECT_NE(finding_stem(d, 1), base);
  d = c;
  d.reverts.insert("raw-hwpoison");
  EXPECT_THAT(finding_stem(d, 1), HasSubstr("raw-hwpoison"));
}

TEST(HostMemory, TheEstimateCoversWhatABootedMachineHolds) {
  MachineConfig mc;
  mc.memory_bytes = uint64_t{4} << 30;
  const Machine m(mc);
  EXPECT_GE(estimate_host_bytes(mc.memory_bytes), m.summary().resident_bytes);
  EXPECT_LT(estimate_host_bytes(mc.memory_bytes), 2 * m.summary().resident_bytes + (uint64_t{16} << 20));
  EXPECT_GT(estimate_host_bytes(uint64_t{1} << 40), uint64_t{16} << 30);
}

TEST(HostMemory, TheLimitCanBeSetAndTheMessageGivesBothFigures) {
  ASSERT_EQ(setenv("HVO_STRESS_HOST_MEMORY_LIMIT", "64M", 1), 0);
  EXPECT_EQ(host_memory_limit(), uint64_t{64} << 20);
  EXPECT_EQ(check_host_memory(uint64_t{256} << 20, 1), "");
  const std::string err = check_host_memory(uint64_t{4} << 30, 1);
  EXPECT_THAT(err, HasSubstr("about 77 MiB"));  // 4G / 4 KiB x 69 bytes + 8 MiB
  EXPECT_THAT(err, HasSubstr("limit of 64 MiB"));
  EXPECT_THAT(check_host_memory(uint64_t{1} << 30, 8), HasSubstr("--jobs"));
  unsetenv("HVO_STRESS_HOST_MEMORY_LIMIT");
  const auto host = host_memory_limit();
  ASSERT_TRUE(host.has_value());
  EXPECT_GT(*host, 0u);
}

CampaignConfig controlled(std::string model) {
  CampaignConfig c;
  c.mode = CampaignMode::kControlled;
  c.model = std::move(model);
  c.iterations = 4;
  return c;
}

TEST(ConfigCheck, SeedRangesThatWrapAreRefused) {
  CampaignConfig c = controlled("v17");
  c.seed = UINT64_MAX;
  c.seeds = 1;
  EXPECT_EQ(check_campaign_config(c), "");
  c.seeds = 3;
  EXPECT_THAT(check_campaign_config(c), HasSubstr("runs past the last seed"));
  c.seed = UINT64_MAX - 2;
  EXPECT_EQ(check_campaign_config(c), "");
  c.seed = UINT64_MAX;
  c.strategy = sched::StrategyKind::kBounded;  // one scenario, one seed: no range
  EXPECT_EQ(check_campaign_config(c), "");
}

TEST(ConfigCheck, DemoteNeedsOneGigPagesAndAModelWithDemote) {
  CampaignConfig c;
  c.model = "v6.10";
  c.iterations = 10;
  c.workload = "demote";
  EXPECT_THAT(check_campaign_config(c), HasSubstr("--hugepage-size 1G"));
  c.hstate = kHstate1G;
  EXPECT_EQ(check_campaign_config(c), "");
  c.model = "v17";
  EXPECT_THAT(check_campaign_config(c), HasSubstr("has none"));
}

TEST(ConfigCheck, ValuesAFileCanHoldButNoFlagCanGiveAreRefused) {
  CampaignConfig c = controlled("v17");
  c.seeds = 0;
  EXPECT_THAT(check_campaign_config(c), HasSubstr("--seeds 0 is out of range"));
  c = controlled("v17");
  c.max_steps = 0;
  EXPECT_THAT(check_campaign_config(c), HasSubstr("--max-steps"));
  c = controlled("v17");
  c.iterations = 0;
  EXPECT_NE(check_campaign_config(c), "");
}

// ModelInfo::demote is what the refusal above trusts: it must say what
// the model does.
TEST(ConfigCheck, ModelInfoDemoteMatchesTheModel) {
  MachineConfig mc;
  mc.memory_bytes = uint64_t{64} << 20;
  for (const ModelInfo* info : all_models()) {
    Machine m(mc);
    auto made = make_model(info->name, {}, m);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Model>>(made)) << info->name;
    EXPECT_EQ(info->demote, std::get<std::unique_ptr<Model>>(made)->demote_ops() != nullptr) << info->name;
  }
}

}  // namespace
}  // namespace hvo::stress
