// What identifies an execution: its decision record (enough to replay it)
// and its trace hash (enough to tell two executions apart).
#pragma once

#include <cstdint>
#include <vector>

namespace hvo::sched {

// One scheduling decision that switched CPUs: before step `step` the
// scheduler ran `cpu` instead of the CPU that ran last. Decisions that let
// the current CPU continue are not recorded: the list of switches alone
// replays the execution (a replay continues the current CPU wherever the
// list says nothing).
struct Decision {
  uint64_t step = 0;
  uint32_t cpu = 0;
  friend bool operator==(const Decision&, const Decision&) = default;
};
using DecisionRecord = std::vector<Decision>;

// A 64-bit hash of the sequence of (step, cpu, event, address, value) of
// every schedule point: FNV-1a's xor-multiply on 64-bit words, with a final
// avalanche (SplitMix64's finalizer) so that nearby traces give unrelated
// hashes. Cheap (three multiplications a step) and identical on every
// build: no host address, no pointer and no time goes in.
class TraceHash {
 public:
  static constexpr uint64_t kOffset = 0xcbf29ce484222325ULL;
  static constexpr uint64_t kPrime = 0x100000001b3ULL;

  void reset() { h_ = kOffset; }

  // `event` packs the event and anything else the step is about (the access
  // kind and memory order of a Shared access) into its low 32 bits.
  void add(uint64_t step, uint32_t cpu, uint32_t event, uint64_t address, uint64_t value) {
    mix((step << 32) ^ (uint64_t{cpu} << 24) ^ event);
    mix(address);
    mix(value);
  }

  [[nodiscard]] uint64_t value() const {
    uint64_t z = h_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  void mix(uint64_t w) { h_ = (h_ ^ w) * kPrime; }
  uint64_t h_ = kOffset;
};

}  // namespace hvo::sched
