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

size_t count_lines_with(const std::string& text, const std::string& prefix) {
  size_t n = 0;
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) ++n;
  return n;
}

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

// d8d55f5616cf reverted is 5.15-5.16's mmap_write_lock(&init_mm): no race,
// a cost. Both runs are clean; with the write lock walks wait for a
// splitting one, with the read lock (the fix) none ever waits.
TEST(RaceCatalogue, D8d55f5616cfShowsInMmapLockWaits) {
  for (const char* id : {"d8d55f5616cf", "v7.1/d8d55f5616cf"}) {
    uint64_t waits[2] = {0, 0};
    for (int fixed = 0; fixed < 2; ++fixed) {
      const std::string out = temp_dir("d8d55f5616cf");
      std::vector<std::string> args = {"run", "--race", id, "--json", "--out", out};
      if (fixed) args.emplace_back("--fixed");
      const auto r = hvo_stress(args);
      std::filesystem::remove_all(out);
      ASSERT_EQ(r.exit_code, 0) << id << r.out << r.err;
      waits[fixed] = parse_object(r.out).at("stats").as_object().at("mmap_lock_waits").to_number<uint64_t>();
    }
    EXPECT_GT(waits[0], 0u) << id;
    EXPECT_EQ(waits[1], 0u) << id;
    RecordProperty(std::string(id) + " mmap_lock_waits",
                   std::to_string(waits[0]) + " reverted, " + std::to_string(waits[1]) + " fixed");
  }
}

// An entry whose shipped code has no race (v17's plain `*pte` reads on a
// 64-bit kernel) runs clean reverted: the catalogue says so and shows it.
TEST(RaceCatalogue, NoRaceEntriesAreCleanAsShipped) {
  size_t n = 0;
  for (const stress::RaceEntry& e : stress::race_catalogue()) {
    if (e.found_by != stress::FoundBy::kNoRace) continue;
    ++n;
    EXPECT_EQ(e.expected, "none") << e.id;
    const std::string out = temp_dir("no-race");
    const auto r = hvo_stress({"run", "--race", std::string(e.id), "--json", "--out", out, "--jobs", "2"});
    std::filesystem::remove_all(out);
    EXPECT_EQ(r.exit_code, 0) << e.id << r.out << r.err;
  }
  EXPECT_GE(n, 1u);
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
      EXPECT_THAT(str(v.as_object().at("scenario"), "pte_access"), ::testing::AnyOf("plain", "plain-torn")) << id;
    } else {
      EXPECT_TRUE(reverts[model].count(revert)) << id << ": " << model << " has no revert " << revert;
      knobs.insert({model, revert});
    }
    for (const char* key : {"commit", "title", "actors", "found_by"}) EXPECT_TRUE(v.as_object().contains(key)) << key;
    const std::string found_by = str(v, "found_by");
    EXPECT_THAT((std::vector<std::string>{"controlled", "unit test", "weak-memory only", "figure", "no race"}),
                ::testing::Contains(found_by));
    if (found_by == "unit test") {
      EXPECT_THAT(str(v, "unit_test"), HasSubstr("tests/models/")) << id;
    }
    for (const json::value& k : v.as_object().at("expected").as_array()) {
      const std::string kind(k.as_string());
      if (kind != "figure" && kind != "none") {
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

// Issue 14: every entry says where its revert comes from, a historical one
// with its commit, the releases that shipped the code and the functions
// the revert restores, a synthetic one why it is worth having; and
// `list races` shows it, as text and as JSON.
TEST(RaceCatalogue, EveryEntryHasAProvenance) {
  for (const stress::RaceEntry& e : stress::race_catalogue())
    EXPECT_EQ(stress::provenance_gap(e.provenance), "") << e.id;
  const auto r = hvo_stress({"list", "races", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object races = parse_object(r.out);
  for (const json::value& v : races.at("races").as_array()) {
    const std::string id = str(v, "id");
    ASSERT_TRUE(v.as_object().contains("provenance")) << id;
    const json::value& p = v.as_object().at("provenance");
    const std::string kind = str(p, "kind");
    if (kind == "historical") {
      for (const char* key : {"commit", "shipped", "functions"}) EXPECT_NE(str(p, key), "") << id << " " << key;
    } else {
      EXPECT_EQ(kind, "synthetic") << id;
      EXPECT_NE(str(p, "rationale"), "") << id;
    }
  }
  const auto text = hvo_stress({"list", "races"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_EQ(count_lines_with(text.out, "    provenance: historical: ") +
                count_lines_with(text.out, "    provenance: synthetic: "),
            stress::race_catalogue().size());
}

// Issue 14: `list models` names the kernel text each model is pinned to.
TEST(RaceCatalogue, ListModelsPrintsThePinnedSource) {
  const auto r = hvo_stress({"list", "models", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object models = parse_object(r.out);
  for (const json::value& m : models.at("models").as_array()) EXPECT_NE(str(m, "source"), "") << str(m, "name");
  const auto text = hvo_stress({"list", "models"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_EQ(count_lines_with(text.out, "    source:  "), 4u);
  EXPECT_THAT(text.out, HasSubstr("    source:  Linux 5.18 (May 2022)"));
}

TEST(RaceCatalogue, ProvenanceGapNamesWhatIsMissing) {
  EXPECT_EQ(stress::provenance_gap(stress::Provenance{}), "no provenance");
  EXPECT_THAT(stress::provenance_gap(stress::historical("d8d55f5616cf", "5.15-5.16", "")),
              HasSubstr("functions the revert restores"));
  EXPECT_THAT(stress::provenance_gap(stress::synthetic("")), HasSubstr("rationale"));
  EXPECT_EQ(stress::provenance_gap(stress::historical("x", "5.15", "f()")), "");
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
