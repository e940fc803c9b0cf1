#include "stress/junit_xml.h"

#include <unistd.h>

#include <array>
#include <ctime>

#include <fmt/format.h>

#include "stress/output_file.h"

namespace hvo::stress {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows tab, newline and carriage return below 0x20.
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += ch;
    }
  }
  return out;
}

namespace {

struct Counts {
  size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  double seconds = 0;
};

Counts count(const JunitSuite& s) {
  Counts c;
  c.seconds = s.seconds;
  for (const JunitCase& k : s.cases) {
    ++c.tests;
    c.failures += k.outcome == JunitCase::Outcome::kFailure;
    c.errors += k.outcome == JunitCase::Outcome::kError;
    c.skipped += k.outcome == JunitCase::Outcome::kSkipped;
  }
  return c;
}

std::string attr(std::string_view name, std::string_view value) {
  return fmt::format(" {}=\"{}\"", name, xml_escape(value));
}

std::string seconds(double s) { return fmt::format("{:.3f}", s < 0 ? 0.0 : s); }

std::string testcase(const JunitCase& k) {
  std::string x = "    <testcase" + attr("name", k.name) + attr("classname", k.classname) + attr("time", seconds(k.seconds));
  std::string inner;
  switch (k.outcome) {
    case JunitCase::Outcome::kPassed: break;
    case JunitCase::Outcome::kFailure:
    case JunitCase::Outcome::kError: {
      const char* tag = k.outcome == JunitCase::Outcome::kFailure ? "failure" : "error";
      inner += fmt::format("      <{}{}{}>{}</{}>\n", tag, attr("message", k.message), attr("type", k.type),
                           xml_escape(k.body), tag);
      break;
    }
    case JunitCase::Outcome::kSkipped: inner += "      <skipped" + attr("message", k.message) + "/>\n"; break;
  }
  if (!k.out.empty()) inner += "      <system-out>" + xml_escape(k.out) + "</system-out>\n";
  if (inner.empty()) return x + "/>\n";
  return x + ">\n" + inner + "    </testcase>\n";
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  // The Ant schema's timestamp has no time zone: UTC, said here.
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  return buf.data();
}

std::string hostname() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf.data();
}

}  // namespace

std::string junit_xml(const std::vector<JunitSuite>& suites) {
  Counts all;
  for (const JunitSuite& s : suites) {
    const Counts c = count(s);
    all.tests += c.tests;
    all.failures += c.failures;
    all.errors += c.errors;
    all.skipped += c.skipped;
    all.seconds += c.seconds;
  }
  const std::string stamp = now_iso8601(), host = hostname();
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites" + attr("name", "hvo-stress") + attr("tests", std::to_string(all.tests)) +
       attr("failures", std::to_string(all.failures)) + attr("errors", std::to_string(all.errors)) +
       attr("skipped", std::to_string(all.skipped)) + attr("time", seconds(all.seconds)) + ">\n";
  for (size_t i = 0; i < suites.size(); ++i) {
    const JunitSuite& s = suites[i];
    const Counts c = count(s);
    x += "  <testsuite" + attr("name", s.name) + attr("package", "hvo-stress") + attr("id", std::to_string(i)) +
         attr("timestamp", stamp) + attr("hostname", host) + attr("tests", std::to_string(c.tests)) +
         attr("failures", std::to_string(c.failures)) + attr("errors", std::to_string(c.errors)) +
         attr("skipped", std::to_string(c.skipped)) + attr("time", seconds(c.seconds)) + ">\n";
    x += "    <properties>\n";
    for (const auto& [name, value] : s.properties)
      x += "      <property" + attr("name", name) + attr("value", value) + "/>\n";
    x += "    </properties>\n";
    for (const JunitCase& k : s.cases) x += testcase(k);
    x += "    <system-out/>\n    <system-err/>\n  </testsuite>\n";
  }
  return x + "</testsuites>\n";
}

std::string write_junit(const std::string& path, const std::vector<JunitSuite>& suites) {
  return write_file_atomically(path, junit_xml(suites));
}

}  // namespace hvo::stress
