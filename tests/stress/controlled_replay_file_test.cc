// Replay files that are not what `run` wrote: corrupt, truncated, foreign,
// from another version, naming what this build does not know. Each exits 2
// with a message naming the file, never a crash. And free-mode findings,
// which replay re-runs (not exactly).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "stress/campaign_json.h"
#include "stress/replay_file.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

class ControlledReplayFile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::temp_directory_path() / ("hvo-stress-replay-file-" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir_);
    const auto r = hvo_stress({"run", "--mode", "controlled", "--model", "v17", "--revert", "raw-hwpoison",
                               "--workload", "hwpoison", "--seed", "1", "--seeds", "200", "--json", "--out", dir_});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    const json::object o = json::parse(r.out).as_object();
    file_ = std::string(o.at("replay_files").as_array().at(0).as_string());
    std::ifstream in(file_);
    std::ostringstream s;
    s << in.rdbuf();
    text_ = s.str();
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::string write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }
  // The real file with one field of the top level (or of "config") replaced.
  static std::string with(const std::string& key, const json::value& v, bool in_config = false) {
    json::object o = json::parse(text_).as_object();
    (in_config ? o.at("config").as_object() : o)[key] = v;
    return json::serialize(o);
  }
  static void expect_rejected(const std::string& path, const std::string& why) {
    const auto r = hvo_stress({"replay", path});
    EXPECT_EQ(r.exit_code, 2) << why << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(path)) << why;
    const auto m = hvo_stress({"minimize", path, "--out", dir_ + "/never.json"});
    EXPECT_EQ(m.exit_code, 2) << why << " (minimize): " << m.err;
  }

  static inline std::string dir_, file_, text_;
};

TEST_F(ControlledReplayFile, TheRealFileReadsBack) {
  const auto f = stress::read_replay_file(file_);
  ASSERT_TRUE(std::holds_alternative<stress::ReplayFile>(f)) << std::get<std::string>(f);
  const stress::ReplayFile& r = std::get<stress::ReplayFile>(f);
  EXPECT_EQ(r.config.mode, stress::CampaignMode::kControlled);
  EXPECT_EQ(r.config.model, "v17");
  EXPECT_FALSE(r.decisions.empty());
  EXPECT_EQ(r.verdict, "violation");
  // Written again, it is the same file.
  EXPECT_EQ(json::serialize(stress::to_json(r)) + "\n", text_);
}

TEST_F(ControlledReplayFile, EveryTruncationIsRejectedWithExit2) {
  ASSERT_GT(text_.size(), 200u);
  // Every 50th byte, through the library and the CLI.
  for (size_t n = 0; n + 1 < text_.size(); n += 50) {
    const std::string path = write("cut.json", text_.substr(0, n));
    const auto f = stress::read_replay_file(path);
    EXPECT_TRUE(std::holds_alternative<std::string>(f)) << "cut at " << n;
    const auto r = hvo_stress({"replay", path});
    EXPECT_EQ(r.exit_code, 2) << "cut at " << n << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(path)) << "cut at " << n;
  }
  // minimize reads the same way, on a sample.
  for (size_t n = 0; n + 1 < text_.size(); n += 50 * 37)
    expect_rejected(write("cut" + std::to_string(n) + ".json", text_.substr(0, n)), "cut at " + std::to_string(n));
}

TEST_F(ControlledReplayFile, ForeignAndCorruptFilesExit2) {
  expect_rejected(dir_ + "/does-not-exist.json", "missing file");
  expect_rejected(dir_, "a directory");
  expect_rejected(write("empty.json", ""), "empty");
  expect_rejected(write("binary.json", std::string("\x00\xff\x13{", 4)), "binary");
  expect_rejected(write("array.json", "[1,2,3]"), "not an object");
  expect_rejected(write("format.json", with("format", "something-else")), "wrong format");
  expect_rejected(write("version.json", with("version", 99)), "wrong version");
  expect_rejected(write("mode.json", with("mode", "psychic")), "unknown mode");
  expect_rejected(write("model.json", with("model", "v99", true)), "unknown model");
  expect_rejected(write("revert.json", with("reverts", json::array{"no-such-fix"}, true)), "unknown revert");
  expect_rejected(write("workload.json", with("workload", "nope", true)), "unknown workload");
  expect_rejected(write("threads.json", with("threads", 0, true)), "zero threads");
  expect_rejected(write("decisions.json", with("decisions", json::array{json::array{5, 9}})), "decision for cpu 9");
  expect_rejected(write("order.json", with("decisions", json::array{json::array{5, 1}, json::array{3, 0}})),
                  "decisions out of order");
  expect_rejected(write("hash.json", with("trace_hash", "0xZZ")), "bad trace hash");
  expect_rejected(write("seed.json", with("seed", -4)), "negative seed");
  const auto r = hvo_stress({"replay", write("version2.json", with("version", 2))});
  EXPECT_THAT(r.err, HasSubstr("version"));
}

TEST_F(ControlledReplayFile, ADifferentScheduleDivergesOrDiffers) {
  // One decision moved to a step where the other CPU is not runnable, or
  // that is not the recorded execution: the replay says so.
  json::object o = json::parse(text_).as_object();
  json::array& ds = o.at("decisions").as_array();
  ds.erase(ds.begin());
  const auto r = hvo_stress({"replay", write("moved.json", json::serialize(o)), "--json"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const json::object p = json::parse(r.out).as_object();
  EXPECT_FALSE(p.at("reproduced").as_bool());
  EXPECT_TRUE(p.at("diverged").as_bool());
}

TEST_F(ControlledReplayFile, FreeModeFindingsAreReRunNotExactly) {
  stress::CampaignConfig c;
  c.model = "v17";
  c.iterations = 2000;
  c.seed = 3;
  Violation v;
  v.kind = ViolationKind::kRoTailWrite;
  const std::string path = write("free.json", json::serialize(stress::replay_json(c, v)));
  const auto r = hvo_stress({"replay", path, "--json"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("mode").as_string(), "free");
  EXPECT_FALSE(o.at("exact").as_bool());
  const auto text = hvo_stress({"replay", path});
  EXPECT_THAT(text.out, HasSubstr("NOT an exact replay"));
  const auto m = hvo_stress({"minimize", path});
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_THAT(m.err, HasSubstr(path));
}

}  // namespace
}  // namespace hvo::cli
