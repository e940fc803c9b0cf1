// The catalogue's c0f398c3b2cf entry as users run it: a cost, not a bug.
// Both the fixed and the reverted model run the demote campaign clean; the
// reverted one pays more grace periods and TLB flushes per operation, and
// `pool --demote` shows the commit message's count exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "stress/race_catalogue.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

std::string temp_dir(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("hvo-stress-demote-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

json::object parse_object(const std::string& out) { return json::parse(out).as_object(); }
double number(const json::object& o, std::string_view key) { return o.at(key).to_number<double>(); }

TEST(RaceCatalogue, C0f398c3b2cfIsAFigureOnV610WithItsUnitTest) {
  const stress::RaceEntry* e = stress::find_race("c0f398c3b2cf");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->model, "v6.10");
  EXPECT_EQ(e->revert, "c0f398c3b2cf");
  EXPECT_EQ(e->found_by, stress::FoundBy::kFigure);
  EXPECT_EQ(e->expected, "figure");
  EXPECT_TRUE(e->gigantic);
  EXPECT_EQ(e->workload, "demote");
  EXPECT_THAT(std::string(e->unit_test), HasSubstr("tests/models/hugetlb_pool_demote_test.cc"));
}

// As RaceCatalogue.C2a967f6ab0eShowsInGracePeriodsPerOperation for fix 14.
TEST(RaceCatalogue, C0f398c3b2cfShowsInGracePeriodsAndTlbFlushesPerOperation) {
  json::object stats[2];
  for (int fixed = 0; fixed < 2; ++fixed) {
    const std::string out = temp_dir(fixed ? "fixed" : "reverted");
    std::vector<std::string> args = {"run", "--race", "c0f398c3b2cf", "--json", "--out", out};
    if (fixed) args.emplace_back("--fixed");
    const auto r = hvo_stress(args);
    std::filesystem::remove_all(out);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const json::object o = parse_object(r.out);
    EXPECT_TRUE(o.at("violations").as_array().empty()) << r.out;
    stats[fixed] = o.at("stats").as_object();
    // The campaign demoted: the figure is about demote, not an idle pool.
    EXPECT_GT(number(stats[fixed], "hugepages_demoted"), 5) << r.out;
    EXPECT_GT(stats[fixed].at("actors").as_object().at("demote").to_number<double>(), 0) << r.out;
  }
  const json::object& reverted = stats[0];
  const json::object& fixed = stats[1];
  const double gp_reverted = number(reverted, "grace_periods_per_operation");
  const double gp_fixed = number(fixed, "grace_periods_per_operation");
  const double fl_reverted = number(reverted, "tlb_flushes_per_operation");
  const double fl_fixed = number(fixed, "tlb_flushes_per_operation");
  // Undiluted: the 2 MiB pool's give-back is one batched restore
  // (update_and_free_pages_bulk()) in both runs, so the per-folio demote's
  // 513 dominate (about 140x measured). Were the give-back per folio, its
  // 512 grace periods per demote would bring the ratio under 3x.
  EXPECT_GT(gp_reverted, 20 * gp_fixed) << "reverted " << gp_reverted << ", fixed " << gp_fixed;
  EXPECT_GT(fl_reverted, 20 * fl_fixed) << "reverted " << fl_reverted << ", fixed " << fl_fixed;
  // Per demoted folio the difference is at least the 511 grace periods the
  // batch saves (the give-back costs both runs the same per folio).
  const double per_demote_reverted = number(reverted, "grace_periods") / number(reverted, "hugepages_demoted");
  const double per_demote_fixed = number(fixed, "grace_periods") / number(fixed, "hugepages_demoted");
  EXPECT_GT(per_demote_reverted - per_demote_fixed, 400) << per_demote_reverted << " vs " << per_demote_fixed;
  RecordProperty("grace_periods_per_operation",
                 std::to_string(gp_reverted) + " reverted, " + std::to_string(gp_fixed) + " fixed");
  RecordProperty("tlb_flushes_per_operation",
                 std::to_string(fl_reverted) + " reverted, " + std::to_string(fl_fixed) + " fixed");
}

// The commit message's count, exactly: 1 de-HVO + 512 HVO requests against 2.
TEST(PoolDemoteCli, DemoteOneGigantic513GracePeriodsRevertedTwoFixed) {
  for (const bool batched : {true, false}) {
    std::vector<std::string> args = {"pool", "--model", "v6.10", "--hugepage-size", "1G", "--count", "2",
                                     "--demote", "1", "--json"};
    if (!batched) {
      args.emplace_back("--revert");
      args.emplace_back("c0f398c3b2cf");
    }
    const auto r = hvo_stress(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const json::object o = parse_object(r.out);
    EXPECT_TRUE(o.at("returned").as_bool()) << r.out;
    const json::object& d = o.at("demote").as_object();
    EXPECT_EQ(number(d, "demoted"), 1);
    EXPECT_EQ(d.at("status").as_string(), "ok");
    EXPECT_EQ(number(d, "grace_periods"), batched ? 2 : 513) << r.out;
    EXPECT_EQ(number(d, "tlb_flushes"), batched ? 3 : 513) << r.out;
    EXPECT_EQ(number(d, "nr_huge_pages_2M"), 512);
    EXPECT_EQ(number(d, "hugepages_optimized_2M"), 512);
    EXPECT_EQ(number(d, "bytes_saved_2M"), 512 * 7 * 4096);
  }
}

TEST(PoolDemoteCli, DemoteWhereThereIsNoneExits2NamingTheFlag) {
  const std::vector<std::vector<std::string>> bad = {
      {"pool", "--model", "v17", "--hugepage-size", "1G", "--count", "1", "--demote", "1"},
      {"pool", "--model", "v6.10", "--hugepage-size", "2M", "--count", "1", "--demote", "1"},
      {"pool", "--model", "v6.10", "--hugepage-size", "1G", "--count", "1", "--demote", "2"},
      {"pool", "--model", "v6.10", "--hugepage-size", "1G", "--count", "1", "--demote", "one"},
  };
  for (const auto& args : bad) {
    const auto r = hvo_stress(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("--demote")) << args[2] << " " << args[4];
  }
  EXPECT_THAT(hvo_stress(bad[0]).err, HasSubstr("predates demote"));
}

}  // namespace
}  // namespace hvo::cli
