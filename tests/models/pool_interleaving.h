// Forced interleavings for the pool tests of one model: a script of
// schedule-hook steps run on CPU 0's task, the other side run as a nested
// task of another CPU on the same OS thread (so it needs no waiting), and
// the queries on what the machine recorded. Used by pool_v6_10_test.cc and
// pool_v7_1_test.cc (with pool_6x_scenarios.h).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/schedule_point.h"
#include "engine/task.h"
#include "tests/models/pool_fixture.h"

namespace hvo::testing {

inline std::string first_violation(PoolWorld& w) {
  const std::vector<Violation> v = w.machine.violations().snapshot();
  return v.empty() ? "" : v.front().to_string();
}
inline uint64_t count(PoolWorld& w, ViolationKind k) { return w.machine.violations().count(k); }
inline std::optional<Violation> first_of(PoolWorld& w, ViolationKind k) {
  for (const Violation& v : w.machine.violations().snapshot())
    if (v.kind == k) return v;
  return std::nullopt;
}
inline Pfn only_folio(PoolWorld& w) {
  EXPECT_EQ(w.pool->folios().size(), 1u);
  return w.pool->folios().at(0).head;
}

// Whether the current task is inside `name` (at any depth).
inline bool in_operation(std::string_view name) {
  const Task& t = current();
  for (int i = 0; i < std::min(t.nr_operations, Task::kMaxOperations); ++i)
    if (t.operations[i] == name) return true;
  return false;
}
// Runs f as a task of another CPU, nested on this OS thread.
inline void on_cpu(unsigned cpu, const std::function<void()>& f) {
  Task t{CpuId(cpu)};
  TaskScope scope(t);
  f();
}

// A schedule hook that runs a script: each step's action once, at the first
// schedule point (after the previous step's) its condition accepts.
class Script : public ScheduleHook {
 public:
  struct Step {
    std::function<bool(const SchedulePoint&)> when;
    std::function<void(const SchedulePoint&)> action;
  };
  explicit Script(std::vector<Step> steps) : steps_(std::move(steps)) {}
  void point(const SchedulePoint& p) override {
    if (next_ >= steps_.size() || !steps_[next_].when(p)) return;
    Step& s = steps_[next_++];
    s.action(p);
  }
  void blocked(const SchedulePoint&) override {}
  [[nodiscard]] bool done() const { return next_ == steps_.size(); }

 private:
  std::vector<Step> steps_;
  size_t next_ = 0;
};

// Runs a grow by one folio on CPU 0 with the script installed.
inline void grow_one_with(PoolWorld& w, Script& script) {
  w.task.hook = &script;
  const uint64_t nr = w.pool->counters().nr_huge_pages;
  EXPECT_EQ(w.pool->set_max_huge_pages(nr + 1), nr + 1);
  w.task.hook = nullptr;
  EXPECT_TRUE(script.done()) << "the forced interleaving did not happen";
}

}  // namespace hvo::testing
