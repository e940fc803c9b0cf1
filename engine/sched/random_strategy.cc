#include "engine/sched/random_strategy.h"

namespace hvo::sched {

void RandomStrategy::begin_execution(uint64_t seed, unsigned nr_cpus) { rng_ = SplitMix64(seed); }

int RandomStrategy::pick(const PickContext& ctx) {
  const unsigned n = cpu_count(ctx.enabled);
  if (n == 1) return std::countr_zero(ctx.enabled);  // forced: no draw, no state change
  return static_cast<int>(nth_cpu(ctx.enabled, static_cast<unsigned>(rng_.below(n))));
}

}  // namespace hvo::sched
