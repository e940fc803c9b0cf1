// time-to-bug: the order statistics over trials (not-found trials count as
// more than the budget), the trials' disjoint seeds, the same executions
// run after run (only seconds vary), and bad input exiting 2.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "stress/time_to_bug.h"
#include "tests/stress/subprocess.h"

namespace hvo::stress {
namespace {

namespace json = boost::json;

TrialResult trial(bool found, uint64_t executions, double seconds) {
  TrialResult t;
  t.found = found;
  t.executions = executions;
  t.seconds = seconds;
  return t;
}

TEST(TimeToBugSummary, LowerMedianAndWorstOfTheTrialsOwnFigures) {
  TrialSummary s;
  for (uint64_t e : {40, 10, 30, 20}) s.trials.push_back(trial(true, e, static_cast<double>(e) / 10));
  summarize(s);
  EXPECT_EQ(s.found, 4u);
  EXPECT_EQ(s.median_executions, 20u);  // the lower median of 10 20 30 40: a trial's own figure
  EXPECT_EQ(s.worst_executions, 40u);
  EXPECT_DOUBLE_EQ(*s.median_seconds, 2.0);
  EXPECT_DOUBLE_EQ(*s.worst_seconds, 4.0);
}

TEST(TimeToBugSummary, ATrialThatFoundNothingCountsAsMoreThanTheBudget) {
  TrialSummary s;
  s.trials = {trial(false, 100, 9.0), trial(true, 5, 0.5), trial(true, 7, 0.7)};
  summarize(s);
  EXPECT_EQ(s.found, 2u);
  EXPECT_EQ(s.median_executions, 7u);
  EXPECT_FALSE(s.worst_executions.has_value());  // the worst trial found nothing
  EXPECT_FALSE(s.worst_seconds.has_value());

  s.trials = {trial(false, 100, 9.0), trial(false, 100, 9.0), trial(true, 5, 0.5)};
  summarize(s);
  EXPECT_FALSE(s.median_executions.has_value());  // most trials found nothing: no median
}

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

TEST(TimeToBugCli, TrialsSearchDisjointSeedsAndRepeatTheirExecutions) {
  const std::vector<std::string> args = {"time-to-bug", "--race", "raw-hwpoison", "--trials", "4",
                                         "--budget",    "500",    "--free", "0",       "--json"};
  const auto first = hvo_stress(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto second = hvo_stress(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const json::object a = json::parse(first.out).as_object();
  const json::object b = json::parse(second.out).as_object();
  const json::array& races = a.at("races").as_array();
  ASSERT_EQ(races.size(), 1u);
  EXPECT_TRUE(races[0].as_object().at("free").is_null());
  const json::array& searches = races[0].as_object().at("searches").as_array();
  ASSERT_EQ(searches.size(), 2u);  // random and pct
  for (size_t s = 0; s < searches.size(); ++s) {
    const json::array& trials = searches[s].as_object().at("per_trial").as_array();
    const json::array& again =
        b.at("races").as_array()[0].as_object().at("searches").as_array()[s].as_object().at("per_trial").as_array();
    ASSERT_EQ(trials.size(), 4u);
    std::set<uint64_t> seeds;
    for (size_t t = 0; t < trials.size(); ++t) {
      const json::object& o = trials[t].as_object();
      const uint64_t seed = o.at("first_seed").to_number<uint64_t>();
      EXPECT_EQ(seed, 1 + t * 500);  // trial t searches [1 + t*budget, (t+1)*budget]
      seeds.insert(seed);
      EXPECT_TRUE(o.at("found").as_bool());
      EXPECT_EQ(o.at("kind").as_string(), "ro-tail-write");
      EXPECT_TRUE(o.at("expected_kind").as_bool());
      EXPECT_EQ(o.at("executions"), again[t].as_object().at("executions"));
    }
    EXPECT_EQ(seeds.size(), 4u);
    EXPECT_EQ(searches[s].as_object().at("found").to_number<uint64_t>(), 4u);
  }
}

// The trials run as oneTBB tasks, --jobs at a time: each trial searches
// its own seeds, so what it finds does not depend on how many run at once.
TEST(TimeToBugCli, TrialsRunAsTasksFindTheSameExecutionsWithAnyJobs) {
  std::vector<std::string> args = {"time-to-bug", "--race", "raw-hwpoison", "--trials", "5",
                                   "--budget",    "500",    "--free", "0",       "--json"};
  const auto one = hvo_stress(args);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  args.insert(args.end(), {"--jobs", "3"});
  const auto three = hvo_stress(args);
  ASSERT_EQ(three.exit_code, 0) << three.err;
  const json::value va = json::parse(one.out), vb = json::parse(three.out);
  const json::array& a = va.as_object().at("races").as_array()[0].as_object().at("searches").as_array();
  const json::array& b = vb.as_object().at("races").as_array()[0].as_object().at("searches").as_array();
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    for (const char* key : {"found", "median_executions", "worst_executions"})
      EXPECT_EQ(a[s].as_object().at(key), b[s].as_object().at(key)) << key;
    const json::array& ta = a[s].as_object().at("per_trial").as_array();
    const json::array& tb = b[s].as_object().at("per_trial").as_array();
    ASSERT_EQ(ta.size(), 5u);
    ASSERT_EQ(tb.size(), 5u);
    for (size_t t = 0; t < ta.size(); ++t)
      for (const char* key : {"first_seed", "executions", "found", "kind"})
        EXPECT_EQ(ta[t].as_object().at(key), tb[t].as_object().at(key)) << "trial " << t << " " << key;
  }
}

TEST(TimeToBugCli, BadInputExitsTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"time-to-bug", "--race", "no-such-race"},
                                             {"time-to-bug", "--race", "c2a967f6ab0e"},
                                             {"time-to-bug", "--trials", "0"},
                                             {"time-to-bug", "--trials", "x"},
                                             {"time-to-bug", "--budget", "0"},
                                             {"time-to-bug", "--strategies", "random,random"},
                                             {"time-to-bug", "--strategies", "bounded"},
                                             {"time-to-bug", "--free", "-1s"},
                                             {"time-to-bug", "--free-threads", "0"},
                                             {"time-to-bug", "--jobs", "0"}}) {
    const auto r = hvo_stress(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("hvo-stress: --"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace hvo::stress
