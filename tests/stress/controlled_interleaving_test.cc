// The step ring behind `replay`'s interleaving view: it keeps the last
// steps in the scheduler's numbering and draws them one column per CPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stress/interleaving_view.h"

namespace hvo::stress {
namespace {

using ::testing::HasSubstr;

StepRecord at(unsigned cpu, uint64_t address) {
  return StepRecord{0, cpu, StepRecord::Kind::kPoint, SchedEvent::kPteStore, address, 7, "op"};
}

TEST(ControlledInterleaving, KeepsTheLastStepsInOrderAcrossTheWrap) {
  StepRing ring;
  const uint64_t n = StepRing::kCapacity * 2 + 5;
  for (uint64_t i = 1; i <= n; ++i) ring.add(at(static_cast<unsigned>(i % 3), i));
  EXPECT_EQ(ring.steps(), n);
  const auto last = ring.before(n, 20);
  ASSERT_EQ(last.size(), 20u);
  for (size_t i = 0; i < last.size(); ++i) {
    EXPECT_EQ(last[i].step, n - 19 + i);
    EXPECT_EQ(last[i].address, last[i].step);  // the record of that step, not an overwritten one
  }
  // Older than the ring holds: only what is kept.
  EXPECT_EQ(ring.before(n, 10'000).size(), StepRing::kCapacity);
  EXPECT_TRUE(ring.before(n - StepRing::kCapacity, 5).empty());
  ring.clear();
  EXPECT_EQ(ring.steps(), 0u);
  EXPECT_TRUE(ring.before(100, 5).empty());
}

TEST(ControlledInterleaving, DrawsOneColumnPerCpuAndMarksTheFailure) {
  StepRing ring;
  ring.add(at(0, 0x1000));
  ring.add(at(1, 0x2000));
  ring.add(at(1, 0x3000));
  const std::string text = render_interleaving(ring, 2, 3, ViolationSite{1, 0x2000});
  EXPECT_THAT(text, HasSubstr("cpu0"));
  EXPECT_THAT(text, HasSubstr("cpu1"));
  EXPECT_THAT(text, HasSubstr("pte-store 0x1000=0x7 [op]"));
  EXPECT_THAT(text, HasSubstr("<== the violating access"));
  EXPECT_THAT(text, HasSubstr("<== violation seen here"));
  EXPECT_EQ(violating_step(ring, 3, ViolationSite{1, 0x2000}), 2u);
  EXPECT_EQ(violating_step(ring, 3, ViolationSite{0, 0x2000}), 0u);
}

}  // namespace
}  // namespace hvo::stress
