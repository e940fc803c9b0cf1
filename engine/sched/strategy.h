// A scheduling strategy: at each decision, which runnable CPU runs next.
//
// The scheduler asks at every schedule point of the running CPU (may it
// continue, or does another CPU take over?) and whenever the running CPU
// cannot continue (it blocked or finished). The strategy sees only the
// decision's context, never the program, so one strategy drives any
// scenario; the scheduler records the decisions that switched CPUs, which
// replay the execution whatever strategy made them.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <string_view>

namespace hvo::sched {

// A set of CPUs, bit i = CPU i. 64 simulated CPUs at most in controlled mode.
using CpuMask = uint64_t;
inline constexpr unsigned kMaxCpus = 64;

constexpr CpuMask cpu_bit(unsigned cpu) { return CpuMask{1} << cpu; }
constexpr bool contains(CpuMask m, unsigned cpu) { return (m >> cpu) & 1; }
// How many CPUs `m` holds. Not std::popcount: without -mpopcnt (the x86-64
// baseline) that is a call into libgcc, on the path of every decision.
constexpr unsigned cpu_count(CpuMask m) {
  m = m - ((m >> 1) & 0x5555555555555555ULL);
  m = (m & 0x3333333333333333ULL) + ((m >> 2) & 0x3333333333333333ULL);
  m = (m + (m >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<unsigned>((m * 0x0101010101010101ULL) >> 56);
}
static_assert(cpu_count(0) == 0 && cpu_count(0b1011) == 3 && cpu_count(~CpuMask{0}) == 64);
// The index of the n-th (from 0) CPU of `m`, which has more than n.
inline unsigned nth_cpu(CpuMask m, unsigned n) {
  for (; n > 0; --n) m &= m - 1;  // drop the lowest n bits
  return static_cast<unsigned>(std::countr_zero(m));
}

inline constexpr int kNoCpu = -1;

struct PickContext {
  uint64_t step = 0;     // the execution's step count: replay matches decisions on it
  CpuMask enabled = 0;   // the CPUs that may run next; never empty
  int current = kNoCpu;  // the CPU that ran last; kNoCpu before the first pick

  // Whether picking another CPU than `current` is a preemption: `current`
  // could have continued (Musuvathi & Qadeer's definition).
  [[nodiscard]] bool current_enabled() const { return current >= 0 && contains(enabled, current); }
};

class Strategy {
 public:
  // Returned by pick() when the strategy cannot follow this execution (a
  // replay whose recorded CPU is not runnable): the scheduler ends the
  // execution with Verdict::kDiverged.
  static constexpr int kDiverged = -2;

  virtual ~Strategy() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Before each execution; `seed` is the execution's own seed.
  virtual void begin_execution(uint64_t seed, unsigned nr_cpus) = 0;
  // A CPU of ctx.enabled, or kDiverged. Asked only when there is a choice
  // (two CPUs or more enabled); forced moves are not decisions.
  virtual int pick(const PickContext& ctx) = 0;
  // A choice that is not between CPUs: which of a CPU's buffered stores
  // drains next under the weak memory model (ctx.enabled: entry indices,
  // ctx.current: kNoCpu). Recorded and replayed like pick()'s choices. By
  // default pick(); a strategy whose picks follow CPU priorities (pct)
  // draws it instead.
  virtual int pick_entry(const PickContext& ctx) { return pick(ctx); }
  // After each execution, with its step and decision counts. False when the
  // strategy has nothing left to explore (bounded search exhausted).
  virtual bool end_execution(uint64_t steps) = 0;
  // Whether the execution just ended consumed everything the strategy had
  // to follow (a replay must use every recorded decision).
  [[nodiscard]] virtual bool complete() const { return true; }
};

}  // namespace hvo::sched
