// The data-race detector of controlled executions: happens-before by vector
// clocks, as TSan and KCSAN's strict mode mean it, with FastTrack's epochs
// (Flanagan and Freund, PLDI 2009) for the accesses remembered per word.
//
// Happens-before is program order plus synchronizes-with from:
//   - lock words (acquire after release of the same word: spinlock, mutex,
//     rwsem, the RCU slots),
//   - release/acquire atomics: a release store or RMW leaves its CPU's clock
//     on the word, an acquire load or RMW that reads it joins it; a relaxed
//     RMW continues the release sequence, a relaxed store ends it (C++20),
//   - fences: a release fence (smp_wmb) makes the CPU's later relaxed stores
//     carry the clock of the fence; an acquire fence (smp_rmb) joins what the
//     CPU's earlier relaxed loads read; seq_cst (smp_mb) is both,
//   - the TLB-flush IPI (flush_tlb_kernel_range's on_each_cpu with wait):
//     the flusher's clock reaches every CPU, and every CPU's reaches the
//     flusher, which waits for the handlers.
// A plain access and a conflicting access (at least one a write) by another
// CPU that happens-before orders in neither direction is a data race.
// Atomic against atomic never races (the word's value is still defined).
//
// Granularity: an 8-byte word (address & ~7), so the two 4-byte halves of a
// `plain` PTE and the 8-byte READ_ONCE of the hardware walk are one location.
// Per word: the last write and, per CPU, the last plain and the last atomic
// read not yet ordered before a later write. With only the last write kept,
// a write that raced with an atomic write before it may be missed (TSan's
// shadow has the same kind of bound). CAS is seen before it is performed:
// it counts as a successful RMW for both races and synchronization, which
// can only hide races (a failed release CAS publishes nothing), never invent
// one.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sched/memory_access.h"
#include "engine/sched/shadow_table.h"
#include "engine/sched/vector_clock.h"

namespace hvo::sched {

// One access, as remembered in a word's shadow.
struct AccessRecord {
  uint64_t step = 0;     // the schedule point that announced it
  uint32_t clock = 0;    // its CPU's own component then: the epoch clock@cpu
  uint8_t cpu = 0;
  AccessKind kind = AccessKind::kLoad;
  std::memory_order order = std::memory_order_relaxed;
  uint8_t size = 8;
  uint64_t address = 0;  // exact, for the report (the shadow is per word)

  [[nodiscard]] bool plain() const { return kind == AccessKind::kPlainLoad || kind == AccessKind::kPlainStore; }
};

// A data race: `earlier` was remembered, `later` is the access being made.
struct Race {
  uint64_t word = 0;
  AccessRecord earlier;
  AccessRecord later;
  [[nodiscard]] std::string describe() const;
};

class RaceDetector {
 public:
  // A new execution with `cpus` CPUs, none synchronized with another.
  void begin(unsigned cpus);

  // A word access by `cpu`, announced at `step`, about to be performed.
  // Returns the race it makes, if any (each word reports at most once per
  // execution, so a racy loop does not flood the log).
  std::optional<Race> access(unsigned cpu, uint64_t step, const MemoryAccess& a);
  // A successful acquire / a release of a synchronization word.
  void acquire(unsigned cpu, const void* sync);
  void release(unsigned cpu, const void* sync);
  void fence(unsigned cpu, std::memory_order mo);
  // on_each_cpu(..., wait=1) from `cpu`: see the header comment.
  void ipi_all(unsigned cpu);

 private:
  struct Shadow {
    AccessRecord write;
    bool has_write = false;
    bool reported = false;
    bool plain_seen = false;          // a plain access was remembered: atomics must be checked too
    std::vector<AccessRecord> reads;  // not yet ordered before a later write
    int sync = -1;                    // index in sync_clocks_: the release sequence's clock, -1 none
    void reset() {
      has_write = false;
      reported = false;
      plain_seen = false;
      reads.clear();  // keeps its capacity for the next execution
      sync = -1;
    }
  };
  struct LockClock {
    VectorClock released;
    void reset() { released = VectorClock{}; }
  };
  struct CpuState {
    VectorClock now;
    VectorClock release_fence;  // the clock of its last release fence
    VectorClock acquired;       // what its relaxed loads read, for its next acquire fence
    bool has_release_fence = false;
  };

  [[nodiscard]] bool ordered(unsigned cpu, const AccessRecord& r) const {
    return cpus_[cpu].now.covers(r.cpu, r.clock);
  }
  // The steps of access(), called from it alone (defined in
  // race_detector.cc): forced inline, since GCC does not inline a member
  // function with external linkage called once, and their calls (prologues,
  // spills) cost as much as their bodies on every access.
  [[gnu::always_inline]] inline std::optional<Race> check(unsigned cpu, Shadow& s, const AccessRecord& now,
                                                           bool writes);
  [[gnu::always_inline]] inline void remember(unsigned cpu, Shadow& s, const AccessRecord& now, bool reads,
                                              bool writes);
  [[gnu::always_inline]] inline void synchronize(unsigned cpu, Shadow& s, const MemoryAccess& a, bool reads,
                                                 bool writes);
  [[gnu::always_inline]] inline VectorClock& sync_clock(Shadow& s);
  void tick(unsigned cpu) { ++cpus_[cpu].now.c[cpu]; }

  unsigned n_ = 0;
  std::vector<CpuState> cpus_;
  ShadowTable<Shadow> words_;
  ShadowTable<LockClock> locks_;
  std::vector<VectorClock> sync_clocks_;  // words' release-sequence clocks, reused across executions
  size_t sync_used_ = 0;
};

}  // namespace hvo::sched
