// The campaign's random numbers: SplitMix64 (Steele, Lea, Flood 2014), small
// and fast, with a stream per actor derived from (seed, stream) so that one
// seed names every choice of every actor, whatever the thread timing.
#pragma once

#include <cstdint>

namespace hvo::stress {

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : state_(mix(seed ^ mix(stream + 0x9e3779b97f4a7c15ULL))) {}

  uint64_t next() { return mix(state_ += 0x9e3779b97f4a7c15ULL); }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for
  // the ranges used here).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

}  // namespace hvo::stress
