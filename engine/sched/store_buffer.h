// A CPU's store buffer (memory_model.h): the stores it made that other CPUs
// cannot see yet. Entries keep the host location they will be written to,
// so draining one is a host store of `size` bytes, done on the scheduler's
// one OS thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace hvo::sched {

struct BufferedStore {
  uint64_t address = 0;  // the simulated address (for coherence and forwarding)
  void* host = nullptr;  // where the value goes when the entry drains
  uint64_t value = 0;    // the value's bytes, little-endian in the low `size` bytes
  uint8_t size = 8;
  bool release = false;         // a release store: may not overtake older entries
  bool after_barrier = false;   // an smp_wmb() came between it and the older entries
};

class StoreBuffer {
 public:
  void clear() { entries_.clear(); next_barrier_ = false; }
  [[nodiscard]] bool empty() const { return entries_.empty(); }
  [[nodiscard]] size_t size() const { return entries_.size(); }

  void push(BufferedStore s) {
    s.after_barrier = next_barrier_;
    next_barrier_ = false;
    entries_.push_back(s);
  }
  // smp_wmb(): the next store may not overtake the ones buffered now.
  void barrier() { next_barrier_ = !entries_.empty(); }

  enum class Forward : uint8_t { kMiss, kHit, kOverlap };
  // Store-to-load forwarding: the youngest entry to exactly [address, size)
  // gives the value (kHit); one that only overlaps it asks the caller to
  // drain first (kOverlap), so that a load never mixes buffer and memory.
  [[nodiscard]] Forward forward(uint64_t address, uint8_t size, uint64_t& value) const;

  // The youngest entry that may be written before all the older ones, if
  // it is not the oldest: no release, no barrier since the oldest, no older
  // entry to an overlapping location.
  [[nodiscard]] std::optional<size_t> overtaking() const;

  // Writes entry i to memory and removes it; returns its address.
  uint64_t drain(size_t i);
  void drain_all() {
    while (!entries_.empty()) drain(0);
  }

 private:
  std::vector<BufferedStore> entries_;  // oldest first
  bool next_barrier_ = false;
};

}  // namespace hvo::sched
