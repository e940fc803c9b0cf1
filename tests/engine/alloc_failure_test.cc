#include "engine/alloc_failure.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "engine/check.h"

namespace hvo {
namespace {

std::vector<bool> draw(AllocFailureInjector& inject, int n, Order order = Order(0)) {
  std::vector<bool> out;
  for (int i = 0; i < n; ++i) out.push_back(inject.should_fail(order));
  return out;
}

TEST(AllocFailureTest, OffByDefault) {
  AllocFailureInjector inject;
  EXPECT_EQ(inject.policy(), AllocFailureInjector::Policy::kOff);
  EXPECT_EQ(draw(inject, 100), std::vector<bool>(100, false));
  EXPECT_EQ(inject.injected(), 0u);
  EXPECT_EQ(inject.allocations(), 100u);
}

TEST(AllocFailureTest, FailNthCountsFromNowAndFailsOnce) {
  AllocFailureInjector inject;
  (void)draw(inject, 10);  // earlier allocations do not count
  inject.fail_nth(2);
  EXPECT_EQ(draw(inject, 5), (std::vector<bool>{false, true, false, false, false}));
  EXPECT_EQ(inject.injected(), 1u);
  inject.fail_nth(1);
  EXPECT_TRUE(inject.should_fail(Order(9)));
  EXPECT_EQ(inject.injected(), 2u);
  EXPECT_THROW(inject.fail_nth(0), InternalError);
}

TEST(AllocFailureTest, FailEveryFromFailsTheRest) {
  AllocFailureInjector inject;
  inject.fail_every_from(3);
  EXPECT_EQ(draw(inject, 5), (std::vector<bool>{false, false, true, true, true}));
  inject.disable();
  EXPECT_EQ(draw(inject, 3), std::vector<bool>(3, false));
  EXPECT_EQ(inject.injected(), 3u);
}

TEST(AllocFailureTest, MinOrderSparesSmallAllocationsWithoutCountingThem) {
  AllocFailureInjector inject;
  inject.set_min_order(Order(1));
  inject.fail_nth(2);
  EXPECT_FALSE(inject.should_fail(Order(0)));
  EXPECT_FALSE(inject.should_fail(Order(1)));
  EXPECT_FALSE(inject.should_fail(Order(0)));
  EXPECT_TRUE(inject.should_fail(Order(9))) << "the second allocation of order >= 1";
  EXPECT_EQ(inject.allocations(), 2u);
}

TEST(AllocFailureTest, ProbabilityIsDeterministicPerSeedAndRoughlyP) {
  AllocFailureInjector inject;
  inject.fail_with_probability(0.25, 7);
  const std::vector<bool> a = draw(inject, 20000);
  inject.fail_with_probability(0.25, 7);  // restarts the sequence
  const std::vector<bool> b = draw(inject, 20000);
  inject.fail_with_probability(0.25, 8);
  const std::vector<bool> c = draw(inject, 20000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const double rate = static_cast<double>(std::count(a.begin(), a.end(), true)) / 20000.0;
  EXPECT_NEAR(rate, 0.25, 0.02);
}

TEST(AllocFailureTest, ProbabilityEdges) {
  AllocFailureInjector inject;
  inject.fail_with_probability(0.0, 1);
  EXPECT_EQ(draw(inject, 1000), std::vector<bool>(1000, false));
  inject.fail_with_probability(1.0, 1);
  EXPECT_EQ(draw(inject, 1000), std::vector<bool>(1000, true));
  EXPECT_THROW(inject.fail_with_probability(1.5, 1), InternalError);
  EXPECT_THROW(inject.fail_with_probability(-0.1, 1), InternalError);
}

// Which thread draws which index is up to the OS, but the set of failing
// indices is fixed by the seed: two threads see as many failures together
// as one thread alone.
TEST(AllocFailureTest, ConcurrentDrawsInjectTheSameNumberOfFailures) {
  constexpr int kPerThread = 50'000;
  AllocFailureInjector reference;
  reference.fail_with_probability(0.1, 99);
  (void)draw(reference, 2 * kPerThread);

  AllocFailureInjector inject;
  inject.fail_with_probability(0.1, 99);
  auto worker = [&] { (void)draw(inject, kPerThread); };
  std::thread a(worker);
  std::thread b(worker);
  a.join();
  b.join();
  EXPECT_EQ(inject.injected(), reference.injected());
  EXPECT_EQ(inject.allocations(), uint64_t{2 * kPerThread});
}

TEST(AllocFailureTest, FailNthFailsOnceUnderConcurrency) {
  AllocFailureInjector inject;
  inject.fail_nth(777);
  std::atomic<int> failed{0};
  auto worker = [&] {
    for (int i = 0; i < 10'000; ++i) failed += inject.should_fail(Order(0)) ? 1 : 0;
  };
  std::thread a(worker);
  std::thread b(worker);
  a.join();
  b.join();
  EXPECT_EQ(failed.load(), 1);
}

// A reconfiguration racing with draws: each draw sees one whole policy
// (TSan checks the publication; the counts check nothing is lost).
TEST(AllocFailureTest, ReconfigurationRacesWithDraws) {
  AllocFailureInjector inject;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failed{0};
  std::thread drawer([&] {
    while (!stop.load()) failed += inject.should_fail(Order(0)) ? 1 : 0;
  });
  for (int i = 0; i < 2000; ++i) {
    inject.fail_with_probability(0.5, static_cast<uint64_t>(i));
    inject.fail_every_from(1);
    inject.disable();
  }
  stop = true;
  drawer.join();
  EXPECT_EQ(failed.load(), inject.injected());
  EXPECT_EQ(inject.policy(), AllocFailureInjector::Policy::kOff);
}

// fail_page_alloc's knobs (--fail-alloc).
TEST(AllocFailureTest, FaultAttrIntervalAndTimesAsTheKernelsShouldFail) {
  AllocFailureInjector inject;
  // probability 100%: every interval-th call fails, until times runs out.
  inject.configure(FaultAttr{.probability_percent = 100, .interval = 3, .times = 2, .min_order = Order(0)}, 1);
  EXPECT_EQ(draw(inject, 12), (std::vector<bool>{false, false, true, false, false, true, false, false, false, false,
                                                 false, false}));
  EXPECT_EQ(inject.injected(), 2u);
}

TEST(AllocFailureTest, FaultAttrProbabilityIsInPercent) {
  AllocFailureInjector inject;
  inject.configure(FaultAttr{.probability_percent = 10, .interval = 1, .times = -1, .min_order = Order(0)}, 3);
  (void)draw(inject, 20000);
  EXPECT_GT(inject.injected(), 1600u);
  EXPECT_LT(inject.injected(), 2400u);
}

TEST(AllocFailureTest, FaultAttrMinOrderSparesSmallAllocations) {
  AllocFailureInjector inject;
  inject.configure(FaultAttr{.probability_percent = 100, .interval = 1, .times = -1, .min_order = Order(1)}, 3);
  EXPECT_FALSE(inject.should_fail(Order(0)));
  EXPECT_TRUE(inject.should_fail(Order(1)));
}

TEST(AllocFailureTest, NoFailIsNeverFailed) {
  AllocFailureInjector inject;
  inject.fail_every_from(1);
  EXPECT_FALSE(inject.should_fail(Gfp::kKernel | Gfp::kNoFail, Order(0)));
  EXPECT_TRUE(inject.should_fail(Gfp::kKernel | Gfp::kRetryMayFail, Order(0)));
}

class AlwaysFail final : public AllocDecider {
 public:
  bool fail(Gfp, Order) override {
    ++asked;
    return true;
  }
  int asked = 0;
};

TEST(AllocFailureTest, ADeciderReplacesThePolicyWhileInstalled) {
  AllocFailureInjector inject;
  AlwaysFail decider;
  inject.set_decider(&decider);
  EXPECT_TRUE(inject.should_fail(Order(0)));
  EXPECT_FALSE(inject.should_fail(Gfp::kNoFail, Order(0)));  // filtered before the decider
  EXPECT_EQ(decider.asked, 1);
  EXPECT_EQ(inject.injected(), 1u);
  inject.set_decider(nullptr);
  EXPECT_FALSE(inject.should_fail(Order(0)));
}

}  // namespace
}  // namespace hvo
