#include "engine/sched/race_detector.h"

#include <algorithm>

#include <fmt/format.h>

namespace hvo::sched {

namespace {

// As bit sets over AccessKind: one shift and mask on every access.
constexpr unsigned kind_bit(AccessKind k) { return 1u << static_cast<unsigned>(k); }
constexpr unsigned kReadingKinds = kind_bit(AccessKind::kLoad) | kind_bit(AccessKind::kPlainLoad) |
                                   kind_bit(AccessKind::kRmw) | kind_bit(AccessKind::kCas);
constexpr unsigned kWritingKinds = kind_bit(AccessKind::kStore) | kind_bit(AccessKind::kPlainStore) |
                                   kind_bit(AccessKind::kRmw) | kind_bit(AccessKind::kCas);
bool reads_word(AccessKind k) { return (kReadingKinds & kind_bit(k)) != 0; }
bool writes_word(AccessKind k) { return (kWritingKinds & kind_bit(k)) != 0; }
// consume is promoted to acquire, as every compiler does.
bool acquires(std::memory_order o) {
  return o == std::memory_order_consume || o == std::memory_order_acquire || o == std::memory_order_acq_rel ||
         o == std::memory_order_seq_cst;
}
bool releases(std::memory_order o) {
  return o == std::memory_order_release || o == std::memory_order_acq_rel || o == std::memory_order_seq_cst;
}

std::string_view order_name(std::memory_order o) {
  switch (o) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
  }
  return "?";
}

std::string access_name(const AccessRecord& r) {
  switch (r.kind) {
    case AccessKind::kPlainLoad: return fmt::format("plain {}-byte load", r.size);
    case AccessKind::kPlainStore: return fmt::format("plain {}-byte store", r.size);
    case AccessKind::kLoad: return fmt::format("{} {}-byte atomic load", order_name(r.order), r.size);
    case AccessKind::kStore: return fmt::format("{} {}-byte atomic store", order_name(r.order), r.size);
    case AccessKind::kRmw: return fmt::format("{} {}-byte atomic RMW", order_name(r.order), r.size);
    case AccessKind::kCas: return fmt::format("{} {}-byte CAS", order_name(r.order), r.size);
  }
  return "?";
}

}  // namespace

std::string Race::describe() const {
  return fmt::format("data race on word {:#x}: {} of {:#x} by CPU {} at step {} and {} of {:#x} by CPU {} at step {}, "
                     "not ordered by happens-before",
                     word, access_name(earlier), earlier.address, earlier.cpu, earlier.step, access_name(later),
                     later.address, later.cpu, later.step);
}

void RaceDetector::begin(unsigned cpus) {
  n_ = cpus;
  if (cpus_.size() < cpus) cpus_.resize(cpus);
  for (unsigned i = 0; i < cpus; ++i) {
    CpuState& c = cpus_[i];
    c.now.clear(cpus);
    c.now.c[i] = 1;  // epoch 0 means "never": every real access has clock >= 1
    c.release_fence.clear(cpus);
    c.acquired.clear(cpus);
    c.has_release_fence = false;
  }
  words_.clear();
  locks_.clear();
  sync_used_ = 0;
}

// check(), remember(), sync_clock() and synchronize(): inline steps of
// access() (race_detector.h), defined before it.
inline std::optional<Race> RaceDetector::check(unsigned cpu, Shadow& s, const AccessRecord& now, bool writes) {
  auto races_with = [&](const AccessRecord& r) {
    return r.cpu != cpu && (now.plain() || r.plain()) && !ordered(cpu, r);
  };
  if (s.has_write && races_with(s.write)) return Race{0, s.write, now};
  if (writes) {
    for (const AccessRecord& r : s.reads)
      if (races_with(r)) return Race{0, r, now};
  }
  return std::nullopt;
}

inline void RaceDetector::remember(unsigned cpu, Shadow& s, const AccessRecord& now, bool reads, bool writes) {
  if (now.plain()) s.plain_seen = true;
  if (writes) {
    s.write = now;
    s.has_write = true;
    // Reads ordered before this write can race with no later access that
    // this write does not already stand for (FastTrack's read reset); keep
    // the concurrent ones (atomic, or already reported).
    std::erase_if(s.reads, [&](const AccessRecord& r) { return r.cpu == cpu || ordered(cpu, r); });
    return;
  }
  if (!reads) return;
  for (AccessRecord& r : s.reads) {
    if (r.cpu == cpu && r.plain() == now.plain()) {
      r = now;  // program order: the later read of the same CPU stands for both
      return;
    }
  }
  s.reads.push_back(now);
}

