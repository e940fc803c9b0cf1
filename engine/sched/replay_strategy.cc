#include "engine/sched/replay_strategy.h"

namespace hvo::sched {

int ReplayStrategy::pick(const PickContext& ctx) {
  if (next_ < decisions_.size()) {
    const Decision& d = decisions_[next_];
    if (d.step < ctx.step) return kDiverged;  // the recorded step was not a decision here
    if (d.step == ctx.step) {
      ++next_;
      if (d.cpu >= kMaxCpus || !contains(ctx.enabled, d.cpu)) return kDiverged;
      return static_cast<int>(d.cpu);
    }
  }
  // The record says nothing: the current CPU continued.
  return ctx.current_enabled() ? ctx.current : kDiverged;
}

}  // namespace hvo::sched
