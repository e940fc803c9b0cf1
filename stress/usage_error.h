// Bad command-line input. Thrown by the option parsers and caught once, in
// run_cli(), which prints it as one line and exits with ExitCode::kUsage.
// An exception rather than a value because it unwinds out of Boost's own
// parsing, which throws too; it never crosses the CLI's boundary.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace hvo::cli {

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
