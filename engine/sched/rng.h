// The strategies' random numbers: SplitMix64 (Steele, Lea, Flood 2014).
//
// Our own generator rather than <random>'s distributions: those are
// implementation-defined (libstdc++ and libc++ draw differently), and a seed
// must name the same schedule on every standard library and every build.
#pragma once

#include <cstdint>

namespace hvo::sched {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n), n > 0: Lemire's multiply-shift on the high 32 bits.
  // The bias is below n / 2^32, irrelevant for n <= 64 CPUs or a few
  // million steps, and the draw costs one multiplication.
  uint64_t below(uint64_t n) {
    if (n <= UINT32_MAX) return ((next() >> 32) * n) >> 32;
    return next() % n;
  }

 private:
  uint64_t state_;
};

}  // namespace hvo::sched
