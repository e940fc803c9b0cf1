#include "engine/alloc_failure.h"

#include "engine/check.h"

namespace hvo {

namespace {

// splitmix64's finaliser: a bijective 64-bit mix with full avalanche, so
// consecutive indices give independent-looking values.
constexpr uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform double in [0, 1) from (seed, index): counter-based, so no
// generator state is shared between the threads that allocate.
double uniform(uint64_t seed, uint64_t index) {
  constexpr double kTwoToMinus53 = 1.0 / static_cast<double>(uint64_t{1} << 53);
  return static_cast<double>(mix64(seed ^ mix64(index)) >> 11) * kTwoToMinus53;
}

}  // namespace

void AllocFailureInjector::fail_with_probability(double p, uint64_t seed) {
  HVO_CHECK(p >= 0.0 && p <= 1.0, "failure probability outside [0, 1]");
  set_policy(Policy::kProbability, p, seed, 0);
}

void AllocFailureInjector::fail_nth(uint64_t n) {
  HVO_CHECK(n >= 1, "fail_nth counts from 1");
  set_policy(Policy::kNth, 0, 0, n);
}

void AllocFailureInjector::fail_every_from(uint64_t n) {
  HVO_CHECK(n >= 1, "fail_every_from counts from 1");
  set_policy(Policy::kEveryFrom, 0, 0, n);
}

void AllocFailureInjector::configure(const FaultAttr& attr, uint64_t seed) {
  HVO_CHECK(attr.probability_percent >= 0.0 && attr.probability_percent <= 100.0, "probability outside [0, 100]");
  HVO_CHECK(attr.interval >= 1, "interval counts from 1");
  set_min_order(attr.min_order);
  // Before the policy: a reader that sees the policy sees its times.
  times_left_.store(attr.times);
  set_policy(Policy::kFaultAttr, attr.probability_percent / 100.0, seed, attr.interval);
}

bool AllocFailureInjector::take_time() {
  int64_t left = times_left_.load();
  for (;;) {
    if (left < 0) return true;    // -1: no limit
    if (left == 0) return false;  // "if (atomic_read(&attr->times) == 0) return false;"
    if (times_left_.compare_exchange_weak(left, left - 1)) return true;
  }
}

void AllocFailureInjector::disable() { set_policy(Policy::kOff, 0, 0, 0); }

void AllocFailureInjector::set_min_order(Order order) {
  HostLockGuard g(write_mu_);
  Config c = load_fields();
  c.min_order = order.value();
  store_fields(c);
}

void AllocFailureInjector::set_policy(Policy policy, double probability, uint64_t seed, uint64_t n) {
  HostLockGuard g(write_mu_);
  Config c = load_fields();
  c.policy = policy;
  c.probability = probability;
  c.seed = seed;
  c.n = n;
  c.base = allocations_.load();
  store_fields(c);
}

AllocFailureInjector::Policy AllocFailureInjector::policy() const { return read_config().policy; }

bool AllocFailureInjector::should_fail(Gfp gfp, Order order) {
  // should_fail_alloc_page(): "if (gfp_mask & __GFP_NOFAIL) return false;"
  if (has(gfp, Gfp::kNoFail)) return false;
  const Config c = read_config();
  // The kernel returns before should_fail() for a small order, so such an
  // allocation neither fails nor takes an index.
  if (order.value() < c.min_order) return false;
  const uint64_t index = allocations_.fetch_add(1) + 1;
  if (AllocDecider* d = decider_.load(std::memory_order_relaxed)) {
    if (!d->fail(gfp, order)) return false;
  } else {
    if (!decide(c, index)) return false;
    if (c.policy == Policy::kFaultAttr && !take_time()) return false;
  }
  injected_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool AllocFailureInjector::decide(const Config& c, uint64_t index) {
  // An index drawn before the policy was set (a reader that raced with the
  // writer) belongs to the previous policy: never fail it under this one.
  if (index <= c.base) return false;
  const uint64_t since = index - c.base;
  switch (c.policy) {
    case Policy::kOff: return false;
    case Policy::kProbability: return uniform(c.seed, since) < c.probability;
    case Policy::kNth: return since == c.n;
    case Policy::kEveryFrom: return since >= c.n;
    // fail_page_alloc's should_fail(): "if (attr->interval > 1) { attr->count++;
    // if (attr->count % attr->interval) return false; }", then the probability.
    case Policy::kFaultAttr: return since % c.n == 0 && uniform(c.seed, since) < c.probability;
  }
  return false;
}

AllocFailureInjector::Config AllocFailureInjector::read_config() const {
  for (;;) {
    const uint64_t before = seq_.load();
    if (before % 2 != 0) continue;  // a writer is in the middle
    const Config c = load_fields();
    if (seq_.load() == before) return c;
  }
}

AllocFailureInjector::Config AllocFailureInjector::load_fields() const {
  Config c;
  c.policy = policy_.load();
  c.min_order = min_order_.load();
  c.seed = seed_.load();
  c.probability = probability_.load();
  c.base = base_.load();
  c.n = n_.load();
  return c;
}

void AllocFailureInjector::store_fields(const Config& c) {
  seq_.fetch_add(1);  // odd: readers retry
  policy_.store(c.policy);
  min_order_.store(c.min_order);
  seed_.store(c.seed);
  probability_.store(c.probability);
  base_.store(c.base);
  n_.store(c.n);
  seq_.fetch_add(1);  // even: the new configuration is complete
}

}  // namespace hvo
