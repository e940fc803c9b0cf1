// The race catalogue's entries with a budget above 2,000 executions (label
// slow, `ci/test.sh --slow`): a window the search hits rarely (3ce2c24cb68f's
// one schedule point) may take it tens of seconds to find, and the fixed
// model is held to the whole budget, at least as many executions as the
// search may take. The same two checks as tests/stress/race_catalogue_test.cc
// (tests/stress/race_catalogue_checks.h), which holds every other entry.
#include <gtest/gtest.h>

#include <string>

#include "stress/race_catalogue.h"
#include "tests/stress/race_catalogue_checks.h"

namespace hvo::cli {
namespace {

class RaceCatalogueSlowTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RaceCatalogueSlowTest, RevertedIsFoundWithinItsBudgetAndReplays) {
  race_checks::expect_found_within_budget_and_replays(GetParam());
}

TEST_P(RaceCatalogueSlowTest, FixedPassesItsWholeBudget) { race_checks::expect_fixed_passes(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Controlled, RaceCatalogueSlowTest, ::testing::ValuesIn(race_checks::controlled_ids(true)),
                         [](const auto& info) { return race_checks::param_name(info.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RaceCatalogueSlowTest);

}  // namespace
}  // namespace hvo::cli
