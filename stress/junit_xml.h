// JUnit XML, the results format Jenkins (junit plugin), GitLab
// (artifacts:reports:junit) and GitHub actions (test reporters) all read.
// There is no single official schema; what the three accept is the Ant
// junit task's format, whose schema (junit.xsd) requires, and this writes:
//
//   <testsuites name tests failures errors skipped time>
//     <testsuite name package id timestamp hostname tests failures errors
//                skipped time>
//       <properties><property name value/>...</properties>
//       <testcase name classname time>
//         [<failure message type>body</failure> | <error message type>body</error> | <skipped message/>]
//         [<system-out>text</system-out>]
//       </testcase>
//       <system-out/> <system-err/>
//     </testsuite>
//   </testsuites>
//
// Counts are computed from the cases, so they always agree. Text is XML
// escaped, and characters XML 1.0 cannot hold (most control characters)
// are dropped: a parser rejects the whole file for one of them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hvo::stress {

struct JunitCase {
  enum class Outcome { kPassed, kFailure, kError, kSkipped };
  std::string name;
  std::string classname;
  double seconds = 0;
  Outcome outcome = Outcome::kPassed;
  std::string message;  // failure / error / skipped: one line (the violation)
  std::string type;     // failure / error: the violation kind
  std::string body;     // failure / error: the details and the replay command
  std::string out;      // system-out of the case (figures), may be empty
};

struct JunitSuite {
  std::string name;
  double seconds = 0;
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<JunitCase> cases;
};

[[nodiscard]] std::string xml_escape(std::string_view s);
// The document for `suites`, stamped with the current time and host.
[[nodiscard]] std::string junit_xml(const std::vector<JunitSuite>& suites);
// Writes it to `path` atomically; an error message, or empty.
[[nodiscard]] std::string write_junit(const std::string& path, const std::vector<JunitSuite>& suites);

}  // namespace hvo::stress
