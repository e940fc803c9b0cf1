// `pct`: Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi,
// Nagarakatte, ASPLOS 2010).
//
// Each execution gives the n CPUs random distinct priorities d+n-1 .. d
// (higher runs first) and picks d-1 priority change points uniformly among
// the k steps of an execution. The scheduler always runs the enabled CPU of
// highest priority; at the i-th change point the CPU about to run that step
// drops to priority d-i, below every initial priority and below the CPUs
// demoted before it. A bug of depth d (d ordering
// constraints between steps) is then found with probability at least
// 1/(n k^(d-1)) per execution, whatever the program, where a random walk's
// chance can be exponentially small in k.
//
// k is counted in the strategy's own decisions (the steps where a schedule
// can change). It comes from Options::pct_steps when given; otherwise the
// first execution runs without change points and measures it, and k keeps
// growing to the longest execution seen, so that change points can land
// anywhere in long executions too.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/sched/rng.h"
#include "engine/sched/strategy.h"

namespace hvo::sched {

class PctStrategy final : public Strategy {
 public:
  // depth >= 1 (d = 1: no change point, plain priority scheduling);
  // steps_estimate = k, 0 to measure it on the first execution.
  PctStrategy(unsigned depth, uint64_t steps_estimate);

  [[nodiscard]] std::string_view name() const override { return "pct"; }
  void begin_execution(uint64_t seed, unsigned nr_cpus) override;
  int pick(const PickContext& ctx) override;
  // Uniform over the entries, from this execution's random stream: entry
  // indices are no CPUs, they have no priority.
  int pick_entry(const PickContext& ctx) override;
  bool end_execution(uint64_t steps) override;

  [[nodiscard]] uint64_t steps_estimate() const { return k_; }

 private:
  const unsigned depth_;
  uint64_t k_;                           // decisions per execution (estimate)
  uint64_t decisions_ = 0;               // decisions taken in this execution
  std::array<uint32_t, kMaxCpus> priority_{};
  std::vector<uint64_t> change_points_;  // sorted ascending, each in [1, k]
  size_t next_change_ = 0;               // index of the next change point
  SplitMix64 rng_;
};

}  // namespace hvo::sched
