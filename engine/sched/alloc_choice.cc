#include "engine/sched/alloc_choice.h"

#include <utility>

namespace hvo::sched {

namespace {
// Salt for the choice's generator: a different stream from the strategy's,
// which is seeded with the bare execution seed.
constexpr uint64_t kAllocChoiceSalt = 0xa110c0fa11ed5eedULL;
}  // namespace

AllocChoice AllocChoice::explore(uint64_t budget, uint64_t seed) {
  AllocChoice c;
  c.budget_ = budget;
  c.rng_ = SplitMix64(seed ^ kAllocChoiceSalt);
  // Only an execution that may fail something draws its rate.
  if (budget > 0) c.rate_shift_ = 1 + static_cast<unsigned>(c.rng_.below(kMaxRateShift));
  return c;
}

AllocChoice AllocChoice::replay(std::vector<uint64_t> failed) {
  AllocChoice c;
  c.replaying_ = true;
  c.failed_ = std::move(failed);
  return c;
}

bool AllocChoice::fail(Gfp, Order) {
  const uint64_t index = ++points_;
  if (replaying_) {
    if (next_ >= failed_.size() || failed_[next_] != index) return false;
    ++next_;
    return true;
  }
  if (failed_.size() >= budget_) return false;
  if (rng_.below(uint64_t{1} << rate_shift_) != 0) return false;
  failed_.push_back(index);
  return true;
}

}  // namespace hvo::sched
