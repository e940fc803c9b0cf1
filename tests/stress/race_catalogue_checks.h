// The two checks every race catalogue entry found in controlled mode is held
// to, shared by tests/stress/race_catalogue_test.cc (every entry whose budget
// is at most kDefaultFixedExecutions) and tests/stress/slow/ (the entries
// with a larger budget, whose search and fixed runs take tens of seconds:
// label slow):
//   - the reverted model: `hvo-stress run --race ID` finds an expected
//     violation within the entry's budget of executions (no wall clock),
//     and `hvo-stress replay` of the saved file reproduces it;
//   - the fixed model: `--race ID --fixed --seeds N` is clean, with
//     N = max(kDefaultFixedExecutions, budget) (HVO_RACE_FIXED_EXECUTIONS
//     overrides it).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "stress/race_catalogue.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli::race_checks {

namespace json = boost::json;

// The figure: the fixed model passes at least 2,000 executions of
// each entry's scenario.
inline constexpr uint64_t kDefaultFixedExecutions = 2000;

inline uint64_t fixed_executions(const stress::RaceEntry& e) {
  uint64_t n = std::max(kDefaultFixedExecutions, e.seeds);
  if (const char* env = std::getenv("HVO_RACE_FIXED_EXECUTIONS")) n = std::strtoull(env, nullptr, 10);
  // An entry whose fixed model is known to fail further (a checker's false
  // positive named in its note) runs only up to there.
  if (e.fixed_clean_executions != 0) n = std::min(n, e.fixed_clean_executions);
  return n;
}

// An entry whose budget is above 2,000 executions (a window a search hits
// rarely, such as 3ce2c24cb68f's one schedule point) may search that long
// and runs its fixed model as long: both belong to the slow test binary.
inline bool entry_is_slow(const stress::RaceEntry& e) { return e.seeds > kDefaultFixedExecutions; }

// The ids of the entries found in controlled mode: all of them, or those
// that are slow (or not).
inline std::vector<std::string> controlled_ids() {
  std::vector<std::string> ids;
  for (const stress::RaceEntry& e : stress::race_catalogue())
    if (e.found_by == stress::FoundBy::kControlled) ids.emplace_back(e.id);
  return ids;
}
inline std::vector<std::string> controlled_ids(bool slow) {
  std::vector<std::string> ids;
  for (const stress::RaceEntry& e : stress::race_catalogue())
    if (e.found_by == stress::FoundBy::kControlled && entry_is_slow(e) == slow) ids.emplace_back(e.id);
  return ids;
}

// A gtest parameter name for an entry id ("v7.1/d8d55f5616cf" -> "v7_1_d8d55f5616cf").
inline std::string param_name(std::string id) {
  for (char& ch : id)
    if (ch == '/' || ch == '-' || ch == '.') ch = '_';
  return id;
}

inline testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

inline std::string temp_dir(const std::string& name) {
  std::string safe = name;
  std::replace(safe.begin(), safe.end(), '/', '_');
  const auto dir =
      std::filesystem::temp_directory_path() / ("hvo-stress-race-" + safe + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

inline json::object parse_object(const std::string& out) { return json::parse(out).as_object(); }
inline std::string str(const json::value& v, std::string_view key) {
  return std::string(v.as_object().at(key).as_string());
}

// The reverted model: found within the entry's budget (exit 1), with an
// expected kind; the replay file reproduces it at the same step.
inline void expect_found_within_budget_and_replays(const std::string& id) {
  const stress::RaceEntry& e = *stress::find_race(id);
  const std::string out = temp_dir(id);
  const auto r = hvo_stress({"run", "--race", id, "--json", "--out", out});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const json::object o = parse_object(r.out);
  EXPECT_LE(o.at("executions").to_number<uint64_t>(), e.seeds);
  const std::string kind = str(o.at("violations").as_array().at(0), "kind");
  EXPECT_THAT(stress::expected_kinds(e), ::testing::Contains(kind)) << r.out;
  ::testing::Test::RecordProperty("executions_to_find", std::to_string(o.at("executions").to_number<uint64_t>()));
  const std::string file = std::string(o.at("replay_files").as_array().at(0).as_string());
  const auto rep = hvo_stress({"replay", file, "--json"});
  ASSERT_EQ(rep.exit_code, 1) << rep.out << rep.err;
  const json::object p = parse_object(rep.out);
  EXPECT_TRUE(p.at("reproduced").as_bool()) << rep.out;
  EXPECT_EQ(str(p.at("violation"), "kind"), kind);
  // A violation found by the end-of-execution check (failure_cpu -1) carries
  // the main task's step, which counts over every execution of the search:
  // compare it only for violations recorded while the CPUs ran.
  if (o.at("failing_execution").as_object().at("failure_cpu").to_number<int64_t>() >= 0) {
    EXPECT_EQ(p.at("violation").as_object().at("step"), o.at("violations").as_array().at(0).as_object().at("step"));
  }
  EXPECT_EQ(p.at("failure_step"), o.at("failing_execution").as_object().at("failure_step"));
  EXPECT_EQ(str(p, "trace_hash"), str(o, "trace_hash"));
  std::filesystem::remove_all(out);
}

// The fixed model: the same scenario, fixed_executions(e) executions, clean.
inline void expect_fixed_passes(const std::string& id) {
  const stress::RaceEntry& e = *stress::find_race(id);
  const uint64_t n = fixed_executions(e);
  const std::string out = temp_dir(id + "-fixed");
  const auto r = hvo_stress({"run", "--race", id, "--fixed", "--seeds", std::to_string(n), "--json", "--out", out});
  std::filesystem::remove_all(out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json::object o = parse_object(r.out);
  EXPECT_EQ(o.at("executions").to_number<uint64_t>(), n);
  EXPECT_TRUE(o.at("violations").as_array().empty());
  EXPECT_TRUE(o.at("reverts").as_array().empty()) << r.out;
  ::testing::Test::RecordProperty("fixed_executions", std::to_string(n));
}

}  // namespace hvo::cli::race_checks
