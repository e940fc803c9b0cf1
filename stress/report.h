// `hvo-stress report`: one self-contained HTML page for a finding (a replay
// file). A controlled finding is replayed with the full step recorder
// (step_log.h) and its interleaving drawn; a free-mode finding gets what
// its file holds (the violation, the configuration, the command), marked as
// not replayable step by step. `run` and `replay` write the page beside the
// replay file (report_path_for()).
#pragma once

#include <string>

#include <boost/json.hpp>

namespace hvo::stress {

// FILE.html for FILE.json (FILE.json.html for a name without .json).
[[nodiscard]] std::string report_path_for(const std::string& replay_path);

// What went wrong, and whose fault it is: the input (a missing or bad
// replay file, an unwritable destination: exit 2) or hvo-stress's.
struct ReportError {
  std::string where;  // the path to blame
  std::string what;
};

// The page's data: reads and, for a controlled file, replays `replay_path`.
// Fills `error` and returns an empty object when the file is not a replay file.
[[nodiscard]] boost::json::object report_data(const std::string& replay_path, ReportError& error);

// Reads, replays, renders and writes the page to `html_path` (atomically).
// Returns false and fills `error` on failure.
[[nodiscard]] bool write_report(const std::string& replay_path, const std::string& html_path, ReportError& error);

// Single-quotes `s` for a POSIX shell when it needs it, so that a printed
// command can be pasted whatever the file is called.
[[nodiscard]] std::string shell_quote(const std::string& s);

}  // namespace hvo::stress
