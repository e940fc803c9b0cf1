#include "engine/task.h"

#include <gtest/gtest.h>

#include <vector>

namespace hvo {
namespace {

class RecordingHook : public ScheduleHook {
 public:
  void point(const SchedulePoint& p) override { events.push_back(p.event); }
  void blocked(const SchedulePoint& p) override { ++blocked_calls; }
  std::vector<SchedEvent> events;
  int blocked_calls = 0;
};

TEST(Task, UnboundThreadRunsAsItsBootTaskOnCpu0) {
  EXPECT_EQ(current().cpu, CpuId(0));
  EXPECT_EQ(current().hook, nullptr);
}

TEST(Task, ScopeBindsAndRestores) {
  Task outer{CpuId(1)}, inner{CpuId(2)};
  TaskScope a(outer);
  EXPECT_EQ(&current(), &outer);
  {
    TaskScope b(inner);
    EXPECT_EQ(&current(), &inner);
  }
  EXPECT_EQ(&current(), &outer);
}

TEST(Task, EverySchedulePointReachesTheHookAndIsCounted) {
  Task t{CpuId(1)};
  RecordingHook hook;
  t.hook = &hook;
  TaskScope s(t);
  sched_point(SchedEvent::kPteLoad, 0x1000);
  sched_point(SchedEvent::kLockAcquire);
  sched_blocked(SchedEvent::kLockAcquire);
  EXPECT_EQ(hook.events, (std::vector<SchedEvent>{SchedEvent::kPteLoad, SchedEvent::kLockAcquire}));
  EXPECT_EQ(hook.blocked_calls, 1);
  EXPECT_EQ(t.schedule_points, 3u);
}

TEST(Task, OperationScopeNestsAndRestores) {
  Task t{CpuId(0)};
  TaskScope s(t);
  {
    OperationScope a("alloc_fresh_hugetlb_folio");
    {
      OperationScope b("vmemmap_remap_free");
      EXPECT_EQ(current().operation, "vmemmap_remap_free");
    }
    EXPECT_EQ(current().operation, "alloc_fresh_hugetlb_folio");
  }
  EXPECT_EQ(current().operation, "idle");
}

}  // namespace
}  // namespace hvo
