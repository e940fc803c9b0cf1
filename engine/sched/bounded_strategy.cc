#include "engine/sched/bounded_strategy.h"

namespace hvo::sched {

void BoundedStrategy::begin_execution(uint64_t seed, unsigned nr_cpus) {
  depth_ = 0;
  preemptions_ = 0;
}

int BoundedStrategy::pick(const PickContext& ctx) {
  if (depth_ < stack_.size()) {
    // Replaying the prefix the DFS chose.
    const Node& n = stack_[depth_];
    if (n.enabled != ctx.enabled || n.current != ctx.current) return kDiverged;
    ++depth_;
    preemptions_ = n.preemptions_before + cost(n, n.chosen);
    return n.chosen;
  }
  // A new decision: continue the current CPU when it can (no preemption),
  // else the lowest enabled CPU. Alternatives come on backtracking.
  Node n{ctx.enabled, ctx.current, preemptions_, 0, 0};
  n.chosen = ctx.current_enabled() ? ctx.current : std::countr_zero(ctx.enabled);
  n.tried = cpu_bit(static_cast<unsigned>(n.chosen));
  stack_.push_back(n);
  ++depth_;
  preemptions_ = n.preemptions_before + cost(n, n.chosen);
  return n.chosen;
}

bool BoundedStrategy::end_execution(uint64_t steps) {
  ++schedules_;
  // An execution that diverged stopped inside the recorded prefix: the
  // nodes it did not reach are not on its path.
  stack_.resize(depth_);
  while (!stack_.empty()) {
    Node& n = stack_.back();
    for (CpuMask m = n.enabled & ~n.tried; m != 0; m &= m - 1) {
      const int c = std::countr_zero(m);
      n.tried |= cpu_bit(static_cast<unsigned>(c));
      if (n.preemptions_before + cost(n, c) <= bound_) {
        n.chosen = c;
        return true;
      }
    }
    stack_.pop_back();
  }
  return false;
}

}  // namespace hvo::sched
