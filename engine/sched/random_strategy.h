// `random`: a uniform random walk. At every decision each enabled CPU is
// equally likely, the running one included, so a seed names one schedule.
// Good at shallow bugs and as a baseline; deep orderings (a CPU that must
// run between two particular steps of another) are exponentially rare,
// which is what PCT fixes.
#pragma once

#include "engine/sched/rng.h"
#include "engine/sched/strategy.h"

namespace hvo::sched {

class RandomStrategy final : public Strategy {
 public:
  [[nodiscard]] std::string_view name() const override { return "random"; }
  void begin_execution(uint64_t seed, unsigned nr_cpus) override;
  int pick(const PickContext& ctx) override;
  bool end_execution(uint64_t steps) override { return true; }

 private:
  SplitMix64 rng_;
};

}  // namespace hvo::sched
