#include "engine/sched/pct_strategy.h"

#include <algorithm>
#include <numeric>

#include "engine/check.h"

namespace hvo::sched {

PctStrategy::PctStrategy(unsigned depth, uint64_t steps_estimate) : depth_(depth), k_(steps_estimate) {
  HVO_CHECK(depth >= 1, "PCT depth must be at least 1");
}

void PctStrategy::begin_execution(uint64_t seed, unsigned nr_cpus) {
  HVO_CHECK(nr_cpus <= kMaxCpus, "too many CPUs for PCT");
  rng_ = SplitMix64(seed);
  decisions_ = 0;
  next_change_ = 0;
  // Random distinct priorities depth .. depth+n-1: a Fisher-Yates shuffle.
  std::iota(priority_.begin(), priority_.begin() + nr_cpus, depth_);
  for (unsigned i = nr_cpus; i > 1; --i) std::swap(priority_[i - 1], priority_[rng_.below(i)]);
  // d-1 distinct change points uniform in [1, k]; none while k is unknown.
  change_points_.clear();
  const uint64_t wanted = std::min<uint64_t>(depth_ - 1, k_);
  while (change_points_.size() < wanted) {
    const uint64_t c = 1 + rng_.below(k_);
    if (std::find(change_points_.begin(), change_points_.end(), c) == change_points_.end())
      change_points_.push_back(c);
  }
  std::sort(change_points_.begin(), change_points_.end());
}

int PctStrategy::pick(const PickContext& ctx) {
  ++decisions_;
  auto highest = [&] {
    int best = kNoCpu;
    for (CpuMask m = ctx.enabled; m != 0; m &= m - 1) {
      const int cpu = std::countr_zero(m);
      if (best == kNoCpu || priority_[cpu] > priority_[best]) best = cpu;
    }
    return best;
  };
  int next = highest();
  if (next_change_ < change_points_.size() && change_points_[next_change_] == decisions_) {
    ++next_change_;
    // The i-th change point (i = next_change_) demotes the CPU about to run
    // to d - i: below all initial priorities (>= d) and the earlier demoted.
    priority_[next] = depth_ - static_cast<uint32_t>(next_change_);
    next = highest();
  }
  return next;
}

int PctStrategy::pick_entry(const PickContext& ctx) {
  return static_cast<int>(nth_cpu(ctx.enabled, static_cast<unsigned>(rng_.below(cpu_count(ctx.enabled)))));
}

bool PctStrategy::end_execution(uint64_t steps) {
  k_ = std::max(k_, decisions_);
  return true;
}

}  // namespace hvo::sched
