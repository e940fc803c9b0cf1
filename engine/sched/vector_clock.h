// A vector clock over the simulated CPUs of one controlled execution
// (Lamport 1978, Mattern 1989), and the epoch c@t of FastTrack (Flanagan and
// Freund, PLDI 2009): one component, enough to name one access.
//
// Fixed size (kMaxCpus components, only the first `n` used): clocks live in
// arrays reused across executions, so that a small scenario's execution
// allocates nothing for them.
//
// Speed: the operations on "the first n components" work on whole blocks of
// kLanes components. A scenario of up to kLanes CPUs (mp2, cas4, a
// campaign's 2 to 4 CPUs) then gets fixed-length loops the compiler turns
// into a few vector instructions, where a loop of unknown length became a
// call to memset/memmove or a scalar loop with its branch per component.
// The components from n to the end of the block are unused; the block-wide
// clear() keeps them at 0 and every other operation keeps them so (the max
// or copy of zeros), so touching them changes nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "engine/sched/strategy.h"

namespace hvo::sched {

struct VectorClock {
  static constexpr unsigned kLanes = 4;
  static_assert(kMaxCpus % kLanes == 0);
  std::array<uint32_t, kMaxCpus> c{};

  void clear(unsigned n) {
    if (n <= kLanes) [[likely]] {
      for (unsigned i = 0; i < kLanes; ++i) c[i] = 0;
      return;
    }
    std::fill_n(c.begin(), lanes(n), 0u);
  }
  // Copies the first n components (the others are unused): cheaper than
  // the whole 256-byte array on every release.
  void assign(const VectorClock& o, unsigned n) {
    if (n <= kLanes) [[likely]] {
      for (unsigned i = 0; i < kLanes; ++i) c[i] = o.c[i];
      return;
    }
    std::copy_n(o.c.begin(), lanes(n), c.begin());
  }
  void join(const VectorClock& o, unsigned n) {
    if (n <= kLanes) [[likely]] {
      for (unsigned i = 0; i < kLanes; ++i) c[i] = std::max(c[i], o.c[i]);
      return;
    }
    for (unsigned i = 0; i < lanes(n); ++i) c[i] = std::max(c[i], o.c[i]);
  }
  // The access c@t happened before everything this clock knows of.
  [[nodiscard]] bool covers(unsigned cpu, uint32_t clock) const { return clock <= c[cpu]; }

 private:
  // n rounded up to whole blocks.
  static unsigned lanes(unsigned n) { return (n + kLanes - 1) / kLanes * kLanes; }
};

}  // namespace hvo::sched
