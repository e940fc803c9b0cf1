// --junit FILE on run, replay and time-to-bug: the document holds what the
// Ant junit schema (which Jenkins, GitLab and GitHub read) requires, its
// counts agree with its test cases, a failure carries the violation and the
// replay command, and text is escaped. Checked twice: by a small structural
// check here, and by python3's XML parser when python3 is installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "stress/junit_xml.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
namespace json = boost::json;

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

using Attrs = std::map<std::string, std::string>;

// Every start tag named `tag`, with its attributes.
std::vector<Attrs> elements(const std::string& xml, const std::string& tag) {
  std::vector<Attrs> out;
  const std::regex start("<" + tag + "(\\s[^>]*)?/?>");
  const std::regex attr(R"re(([a-z_-]+)="([^"]*)")re");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), start); it != std::sregex_iterator(); ++it) {
    Attrs a;
    const std::string body = (*it)[1];
    for (auto j = std::sregex_iterator(body.begin(), body.end(), attr); j != std::sregex_iterator(); ++j)
      a[(*j)[1]] = (*j)[2];
    out.push_back(a);
  }
  return out;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The schema's required structure, checked without an XML library.
void expect_schema_structure(const std::string& xml) {
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites")) << xml;
  const auto roots = elements(xml, "testsuites");
  ASSERT_EQ(roots.size(), 1u);
  for (const char* a : {"name", "tests", "failures", "errors", "skipped", "time"})
    EXPECT_TRUE(roots[0].contains(a)) << "testsuites@" << a;
  const auto suites = elements(xml, "testsuite");
  ASSERT_GE(suites.size(), 1u);
  for (const Attrs& s : suites)
    for (const char* a : {"name", "package", "id", "timestamp", "hostname", "tests", "failures", "errors", "skipped", "time"})
      EXPECT_TRUE(s.contains(a)) << "testsuite@" << a;
  const auto cases = elements(xml, "testcase");
  EXPECT_EQ(std::to_string(cases.size()), roots[0].at("tests"));
  for (const Attrs& c : cases)
    for (const char* a : {"name", "classname", "time"}) EXPECT_TRUE(c.contains(a)) << "testcase@" << a;
  EXPECT_EQ(std::to_string(elements(xml, "failure").size()), roots[0].at("failures"));
  EXPECT_EQ(std::to_string(elements(xml, "error").size()), roots[0].at("errors"));
  EXPECT_EQ(std::to_string(elements(xml, "skipped").size()), roots[0].at("skipped"));
  for (const Attrs& f : elements(xml, "failure"))
    for (const char* a : {"message", "type"}) EXPECT_TRUE(f.contains(a)) << "failure@" << a;
  EXPECT_EQ(count(xml, "<properties>"), suites.size());
  EXPECT_EQ(count(xml, "<system-out/>"), suites.size());
  EXPECT_EQ(count(xml, "<system-err/>"), suites.size());
  EXPECT_EQ(count(xml, "<testsuite "), count(xml, "</testsuite>"));
}

// A real XML parser over the same rules, when python3 is on the machine.
constexpr const char* kPythonCheck = R"py(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == 'testsuites', root.tag
def need(e, *names):
    for n in names:
        assert n in e.attrib, (e.tag, n)
need(root, 'name', 'tests', 'failures', 'errors', 'skipped', 'time')
total = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
for s in root:
    assert s.tag == 'testsuite', s.tag
    need(s, 'name', 'package', 'id', 'timestamp', 'hostname', 'tests', 'failures', 'errors', 'skipped', 'time')
    float(s.get('time'))
    kids = [k.tag for k in s]
    assert kids[0] == 'properties' and kids[-2:] == ['system-out', 'system-err'], kids
    cases = s.findall('testcase')
    n = {'tests': len(cases), 'failures': 0, 'errors': 0, 'skipped': 0}
    for c in cases:
        need(c, 'name', 'classname', 'time')
        float(c.get('time'))
        for f in c:
            assert f.tag in ('failure', 'error', 'skipped', 'system-out'), f.tag
            if f.tag in ('failure', 'error'):
                need(f, 'message', 'type')
                assert f.text and f.text.strip(), 'empty ' + f.tag
            if f.tag != 'system-out':
                n[{'failure': 'failures', 'error': 'errors', 'skipped': 'skipped'}[f.tag]] += 1
    for k in n:
        assert int(s.get(k)) == n[k], (k, s.get(k), n[k])
        total[k] += n[k]
for k in total:
    assert int(root.get(k)) == total[k], (k, root.get(k), total[k])
print('ok')
)py";

void expect_python_accepts(const std::string& path) {
  const auto r = testing::run_program("/usr/bin/env", {"python3", "-c", kPythonCheck, path});
  if (r.exit_code == 127) return;  // no python3: the structural check above stands alone
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n") << r.err;
}

class Junit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("hvo-stress-junit-" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(Junit, EscapesTextAndDropsWhatXmlCannotHold) {
  stress::JunitSuite s;
  s.name = "a <suite> & \"more\"";
  stress::JunitCase k;
  k.name = "case\x01 'one'";
  k.classname = "c";
  k.outcome = stress::JunitCase::Outcome::kFailure;
  k.message = "</failure><x>";
  k.type = "data-race";
  k.body = "line 1\nline 2 & <3>\x07";
  s.cases.push_back(k);
  const std::string xml = stress::junit_xml({s});
  EXPECT_THAT(xml, HasSubstr("name=\"a &lt;suite&gt; &amp; &quot;more&quot;\""));
  EXPECT_THAT(xml, HasSubstr("name=\"case &apos;one&apos;\""));
  EXPECT_THAT(xml, HasSubstr("message=\"&lt;/failure&gt;&lt;x&gt;\""));
  EXPECT_THAT(xml, HasSubstr(">line 1\nline 2 &amp; &lt;3&gt;</failure>"));
  expect_schema_structure(xml);
  const std::string path = dir_ + "/escaped.xml";
  ASSERT_EQ(stress::write_junit(path, {s}), "");
  expect_python_accepts(path);
}

TEST_F(Junit, ControlledRunOneCasePerBatchTheFailureWithItsReplayCommand) {
  const std::string xml_path = dir_ + "/run.xml";
  const auto r = hvo_stress({"run", "--race", "v17/plain-torn", "--seeds", "250", "--no-report", "--json", "--out",
                             dir_, "--junit", xml_path});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string file(json::parse(r.out).as_object().at("replay_files").as_array().at(0).as_string());
  const std::string xml = read(xml_path);
  expect_schema_structure(xml);
  expect_python_accepts(xml_path);
  EXPECT_EQ(elements(xml, "testcase").size(), 3u) << "250 executions: batches of 100";
  EXPECT_EQ(elements(xml, "failure").size(), 1u);
  EXPECT_EQ(elements(xml, "skipped").size(), 2u) << "the campaign stopped at its first failure";
  EXPECT_EQ(elements(xml, "failure")[0].at("type"), "data-race");
  EXPECT_THAT(elements(xml, "failure")[0].at("message"), HasSubstr("data race on word"));
  EXPECT_THAT(xml, HasSubstr("replay: hvo-stress replay " + file + "\n"));
  EXPECT_THAT(xml, HasSubstr("minimize: hvo-stress minimize " + file + "\n"));
  EXPECT_FALSE(fs::exists(xml_path + ".tmp")) << "written through a temporary file, renamed";

  const std::string replay_xml = dir_ + "/replay.xml";
  const auto p = hvo_stress({"replay", file, "--no-report", "--junit", replay_xml});
  ASSERT_EQ(p.exit_code, 1) << p.err;
  const std::string rx = read(replay_xml);
  expect_schema_structure(rx);
  expect_python_accepts(replay_xml);
  EXPECT_EQ(elements(rx, "testcase").size(), 1u);
  EXPECT_EQ(elements(rx, "failure").size(), 1u);
  EXPECT_THAT(rx, HasSubstr("replay: hvo-stress replay " + file));
}

TEST_F(Junit, CleanFreeRunIsOnePassingCase) {
  const std::string xml_path = dir_ + "/free.xml";
  const auto r = hvo_stress({"run", "--model", "v17", "--iterations", "2000", "--seed", "1", "--out", dir_,
                             "--junit", xml_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string xml = read(xml_path);
  expect_schema_structure(xml);
  expect_python_accepts(xml_path);
  EXPECT_EQ(elements(xml, "testcase").size(), 1u);
  EXPECT_EQ(elements(xml, "testsuites")[0].at("failures"), "0");
}

TEST_F(Junit, TimeToBugOneCasePerCatalogueEntry) {
  const std::string xml_path = dir_ + "/ttb.xml";
  const auto r = hvo_stress({"time-to-bug", "--race", "v17/plain-torn", "--race", "v7.1/flush-before-free",
                             "--trials", "1", "--budget", "300", "--strategies", "random", "--free", "0", "--junit",
                             xml_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string xml = read(xml_path);
  expect_schema_structure(xml);
  expect_python_accepts(xml_path);
  const auto cases = elements(xml, "testcase");
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].at("name"), "v17/plain-torn");
  EXPECT_EQ(cases[1].at("name"), "v7.1/flush-before-free");
  EXPECT_THAT(xml, HasSubstr("random: found in"));
}

TEST_F(Junit, UnwritableDestinationIsAUsageErrorBeforeAnythingRuns) {
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"run", "--model", "v17", "--iterations", "10", "--out", dir_},
        std::vector<std::string>{"time-to-bug", "--race", "v17/plain-torn", "--trials", "1", "--free", "0"}}) {
    std::vector<std::string> args = cmd;
    args.push_back("--junit");
    args.push_back(dir_ + "/no/such/dir/x.xml");
    const auto r = hvo_stress(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--junit: cannot write"));
    auto dir_arg = args;
    dir_arg.back() = dir_;
    const auto d = hvo_stress(dir_arg);
    EXPECT_EQ(d.exit_code, 2) << d.err;
    EXPECT_THAT(d.err, HasSubstr("is a directory"));
  }
}

}  // namespace
}  // namespace hvo::cli
