// Allocation failure as an explored choice (controlled mode).
//
// Every allocation that may fail in the kernel is a decision point
// (AllocDecider): the k-th one of an execution (k from 1, counted in the
// order the execution makes them, which the schedule fixes) fails or not.
// Exploring, at most `budget` points fail, chosen from the execution's
// seed; replaying, exactly the recorded indices fail. The failed indices
// are the choice's record: with the schedule's decisions they name the
// execution, and the replay file keeps them ("alloc_failures").
//
// The draws come from a generator of their own, seeded from the execution's
// seed with a salt, never from the strategy's: an execution with budget 0
// makes no draw and so has the same schedule and trace as before this
// choice existed, and one with a budget explores the same schedules as
// without it up to its first failure.
//
// Exploring: each execution draws a rate 2^-r, r uniform in [1, kMaxRateShift],
// then fails each point with that probability while budget remains. The rate
// varies from execution to execution, so both the first allocations (rate
// 1/2) and late ones (1/32: the budget survives the early points) are
// failed across a campaign; one rate would starve one end.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/alloc_decider.h"
#include "engine/sched/rng.h"

namespace hvo::sched {

class AllocChoice final : public AllocDecider {
 public:
  static constexpr unsigned kMaxRateShift = 5;

  // Explores: at most `budget` failures, drawn from `seed`.
  [[nodiscard]] static AllocChoice explore(uint64_t budget, uint64_t seed);
  // Replays: fails exactly the points of `failed` (1-based, increasing).
  [[nodiscard]] static AllocChoice replay(std::vector<uint64_t> failed);

  [[nodiscard]] bool fail(Gfp gfp, Order order) override;

  // The points failed so far (1-based indices, increasing).
  [[nodiscard]] const std::vector<uint64_t>& failed() const { return failed_; }
  // Decision points seen so far.
  [[nodiscard]] uint64_t points() const { return points_; }
  // Replaying: whether every recorded failure was reached.
  [[nodiscard]] bool complete() const { return !replaying_ || next_ == failed_.size(); }

 private:
  AllocChoice() = default;

  bool replaying_ = false;
  uint64_t budget_ = 0;
  unsigned rate_shift_ = 1;
  SplitMix64 rng_;
  uint64_t points_ = 0;
  std::vector<uint64_t> failed_;
  size_t next_ = 0;  // replaying: the next recorded index to fail
};

}  // namespace hvo::sched
