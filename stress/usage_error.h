// Bad command-line input. Thrown by the option parsers and caught once, in
// run_cli(), which prints it as one line and exits with ExitCode::kUsage.
// An exception rather than a value because it unwinds out of Boost's own
// parsing, which throws too; it never crosses the CLI's boundary.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace hvo::cli {

// An argument as a message shows it: whole when short, else its start and
// an ellipsis (a 128 KiB argument echoed back helps no one), and "(empty)"
// for "" so that no message holds a bare "''" or "( )".
[[nodiscard]] inline std::string abbreviate(std::string_view text, size_t max = 80) {
  if (text.empty()) return "(empty)";
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max - 3)) + "...";
}

// A value as a message quotes it: 'abbreviated', or "an empty value".
[[nodiscard]] inline std::string quote_arg(std::string_view text) {
  return text.empty() ? std::string("an empty value") : "'" + abbreviate(text) + "'";
}

class UsageError : public std::runtime_error {
 public:
  // `where` names what was wrong: a flag ("--memory"), or the subcommand
  // when no single flag is to blame ("describe").
  UsageError(std::string where, const std::string& what)
      : std::runtime_error(what), where_(std::move(where)) {}

  [[nodiscard]] const std::string& where() const { return where_; }

 private:
  std::string where_;
};

}  // namespace hvo::cli
