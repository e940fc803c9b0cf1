// The demote actor (stress/demote_actor.h): one operation demotes a 1 GiB
// hugepage, owns one of the new 2 MiB pages and gives the 2 MiB pool back,
// so that between operations both pools pass the whole checker; where there
// is nothing to demote to it does nothing.
#include <gtest/gtest.h>

#include "stress/actors.h"
#include "stress/demote_actor.h"
#include "stress/rng.h"
#include "tests/models/pool_fixture.h"

namespace hvo::stress {
namespace {

using hvo::testing::PoolWorld;

std::string first_violation(PoolWorld& w) {
  const std::vector<Violation> v = w.machine.violations().snapshot();
  return v.empty() ? "" : v.front().to_string();
}

TEST(DemoteActor, DemotesOwnsATwoMegPageAndGivesTheTwoMegPoolBack) {
  PoolWorld w("v6.10", kHstate1G);
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
  ActorWorld world{w.machine, *w.pool, *w.model, 2};
  Rng rng(1, 0);
  ActorCounters c;
  run_actor(ActorKind::kDemote, world, rng, c);
  EXPECT_EQ(c.ops[static_cast<int>(ActorKind::kDemote)], 1u);
  const uint64_t demoted = w.pool->vmemmap_stats().demoted;
  EXPECT_GE(demoted, 1u);
  EXPECT_EQ(w.pool->counters().nr_huge_pages, 2 - demoted);
  EXPECT_EQ(c.folios_owned, 1u);
  const HugetlbPool& dst = *w.pool->demote_pool();
  EXPECT_EQ(dst.counters().nr_huge_pages, 0u);
  // All 2 MiB folios were made optimized and restored again.
  EXPECT_EQ(dst.vmemmap_stats().optimized, 512 * demoted);
  EXPECT_EQ(dst.vmemmap_stats().restored, 512 * demoted);
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);
  (void)w.pool->set_max_huge_pages(0);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
}

TEST(DemoteActor, DoesNothingWithoutADemoteTargetOrWithoutDemote) {
  for (const auto& [model, h] : {std::pair{"v6.10", kHstate2M}, std::pair{"v17", kHstate1G}}) {
    SCOPED_TRACE(model);
    PoolWorld w(model, h);
    ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
    ActorWorld world{w.machine, *w.pool, *w.model, 1};
    Rng rng(1, 0);
    ActorCounters c;
    run_actor(ActorKind::kDemote, world, rng, c);
    EXPECT_EQ(w.pool->counters().free_huge_pages, 1u);
    EXPECT_EQ(w.pool->vmemmap_stats().demoted, 0u);
    EXPECT_EQ(c.folios_owned, 0u);
  }
}

}  // namespace
}  // namespace hvo::stress