inline VectorClock& RaceDetector::sync_clock(Shadow& s) {
  if (s.sync < 0) {
    if (sync_used_ == sync_clocks_.size()) sync_clocks_.emplace_back();
    s.sync = static_cast<int>(sync_used_++);
    sync_clocks_[static_cast<size_t>(s.sync)].clear(n_);
  }
  return sync_clocks_[static_cast<size_t>(s.sync)];
}

inline void RaceDetector::synchronize(unsigned cpu, Shadow& s, const MemoryAccess& a, bool reads, bool writes) {
  CpuState& me = cpus_[cpu];
  if (reads && s.sync >= 0) {
    const VectorClock& released = sync_clocks_[static_cast<size_t>(s.sync)];
    // An acquire synchronizes with the release heading the sequence it
    // reads from; a relaxed read only does so at the CPU's next acquire fence.
    if (acquires(a.order)) {
      me.now.join(released, n_);
    } else {
      me.acquired.join(released, n_);
    }
  }
  if (!writes) return;
  const bool rmw = reads;
  if (releases(a.order)) {
    VectorClock& c = sync_clock(s);
    if (rmw) {
      c.join(me.now, n_);  // an RMW extends the release sequence it read from
    } else {
      c.assign(me.now, n_);  // a store heads a new one
    }
    tick(cpu);  // what follows is not covered by this release
  } else if (rmw) {
    // A relaxed RMW continues the release sequence; after a release fence
    // it also carries the fence's clock (fence-atomic synchronization).
    if (me.has_release_fence) sync_clock(s).join(me.release_fence, n_);
  } else if (me.has_release_fence) {
    sync_clock(s).assign(me.release_fence, n_);  // a relaxed store after smp_wmb(): release by the fence
  } else {
    s.sync = -1;  // a relaxed store ends the release sequence (C++20 [intro.races])
  }
}

std::optional<Race> RaceDetector::access(unsigned cpu, uint64_t step, const MemoryAccess& a) {
  const bool reads = reads_word(a.kind);
  const bool writes = writes_word(a.kind);
  const uint64_t word = a.address & ~uint64_t{7};
  Shadow& s = words_[word];
  const AccessRecord now{step, cpus_[cpu].now.c[cpu], static_cast<uint8_t>(cpu), a.kind, a.order, a.size, a.address};
  std::optional<Race> race;
  // Atomic against atomic never races: an atomic access to a word no plain
  // access touched in this execution has nothing to check (the common case
  // of synchronization words, and all of mp2 and cas4).
  if (!s.reported && (now.plain() || s.plain_seen)) {
    // Before this access's own synchronization: what it acquires from this
    // very word is an atomic's, which cannot race with it anyway.
    race = check(cpu, s, now, writes);
    if (race) {
      race->word = word;
      s.reported = true;
    }
  }
  // The epoch recorded is the one before a release's tick: the access is
  // covered by its own release.
  remember(cpu, s, now, reads, writes);
  if (!now.plain()) synchronize(cpu, s, a, reads, writes);
  return race;
}

void RaceDetector::acquire(unsigned cpu, const void* sync) {
  if (const LockClock* l = locks_.find(reinterpret_cast<uintptr_t>(sync))) cpus_[cpu].now.join(l->released, n_);
}

void RaceDetector::release(unsigned cpu, const void* sync) {
  // Joined, not assigned: an rwsem's readers release into one word and the
  // next writer is ordered after all of them.
  LockClock& l = locks_[reinterpret_cast<uintptr_t>(sync)];
  l.released.join(cpus_[cpu].now, n_);
  tick(cpu);
}

void RaceDetector::fence(unsigned cpu, std::memory_order mo) {
  CpuState& me = cpus_[cpu];
  if (acquires(mo)) me.now.join(me.acquired, n_);
  if (releases(mo)) {
    me.release_fence.assign(me.now, n_);
    me.has_release_fence = true;
    tick(cpu);
  }
}

void RaceDetector::ipi_all(unsigned cpu) {
  VectorClock flusher;
  flusher.assign(cpus_[cpu].now, n_);
  for (unsigned u = 0; u < n_; ++u) {
    if (u == cpu) continue;
    cpus_[cpu].now.join(cpus_[u].now, n_);  // the flusher waits for every handler
    cpus_[u].now.join(flusher, n_);         // each handler runs after the flusher's stores
    tick(u);
  }
  tick(cpu);
}

}  // namespace hvo::sched
