// `replay`: follows a recorded decision list (the switches of an earlier
// execution). Where the list names the step, the named CPU runs; elsewhere
// the current CPU continues. Anything else (the named CPU is not runnable,
// a switch is forced where the list says nothing, the list names a step
// that was not a decision, decisions left over at the end) means this is
// not the recorded execution: Verdict::kDiverged, never a silent guess.
#pragma once

#include <span>
#include <vector>

#include "engine/sched/strategy.h"
#include "engine/sched/trace.h"

namespace hvo::sched {

class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::span<const Decision> decisions)
      : decisions_(decisions.begin(), decisions.end()) {}

  [[nodiscard]] std::string_view name() const override { return "replay"; }
  void begin_execution(uint64_t seed, unsigned nr_cpus) override { next_ = 0; }
  int pick(const PickContext& ctx) override;
  bool end_execution(uint64_t steps) override { return true; }
  [[nodiscard]] bool complete() const override { return next_ == decisions_.size(); }

 private:
  std::vector<Decision> decisions_;
  size_t next_ = 0;
};

}  // namespace hvo::sched
