// Shared helpers for the engine tests: a small booted machine and a task per
// simulated CPU.
#pragma once

#include <functional>
#include <memory>

#include "engine/machine.h"
#include "engine/task.h"

namespace hvo::testing {

inline MachineConfig small_config(VmemmapMapping mapping = VmemmapMapping::kBasePages,
                                  PteAccess access = PteAccess::kOnce) {
  MachineConfig c;
  c.memory_bytes = uint64_t{256} << 20;
  c.vmemmap_mapping = mapping;
  c.pte_access = access;
  c.nr_cpus = 4;
  return c;
}

// A ScheduleHook that runs a callback at the n-th schedule point of the task
// it is installed on (1-based), to force an interleaving in a unit test.
class InjectAtPoint : public ScheduleHook {
 public:
  InjectAtPoint(uint64_t n, std::function<void()> action) : n_(n), action_(std::move(action)) {}
  void point(const SchedulePoint&) override {
    if (++seen_ == n_) action_();
  }
  void blocked(const SchedulePoint&) override {}

 private:
  uint64_t n_;
  uint64_t seen_ = 0;
  std::function<void()> action_;
};

}  // namespace hvo::testing
