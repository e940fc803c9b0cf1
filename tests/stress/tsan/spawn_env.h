// run_program() with a changed environment: the ThreadSanitizer tests give
// the child its own TSAN_OPTIONS (exit code, where reports go), replacing
// whatever the test itself runs with (the tsan test preset's options would
// otherwise send an expected report into build/tsan/reports and fail CI).
#pragma once

#include <map>
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
  std::vector<std::string> env_strings = detail::merged_environment(overrides);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  return run_program(program, args, envp.data());
}

}  // namespace hvo::testing
