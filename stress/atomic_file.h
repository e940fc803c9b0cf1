// Writes a file that appears whole or not at all, and never in place of
// another: a finding is evidence, and a CI job that collects --out must
// neither lose one (two campaigns, one name) nor read half of one (a full
// disk, a crash mid-write).
//
// How: the bytes go to a temporary file in the target directory (same file
// system, so the final step is a link, not a copy), are fsync()ed, and the
// temporary is then link()ed to the final name, which fails with EEXIST
// instead of replacing what is there (renameat2(RENAME_NOREPLACE) where the
// file system has no hard links). The directory is fsync()ed so that the
// new name survives a crash too. On any failure the temporary is removed:
// nothing partial is ever left under either name.
#pragma once

#include <string>
#include <string_view>

namespace hvo::stress {

struct AtomicWriteResult {
  std::string path;   // the name the file got; empty on failure
  std::string error;  // why it failed, with the system's reason; empty on success

  [[nodiscard]] bool ok() const { return error.empty(); }
};

// Most names tried for one stem (stem, stem-2, ..., stem-N) before giving
// up: far beyond any real collision, small enough to end a runaway loop.
inline constexpr int kMaxNameSuffix = 10000;

// Creates `dir`/`stem``ext`, or `dir`/`stem`-2`ext`, -3, ... when that name
// is taken (by an earlier finding, or a concurrent process), with
// `contents`. Never replaces an existing file.
[[nodiscard]] AtomicWriteResult write_new_file(const std::string& dir, std::string_view stem, std::string_view ext,
                                               std::string_view contents);

// Creates exactly `path` with `contents`; fails (EEXIST) if it exists.
[[nodiscard]] AtomicWriteResult write_new_file_at(const std::string& path, std::string_view contents);

// Why a file could not be created at `path` later (its directory missing
// or not writable, or the name already taken), or empty. Creates nothing:
// a check before minutes of work must not leave a probe file behind.
[[nodiscard]] std::string check_can_create(const std::string& path);

// Creates `dir` (and its parents) if needed and checks that files can be
// created in it; an error message with the system's reason, or empty.
[[nodiscard]] std::string prepare_directory(const std::string& dir);

// "strerror(errno)" for messages, thread-safe.
[[nodiscard]] std::string errno_text(int err);

}  // namespace hvo::stress
