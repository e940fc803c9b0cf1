// Writing an output file (a report, a JUnit file) so that a reader never
// sees half of it: the text goes to a temporary file in the same directory,
// which is then renamed over the destination (rename(2) is atomic within a
// file system). A CI job that collects the file after a kill finds the old
// one or the new one, never a truncated one.
#pragma once

#include <string>
#include <string_view>

namespace hvo::stress {

// Writes `text` to `path`. Returns an error message naming the path, or
// empty.
[[nodiscard]] std::string write_file_atomically(const std::string& path, std::string_view text);

// Why `path` could not be written (it is a directory, its directory is
// missing or not writable), or empty. Checked before a long run, so that a
// typo in --junit fails at once rather than after the campaign.
[[nodiscard]] std::string check_writable(const std::string& path);

}  // namespace hvo::stress
