// The planted-bug campaigns of issue 19 (tests/stress/planted_bugs_test.cc
// and its slow part, tests/stress/slow/planted_bugs_gigantic_test.cc): one
// row per bug class and model, a bounded controlled campaign that must find
// the plant by the invariant named, and the same campaign without the plant
// clean.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/check.h"
#include "models/model.h"
#include "stress/controlled_campaign.h"

namespace hvo::stress::planted {

struct Plant {
  const char* bug;
  const char* model;
  const char* workload;
  unsigned threads;
  uint64_t iterations;
  uint64_t initial_pool;
  uint64_t memory_mb;  // 0: the default
  bool gigantic;
  uint64_t fail_allocs;
  uint64_t seeds;        // the budget
  Invariant invariant;   // what must name it
  bool pct = false;      // PCT at depth 3 instead of the random strategy
};

inline CampaignConfig config_of(const Plant& p, bool planted) {
  CampaignConfig c;
  c.mode = CampaignMode::kControlled;
  c.model = p.model;
  c.workload = p.workload;
  c.threads = p.threads;
  c.iterations = p.iterations;
  c.initial_pool = p.initial_pool;
  c.memory_bytes = p.memory_mb << 20;
  // A 1 GiB folio's 262,144 struct pages take millions of schedule points
  // to prepare: the default bound would stop every execution before its HVO.
  if (p.gigantic) {
    c.hstate = kHstate1G;
    c.max_steps = 20'000'000;
  }
  c.seed = 1;
  c.seeds = p.seeds;
  c.fail_allocs = p.fail_allocs;
  if (p.pct) {
    c.strategy = sched::StrategyKind::kPct;
    c.depth = 3;
  }
  if (planted) c.planted_bugs = {p.bug};
  return c;
}

class PlantedBug : public ::testing::TestWithParam<Plant> {};

TEST_P(PlantedBug, IsFoundWithinItsBudgetAndTheFixedModelIsClean) {
  const Plant& p = GetParam();
  ControlledResult found;
  try {
    found = run_controlled(config_of(p, true));
  } catch (const InternalError& e) {
    // The static key's own check (static_branch_dec() of a disabled key:
    // the kernel's WARN on a negative count) may stop the run before a
    // quiescent point: found too, by the key's assertion.
    ASSERT_EQ(p.invariant, Invariant::kStaticKeyBalance) << e.what();
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("static_branch_dec"));
    return;
  }
  ASSERT_TRUE(found.report.first_failure.has_value()) << p.bug << " not found in " << p.seeds << " executions";
  ASSERT_TRUE(found.violation.has_value());
  EXPECT_EQ(found.violation->invariant, p.invariant) << found.violation->to_string();
  const ControlledResult clean = run_controlled(config_of(p, false));
  EXPECT_FALSE(clean.report.first_failure.has_value()) << clean.report.first_failure->message;
}

// The test's name: bug, model, workload, shape.
inline std::string plant_name(const ::testing::TestParamInfo<Plant>& info) {
  std::string n = std::string(info.param.bug) + "_" + info.param.model + "_" + info.param.workload +
                  (info.param.gigantic ? "_1G" : "") + "_" + std::to_string(info.param.threads) + "x" +
                  std::to_string(info.param.iterations) + (info.param.pct ? "_pct" : "");
  for (char& ch : n)
    if (ch == '-' || ch == '.') ch = '_';
  return n;
}

}  // namespace hvo::stress::planted
