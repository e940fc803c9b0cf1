// The race catalogue as users run it: every entry found in controlled mode
// is found within its fixed budget of executions on the reverted model (no
// wall clock), its saved replay reproduces the violation (same kind, same
// step), and the fixed model passes the same scenario for 2,000 executions.
// Entries whose budget is larger (the search may take that long, and the
// fixed model runs as long) are checked in tests/stress/slow/, label slow.
// `list races --json` names existing models and reverts. The checks
// themselves: tests/stress/race_catalogue_checks.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "stress/race_catalogue.h"
#include "tests/stress/race_catalogue_checks.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;
using race_checks::hvo_stress;
using race_checks::parse_object;
using race_checks::str;
using race_checks::temp_dir;

class RaceCatalogueTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RaceCatalogueTest, RevertedIsFoundWithinItsBudgetAndReplays) {
  race_checks::expect_found_within_budget_and_replays(GetParam());
}

TEST_P(RaceCatalogueTest, FixedPassesTheSameScenario) { race_checks::expect_fixed_passes(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Controlled, RaceCatalogueTest, ::testing::ValuesIn(race_checks::controlled_ids(false)),
                         [](const auto& info) { return race_checks::param_name(info.param); });

// Fix 14 is a cost: both runs are clean; the reverted one pays more grace
// periods per operation.
TEST(RaceCatalogue, C2a967f6ab0eShowsInGracePeriodsPerOperation) {
  double gp[2] = {0, 0};
  for (int fixed = 0; fixed < 2; ++fixed) {
    const std::string out = temp_dir("c2a967f6ab0e");
    std::vector<std::string> args = {"run", "--race", "c2a967f6ab0e", "--json", "--out", out};
    if (fixed) args.emplace_back("--fixed");
    const auto r = hvo_stress(args);
    std::filesystem::remove_all(out);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    gp[fixed] = parse_object(r.out).at("stats").as_object().at("grace_periods_per_operation").to_number<double>();
  }
  EXPECT_GT(gp[0], 1.5 * gp[1]) << "reverted " << gp[0] << ", fixed " << gp[1];
  RecordProperty("grace_periods_per_operation", std::to_string(gp[0]) + " reverted, " + std::to_string(gp[1]) + " fixed");
}

TEST(RaceCatalogue, ListRacesJsonNamesExistingModelsRevertsAndKinds) {
  const auto models = hvo_stress({"list", "models", "--json"});
  ASSERT_EQ(models.exit_code, 0) << models.err;
  std::map<std::string, std::set<std::string>> reverts;
  const json::object models_json = parse_object(models.out);
  for (const json::value& m : models_json.at("models").as_array())
    for (const json::value& r : m.as_object().at("reverts").as_array()) reverts[str(m, "name")].insert(str(r, "name"));
  const auto kinds_out = hvo_stress({"list", "violations", "--json"});
  ASSERT_EQ(kinds_out.exit_code, 0);
  const std::string kinds = kinds_out.out;

  const auto r = hvo_stress({"list", "races", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::array races = parse_object(r.out).at("races").as_array();
  ASSERT_EQ(races.size(), stress::race_catalogue().size());
  std::set<std::string> ids;
  std::set<std::pair<std::string, std::string>> knobs;
  for (const json::value& v : races) {
    const std::string id = str(v, "id");
    EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
    const std::string model = str(v, "model");
    ASSERT_TRUE(reverts.count(model)) << id << ": model " << model;
    const std::string revert = str(v, "revert");
    if (revert.empty()) {
      EXPECT_EQ(str(v.as_object().at("scenario"), "pte_access"), "plain") << id;
    } else {
      EXPECT_TRUE(reverts[model].count(revert)) << id << ": " << model << " has no revert " << revert;
      knobs.insert({model, revert});
    }
    for (const char* key : {"commit", "title", "actors", "found_by"}) EXPECT_TRUE(v.as_object().contains(key)) << key;
    const std::string found_by = str(v, "found_by");
    EXPECT_THAT((std::vector<std::string>{"controlled", "unit test", "weak-memory only", "figure"}),
                ::testing::Contains(found_by));
    if (found_by == "unit test") {
      EXPECT_THAT(str(v, "unit_test"), HasSubstr("tests/models/")) << id;
    }
    for (const json::value& k : v.as_object().at("expected").as_array()) {
      const std::string kind(k.as_string());
      if (kind != "figure") {
        EXPECT_THAT(kinds, HasSubstr("\"" + kind + "\"")) << id;
      }
    }
  }
  // Every revert knob of every model has its entry.
  for (const auto& [model, names] : reverts)
    for (const std::string& name : names) EXPECT_TRUE(knobs.count({model, name})) << model << " --revert " << name;
  // Text form: one block per entry.
  const auto text = hvo_stress({"list", "races"});
  ASSERT_EQ(text.exit_code, 0);
  for (const std::string& id : ids) EXPECT_THAT(text.out, HasSubstr(id + "  (")) << id;
}

TEST(RaceCatalogue, BadRaceUsageExits2) {
  const auto unknown = hvo_stress({"run", "--race", "no-such-race"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("--race"));
  EXPECT_THAT(unknown.err, HasSubstr("no-such-race"));
  const auto fixed_alone = hvo_stress({"run", "--model", "v17", "--fixed"});
  EXPECT_EQ(fixed_alone.exit_code, 2);
  EXPECT_THAT(fixed_alone.err, HasSubstr("--fixed"));
  const auto with_model = hvo_stress({"run", "--race", "reset-3", "--model", "v17"});
  EXPECT_EQ(with_model.exit_code, 2);
  EXPECT_THAT(with_model.err, HasSubstr("--model"));
}

// Other run flags override the scenario's.
TEST(RaceCatalogue, FlagsOverrideTheScenario) {
  const std::string out = temp_dir("override");
  const auto r = hvo_stress({"run", "--race", "reset-3", "--fixed", "--seeds", "3", "--seed", "7", "--json", "--out", out});
  std::filesystem::remove_all(out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json::object o = parse_object(r.out);
  EXPECT_EQ(o.at("executions").to_number<uint64_t>(), 3u);
  EXPECT_EQ(o.at("seed").to_number<uint64_t>(), 7u);
  EXPECT_EQ(str(o, "workload"), "resize");
  EXPECT_EQ(str(o, "model"), "v6.10");
}

}  // namespace
}  // namespace hvo::cli
