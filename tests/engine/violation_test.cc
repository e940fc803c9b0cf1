#include "engine/violation.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/task.h"

namespace hvo {
namespace {

TEST(Violation, EveryKindHasAUniqueNameThatParsesBack) {
  std::set<std::string> names;
  for (int i = 0; i < kNumViolationKinds; ++i) {
    const auto k = static_cast<ViolationKind>(i);
    const std::string name(to_string(k));
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(violation_kind_from_string(name), k);
  }
  EXPECT_FALSE(violation_kind_from_string("no-such-kind").has_value());
}

TEST(Violation, EveryInvariantIsNamedAndDescribed) {
  std::set<std::string> names;
  for (int i = 0; i < kNumInvariants; ++i) {
    const auto inv = static_cast<Invariant>(i);
    EXPECT_TRUE(names.insert(std::string(to_string(inv))).second);
    EXPECT_FALSE(describe(inv).empty());
  }
  EXPECT_EQ(invariant_of(ViolationKind::kRoTailWrite), Invariant::kNoRoWrite);
  EXPECT_EQ(invariant_of(ViolationKind::kStaleTlbUseAfterFree), Invariant::kNoFreedAccess);
}

TEST(Violation, MakeViolationStampsTheCurrentTask) {
  Task t{CpuId(3)};
  TaskScope scope(t);
  OperationScope outer("free_huge_page_vmemmap");
  OperationScope op("vmemmap_remap_free");
  sched_point(SchedEvent::kPteLoad);
  sched_point(SchedEvent::kPteStore);
  Violation v = make_violation(ViolationKind::kRoTailWrite, "boom");
  EXPECT_EQ(v.cpu, CpuId(3));
  EXPECT_EQ(v.step, 2u);
  EXPECT_EQ(v.operation, "free_huge_page_vmemmap > vmemmap_remap_free");
  EXPECT_NE(v.to_string().find("ro-tail-write"), std::string::npos);
  EXPECT_NE(v.to_string().find("vmemmap_remap_free"), std::string::npos);
}

TEST(ViolationLog, ListenerSeesEachViolationBeforeRecordReturns) {
  ViolationLog log;
  int seen = 0;
  log.set_listener([&](const Violation& v) {
    ++seen;
    EXPECT_EQ(v.kind, ViolationKind::kDoubleFree);
  });
  log.record(make_violation(ViolationKind::kDoubleFree, "x"));
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(log.count(), 1u);
  EXPECT_EQ(log.count(ViolationKind::kDoubleFree), 1u);
  EXPECT_EQ(log.count(ViolationKind::kLeak), 0u);
}

TEST(ViolationLog, KeepsABoundedNumberButCountsAll) {
  ViolationLog log;
  for (size_t i = 0; i < ViolationLog::kMaxKept + 10; ++i) log.record(make_violation(ViolationKind::kLeak, "x"));
  EXPECT_EQ(log.count(), ViolationLog::kMaxKept + 10);
  EXPECT_EQ(log.snapshot().size(), ViolationLog::kMaxKept);
  log.clear();
  EXPECT_FALSE(log.any());
}

}  // namespace
}  // namespace hvo
