// A vector clock over the simulated CPUs of one controlled execution
// (Lamport 1978, Mattern 1989), and the epoch c@t of FastTrack (Flanagan and
// Freund, PLDI 2009): one component, enough to name one access.
//
// Fixed size (kMaxCpus components, only the first `n` used): clocks live in
// arrays reused across executions, so that a small scenario's execution
// allocates nothing for them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "engine/sched/strategy.h"

namespace hvo::sched {

struct VectorClock {
  std::array<uint32_t, kMaxCpus> c{};

  void clear(unsigned n) { std::fill_n(c.begin(), n, 0u); }
  // Copies the first n components (the others are unused): cheaper than
  // the whole 256-byte array on every release.
  void assign(const VectorClock& o, unsigned n) { std::copy_n(o.c.begin(), n, c.begin()); }
  void join(const VectorClock& o, unsigned n) {
    for (unsigned i = 0; i < n; ++i) c[i] = std::max(c[i], o.c[i]);
  }
  // The access c@t happened before everything this clock knows of.
  [[nodiscard]] bool covers(unsigned cpu, uint32_t clock) const { return clock <= c[cpu]; }
};

}  // namespace hvo::sched
