// The HTML report in a real browser: headless Chromium loads the page,
// runs its script and dumps the DOM it built, which the tests read: the
// lanes, the highlighted steps, the commands. A screenshot of each report
// is kept under the build directory (test-artifacts/) for a human to look at.
// Skipped when Chromium is not installed (ci/install-deps.sh installs it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "stress/campaign_json.h"
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

std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The arguments of /usr/bin/timeout: the browser gets two minutes.
std::vector<std::string> with_timeout(std::vector<std::string> args) {
  args.insert(args.begin(), "120");
  return args;
}

class ReportBrowser : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("hvo-stress-report-browser-" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/profile");
    fs::create_directories(HVO_TEST_ARTIFACT_DIR);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    browser_ = chromium();
    if (browser_.empty()) GTEST_SKIP() << "chromium is not installed (ci/install-deps.sh installs it)";
  }

  // The replay file a `run` wrote (its --json summary names it).
  static std::string run_finding(const std::vector<std::string>& args) {
    std::vector<std::string> all = args;
    for (const char* a : {"--json", "--out"}) all.emplace_back(a);
    all.push_back(dir_);
    const auto r = hvo_stress(all);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    if (r.exit_code != 1) return {};
    const json::object o = json::parse(r.out).as_object();
    return std::string(o.at("replay_files").as_array().at(0).as_string());
  }

  // The DOM after the page's script ran, and a screenshot under `name`.
  std::string render(const std::string& html, const std::string& name) {
    const std::string url = "file://" + fs::absolute(html).string();
    const std::vector<std::string> common = {browser_, "--headless", "--no-sandbox", "--disable-gpu",
                                             "--user-data-dir=" + dir_ + "/profile", "--window-size=1400,1000"};
    std::vector<std::string> dump = common;
    dump.push_back("--dump-dom");
    dump.push_back(url);
    const auto d = testing::run_program("/usr/bin/timeout", with_timeout(dump));
    EXPECT_EQ(d.exit_code, 0) << d.err;
    std::vector<std::string> shot = common;
    const std::string png = std::string(HVO_TEST_ARTIFACT_DIR) + "/report-" + name + ".png";
    shot.push_back("--screenshot=" + png);
    shot.push_back(url);
    const auto s = testing::run_program("/usr/bin/timeout", with_timeout(shot));
    EXPECT_EQ(s.exit_code, 0) << s.err;
    EXPECT_TRUE(fs::exists(png) && fs::file_size(png) > 10000) << png;
    return d.out;
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static std::string dir_;
  std::string browser_;
};

std::string ReportBrowser::dir_;

TEST_F(ReportBrowser, DataRaceShowsBothLanesAndBothRacingAccesses) {
  const std::string file = run_finding({"run", "--race", "v17/plain-torn"});
  ASSERT_FALSE(file.empty());
  const std::string html = file.substr(0, file.size() - 5) + ".html";
  ASSERT_TRUE(fs::exists(html)) << "run writes the report beside the replay file";
  const std::string dom = render(html, "data-race");
  EXPECT_THAT(dom, HasSubstr("data-rendered=\"1\""));
  EXPECT_THAT(dom, HasSubstr("id=\"lanes\" data-cpus=\"2\""));
  EXPECT_THAT(dom, HasSubstr("data-cpu=\"0\" id=\"lane-0\""));
  EXPECT_THAT(dom, HasSubstr("data-cpu=\"1\" id=\"lane-1\""));
  EXPECT_GT(count(dom, "class=\"row "), 20u);
  EXPECT_GT(count(dom, " switch"), 0u) << "context switches are marked";
  EXPECT_EQ(count(dom, "data-role=\"race\""), 2u) << "both racing accesses are highlighted";
  EXPECT_THAT(dom, HasSubstr("class=\"link\"")) << "and joined";
  EXPECT_THAT(dom, HasSubstr("first racing access"));
  EXPECT_THAT(dom, HasSubstr("second racing access"));
  EXPECT_THAT(dom, HasSubstr("id=\"reproduced\""));
  EXPECT_THAT(dom, HasSubstr("<pre id=\"cmd-replay\">hvo-stress replay " + file + "</pre>"));
  EXPECT_THAT(dom, HasSubstr("<pre id=\"cmd-minimize\">hvo-stress minimize " + file + "</pre>"));
  EXPECT_THAT(dom, HasSubstr("PTE at 0x")) << "the raced PTE's history";
  EXPECT_THAT(dom, HasSubstr("call stack (outermost first)")) << "a step's stack is shown";
}

TEST_F(ReportBrowser, StaleTlbShowsTheFillTheFreeTheRemapAndTheAccess) {
  const std::string file = run_finding({"run", "--race", "v7.1/flush-before-free", "--no-report"});
  ASSERT_FALSE(file.empty());
  const std::string html = file.substr(0, file.size() - 5) + ".html";
  EXPECT_FALSE(fs::exists(html)) << "--no-report";
  const auto r = hvo_stress({"report", file, "-o", dir_ + "/stale-tlb.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string dom = render(dir_ + "/stale-tlb.html", "stale-tlb");
  EXPECT_THAT(dom, HasSubstr("data-rendered=\"1\""));
  EXPECT_THAT(dom, HasSubstr("stale-tlb-use-after-free"));
  for (const char* role : {"fill", "free", "pte-store", "access", "flush"})
    EXPECT_THAT(dom, HasSubstr(std::string("data-role=\"") + role + "\"")) << role;
  EXPECT_GT(count(dom, "class=\"link\""), 2u);
  EXPECT_THAT(dom, HasSubstr("class=\"gap\"")) << "the earlier steps are hidden by default, one click away";
  EXPECT_THAT(dom, HasSubstr("TLB entries for 0x"));
  EXPECT_THAT(dom, HasSubstr(">RO<")) << "the PTE's history shows it remapped read-only";
  EXPECT_THAT(dom, HasSubstr(">RW<"));
  EXPECT_THAT(dom, HasSubstr("<pre id=\"cmd-replay\">hvo-stress replay " + file + "</pre>"));
}

TEST_F(ReportBrowser, FreeModeFindingIsMarkedNotReplayableAndItsTextIsEscaped) {
  stress::CampaignConfig c;
  c.model = "v17";
  c.iterations = 2000;
  c.seed = 3;
  Violation v;
  v.kind = ViolationKind::kRoTailWrite;
  v.message = "<script>document.title='pwned'</script> & \"quoted\"";
  const std::string file = dir_ + "/free finding.json";
  std::ofstream(file) << json::serialize(stress::replay_json(c, v));
  const auto r = hvo_stress({"report", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string dom = render(dir_ + "/free finding.html", "free-mode");
  EXPECT_THAT(dom, HasSubstr("data-rendered=\"1\""));
  EXPECT_THAT(dom, HasSubstr("id=\"free-notice\""));
  EXPECT_THAT(dom, HasSubstr("id=\"not-replayable\""));
  EXPECT_THAT(dom, Not(HasSubstr("id=\"lanes\"")));
  EXPECT_THAT(dom, HasSubstr("no per-CPU event rings"));
  EXPECT_THAT(dom, HasSubstr("hvo-stress replay '" + file + "'")) << "the path, quoted for the shell";
  EXPECT_THAT(dom, HasSubstr("hvo-stress run --model v17 --mode free"));
  EXPECT_THAT(dom, HasSubstr("&lt;script&gt;document.title='pwned'&lt;/script&gt; &amp;"));
  EXPECT_THAT(dom, Not(HasSubstr("<title>pwned")));
}

}  // namespace
}  // namespace hvo::cli
