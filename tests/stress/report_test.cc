// The report without a browser: escaping, the data-race message parse, the
// file next to the replay file, and every kind of bad input (exit 2 with a
// message naming what is wrong).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/sched/race_detector.h"
#include "stress/report.h"
#include "stress/report_html.h"
#include "stress/report_trace.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
namespace json = boost::json;

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

TEST(ReportHtml, EscapesTheFiveCharacters) {
  EXPECT_EQ(stress::html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(ReportHtml, ScriptJsonCannotCloseItsElementAndParsesBack) {
  const json::value v = json::object{{"m", "</script><!-- & >"}};
  const std::string s = stress::script_json(v);
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_EQ(json::parse(s), v);
}

TEST(ReportHtml, PageHasNoExternalResource) {
  std::string page = stress::render_report_html(json::object{{"mode", "free"}, {"file", "x.json"}});
  // The SVG namespace is a name, not a fetch.
  const std::string svg_ns = "'http://www.w3.org/2000/svg'";
  for (size_t at = page.find(svg_ns); at != std::string::npos; at = page.find(svg_ns)) page.erase(at, svg_ns.size());
  for (const char* bad : {"http://", "https://", "src=", "<link", "@import", "//fonts"})
    EXPECT_EQ(page.find(bad), std::string::npos) << bad;
  // url() only for the page's own SVG marker.
  EXPECT_EQ(page.find("url("), page.find("url(#arrow)"));
  EXPECT_EQ(page.find("url(", page.find("url(") + 1), std::string::npos);
}

// The report finds the racing steps in the race detector's message: this
// holds it to Race::describe()'s wording.
TEST(ReportTrace, ParsesTheRaceDetectorsMessage) {
  sched::Race race;
  race.word = 0x1000;
  race.earlier.cpu = 1;
  race.earlier.step = 33;
  race.later.cpu = 0;
  race.later.step = 126;
  const std::vector<stress::RaceAccess> a = stress::race_accesses(race.describe());
  ASSERT_EQ(a.size(), 2u) << race.describe();
  EXPECT_EQ(a[0].cpu, 1u);
  EXPECT_EQ(a[0].step, 33u);
  EXPECT_EQ(a[1].cpu, 0u);
  EXPECT_EQ(a[1].step, 126u);
  EXPECT_TRUE(stress::race_accesses("no race here").empty());
}

// Past its cap the log keeps the last steps (the violation is at the end)
// and the page's data says how many it dropped.
TEST(ReportTrace, TheLogKeepsTheLastStepsPastItsCap) {
  stress::StepLog log(10);
  for (unsigned i = 0; i < 25; ++i)
    log.add(stress::StepRecord{0, i % 2, stress::StepRecord::Kind::kPoint, SchedEvent::kPteStore, 0x1000, 0x2003, "op"});
  EXPECT_EQ(log.steps(), 25u);
  EXPECT_EQ(log.dropped(), 15u);
  EXPECT_EQ(log.records().front().step, 16u);
  const json::object t = stress::trace_json(log, 2, std::nullopt, 25, {});
  EXPECT_EQ(t.at("dropped").as_uint64(), 15u);
  EXPECT_EQ(t.at("steps").as_array().size(), 10u);
  EXPECT_EQ(t.at("steps").as_array().front().as_array().front().as_uint64(), 16u);
  const json::array& marks = t.at("marks").as_array();
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].as_object().at("role").as_string(), "seen");
}

TEST(ReportPath, IsBesideTheReplayFile) {
  EXPECT_EQ(stress::report_path_for("out/finding-1.json"), "out/finding-1.html");
  EXPECT_EQ(stress::report_path_for("out/finding"), "out/finding.html");
  EXPECT_EQ(stress::shell_quote("out/a.json"), "out/a.json");
  EXPECT_EQ(stress::shell_quote("it's here.json"), "'it'\\''s here.json'");
}

class ReportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("hvo-stress-report-" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  static void expect_usage_error(const std::vector<std::string>& args, const std::string& names) {
    const auto r = hvo_stress(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr(names));
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  }
  static std::string dir_;
};

std::string ReportCli::dir_;

TEST_F(ReportCli, BadInputOfEveryKindExits2) {
  expect_usage_error({"report", dir_ + "/missing.json"}, "missing.json: cannot open");
  expect_usage_error({"report", write("text.json", "hello")}, "not valid JSON");
  expect_usage_error({"report", write("other.json", R"({"format":"something-else","version":1})")},
                     "not an hvo-stress replay file");
  expect_usage_error({"report", dir_}, dir_);
  expect_usage_error({"report"}, "missing FILE");
  expect_usage_error({"report", "a.json", "b.json"}, "unexpected argument");
  expect_usage_error({"report", "a.json", "--frobnicate"}, "--frobnicate");
}

TEST_F(ReportCli, RunWritesTheReportBesideTheReplayFileAndReportRewritesIt) {
  const std::string out = dir_ + "/run";
  const auto r = hvo_stress({"run", "--race", "v17/plain-torn", "--json", "--out", out});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string file(json::parse(r.out).as_object().at("replay_files").as_array().at(0).as_string());
  const std::string html = stress::report_path_for(file);
  EXPECT_TRUE(fs::exists(html));
  EXPECT_THAT(r.err, HasSubstr("hvo-stress: report " + html));
  // An unwritable destination is the user's input: exit 2, nothing written.
  expect_usage_error({"report", file, "-o", dir_ + "/no/such/dir/r.html"}, "no/such/dir");
  expect_usage_error({"report", file, "-o", dir_}, "is a directory");
  expect_usage_error({"report", file, "-o", file}, "replay file itself");
  const auto again = hvo_stress({"report", file, "-o", dir_ + "/again.html"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, dir_ + "/again.html\n");
  std::ifstream in(dir_ + "/again.html");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(page, HasSubstr("<pre id=\"cmd-replay\">hvo-stress replay " + file));
  EXPECT_THAT(page, HasSubstr("REPRODUCED"));

  // A file whose schedule is not the one recorded is still drawn, and says so.
  std::ifstream original(file);
  json::object o = json::parse(std::string((std::istreambuf_iterator<char>(original)), std::istreambuf_iterator<char>()))
                       .as_object();
  o["trace_hash"] = "0x0000000000000001";
  const std::string moved = write("moved.json", json::serialize(o));
  ASSERT_EQ(hvo_stress({"report", moved}).exit_code, 0);
  std::ifstream moved_page(stress::report_path_for(moved));
  EXPECT_THAT(std::string((std::istreambuf_iterator<char>(moved_page)), std::istreambuf_iterator<char>()),
              HasSubstr("id=\"diverged\">DIVERGED"));
}

TEST_F(ReportCli, ReplayWritesTheReportUnlessTold) {
  const std::string out = dir_ + "/replay";
  const auto r = hvo_stress({"run", "--race", "v17/plain-torn", "--json", "--no-report", "--out", out});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string file(json::parse(r.out).as_object().at("replay_files").as_array().at(0).as_string());
  const std::string html = stress::report_path_for(file);
  EXPECT_FALSE(fs::exists(html));
  EXPECT_EQ(hvo_stress({"replay", file, "--no-report"}).exit_code, 1);
  EXPECT_FALSE(fs::exists(html));
  EXPECT_EQ(hvo_stress({"replay", file}).exit_code, 1);
  EXPECT_TRUE(fs::exists(html));
}

}  // namespace
}  // namespace hvo::cli
