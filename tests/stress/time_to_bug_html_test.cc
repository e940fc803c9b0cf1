// `time-to-bug --html FILE`: one chart per catalogue entry, one strip per
// strategy with a mark per trial, self-contained; a destination that cannot
// be written is a usage error before the (long) measurement starts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(TimeToBugHtml, OneChartPerEntryOneStripPerStrategyOneMarkPerTrial) {
  const std::string dir = (fs::temp_directory_path() / ("hvo-stress-ttb-html-" + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = dir + "/ttb.html";
  const auto r = testing::run_program(HVO_STRESS_BINARY,
                                      {"time-to-bug", "--race", "v17/plain-torn", "--trials", "3", "--budget", "300",
                                       "--strategies", "random,pct", "--free", "0", "--html", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  const std::string html = s.str();
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(count(html, "<section class=\"entry\" data-race=\"v17/plain-torn\">"), 1u);
  EXPECT_EQ(count(html, "<svg class=\"chart\""), 1u);
  EXPECT_THAT(html, HasSubstr("data-strategy=\"random\""));
  EXPECT_THAT(html, HasSubstr("data-strategy=\"pct\""));
  EXPECT_EQ(count(html, "class=\"trial "), 6u) << "3 trials x 2 strategies";
  EXPECT_THAT(html, HasSubstr("budget 300"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), html.find("http-equiv")) << "no network";

  const auto bad = testing::run_program(
      HVO_STRESS_BINARY, {"time-to-bug", "--race", "v17/plain-torn", "--free", "0", "--html", dir + "/no/x.html"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--html: cannot write"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hvo::cli
