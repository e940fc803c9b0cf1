// An open-addressing hash table from a 64-bit key to a V, emptied in O(1)
// between executions by a generation stamp: slots (and what their V owns,
// e.g. a vector's capacity) are reused, so a small scenario's execution
// allocates nothing once the table has grown to its working set. The race
// detector's per-word shadow and per-lock clocks live in two of them.
#pragma once

#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

namespace hvo::sched {

template <class V>
class ShadowTable {
 public:
  ShadowTable() : slots_(kInitialSlots) {}

  // Forgets every entry (V::reset() runs when a slot is taken again).
  void clear() {
    ++generation_;
    used_ = 0;
  }

  // The entry of `key`, reset() on first use in this generation.
  V& operator[](uint64_t key) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    Slot& s = probe(key);
    if (s.generation != generation_) {
      s.generation = generation_;
      s.key = key;
      s.value.reset();
      ++used_;
    }
    return s.value;
  }

  // The entry of `key`, or null.
  V* find(uint64_t key) {
    Slot& s = probe(key);
    return s.generation == generation_ ? &s.value : nullptr;
  }

 private:
  static constexpr size_t kInitialSlots = 64;  // a power of two
  struct Slot {
    uint64_t key = 0;
    uint32_t generation = 0;  // live iff equal to the table's
    V value{};
  };

  // Fibonacci hashing of the key without its alignment bits; linear probing.
  Slot& probe(uint64_t key) {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(((key >> 3) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (slots_[i].generation == generation_ && slots_[i].key != key) i = (i + 1) & mask;
    return slots_[i];
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    const uint32_t live = generation_;
    for (Slot& s : old) {
      if (s.generation != live) continue;
      Slot& t = probe(s.key);
      t = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  uint32_t generation_ = 1;  // slots start at 0: empty
  size_t used_ = 0;
};

}  // namespace hvo::sched
