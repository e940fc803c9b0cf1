// `bounded`: exhaustive search over every schedule with at most P
// preemptions (Musuvathi & Qadeer, "Iterative context bounding", PLDI 2007;
// CHESS). A preemption is a switch away from a CPU that could have
// continued; switching away from a CPU that blocked or finished is free.
// Most concurrency bugs need very few preemptions, and the number of such
// schedules is polynomial in the program's length where the number of all
// schedules is exponential.
//
// Stateless search: nothing of the program is saved. Each schedule is a
// fresh execution from the scenario's setup, driven along the recorded
// prefix of the DFS stack and extended with the first untried choice.
// After each execution the deepest decision with an untried alternative
// within the bound moves to it; when none is left the space is exhausted
// and schedules() is the exact number explored. Scenarios must therefore be
// deterministic (same choices, same enabled sets); a prefix that does not
// repeat is reported as Verdict::kDiverged.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/sched/strategy.h"

namespace hvo::sched {

class BoundedStrategy final : public Strategy {
 public:
  explicit BoundedStrategy(unsigned max_preemptions) : bound_(max_preemptions) {}

  [[nodiscard]] std::string_view name() const override { return "bounded"; }
  void begin_execution(uint64_t seed, unsigned nr_cpus) override;
  int pick(const PickContext& ctx) override;
  bool end_execution(uint64_t steps) override;

  // Schedules run so far; once end_execution() returned false, all of them.
  [[nodiscard]] uint64_t schedules() const { return schedules_; }

 private:
  struct Node {
    CpuMask enabled;
    int current;
    unsigned preemptions_before;  // on the path down to this decision
    int chosen;
    CpuMask tried;                // choices explored or being explored
  };
  [[nodiscard]] static unsigned cost(const Node& n, int choice) {
    return n.current >= 0 && contains(n.enabled, n.current) && choice != n.current ? 1 : 0;
  }

  const unsigned bound_;
  std::vector<Node> stack_;  // the decisions of the current schedule, outermost first
  size_t depth_ = 0;         // decisions taken in this execution
  unsigned preemptions_ = 0; // in this execution so far
  uint64_t schedules_ = 0;
};

}  // namespace hvo::sched
