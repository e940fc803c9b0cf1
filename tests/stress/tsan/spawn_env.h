// run_program() with a changed environment: the ThreadSanitizer tests give
// the child its own TSAN_OPTIONS (exit code, where reports go), replacing
// whatever the test itself runs with (the tsan test preset's options would
// otherwise send an expected report into build/tsan/reports and fail CI).
// tests/stress/subprocess.h stays as it is for its users.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/stress/subprocess.h"

namespace hvo::testing {

// Variables to set in the child, NAME -> value; every other variable of the
// parent is inherited unchanged.
using EnvOverrides = std::map<std::string, std::string>;

namespace detail {

// The parent's environment with `overrides` replacing (or adding) entries.
inline std::vector<std::string> merged_environment(const EnvOverrides& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (overrides.count(name) == 0) env.push_back(entry);
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

}  // namespace detail

// Runs `program args...` with stdin from /dev/null, the parent's environment
// changed by `overrides`, and waits for it.
inline RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                             const EnvOverrides& overrides) {
  detail::TempFile out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.path().c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.path().c_str(), O_WRONLY | O_TRUNC, 0);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  std::vector<std::string> env_strings = detail::merged_environment(overrides);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + program + " failed: " + std::to_string(rc));

  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = out.read();
  r.err = err.read();
  return r;
}

}  // namespace hvo::testing
