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
  // Entry i, oldest first.
  [[nodiscard]] const BufferedStore& operator[](size_t i) const { return entries_[i]; }

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

  // The entries other than the oldest that may be written before all the
  // older ones: no release, no smp_wmb() between the oldest and it, no
  // older entry to an overlapping location (the oldest store per location
  // goes first: coherence). Under weak any of them may reach memory next.
  // As a mask of choices: bit i < 63 is entry i; bit 63 is the youngest
  // such entry when it is entry 63 or later (a page copy buffers 512
  // stores; the PTE store after it must still be able to overtake them).
  // The entries from 63 on other than the youngest wait their turn, which
  // hides, never invents, an order.
  struct Overtakers {
    uint64_t choices = 0;
    size_t youngest_beyond = 0;  // the entry of bit 63
    [[nodiscard]] size_t entry(unsigned bit) const { return bit == 63 ? youngest_beyond : bit; }
  };
  [[nodiscard]] Overtakers overtaking() const;

  // Writes entry i to memory and removes it; returns it, with `value`
  // replaced by the bytes it overwrote (what the other CPUs' invalidation
  // queues keep, under weak).
  BufferedStore drain(size_t i);
  void drain_all() {
    while (!entries_.empty()) drain(0);
  }

 private:
  std::vector<BufferedStore> entries_;  // oldest first
  bool next_barrier_ = false;
};

// The bytes at `host` (1, 2, 4 or 8 of them), as a relaxed host load.
uint64_t load_host(const void* host, uint8_t size);

// A CPU's invalidation queue (weak only): load->load reordering as in
// McKenney's "Memory Barriers: a Hardware View of Software Hackers" (2010).
// When another CPU's store reaches memory, this CPU is told late: it keeps
// the overwritten value as a stale entry, and its relaxed loads of that word
// return the stale value until the entry is applied. Applying the youngest
// entry is a choice offered to the strategy (so the CPU may see a recent
// store while still missing an older one: the message-passing reordering);
// smp_rmb(), smp_mb(), acquire loads, lock acquires and RMWs apply them all.
// Only stores after the CPU's last such synchronization point have entries,
// so a load after one sees at least everything it made visible.
struct StaleEntry {
  uint64_t address = 0;
  uint64_t value = 0;  // the overwritten bytes, little-endian in the low `size` bytes
  uint8_t size = 8;
};

class InvalidationQueue {
 public:
  // Bounds the stale view: past it the oldest entry is applied, which only
  // hides reorderings (a fresher value is always allowed).
  static constexpr size_t kCapacity = 64;

  void clear() { entries_.clear(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }
  [[nodiscard]] size_t size() const { return entries_.size(); }

  void push(uint64_t address, uint8_t size, uint64_t old_value);
  // This CPU's own store to [address, size) reached memory: it sees it, so
  // the older stale entries of that location go (coherence: CoWR).
  void forget(uint64_t address, uint8_t size);
  void apply_youngest() { entries_.pop_back(); }
  void apply_all() { entries_.clear(); }

  enum class Lookup : uint8_t { kFresh, kStale };
  // A relaxed load of [address, size): kStale with the value of the oldest
  // entry to exactly that location (the value this CPU's cache still holds;
  // returning the oldest keeps per-location coherence: applying entries only
  // moves the view forward). Entries that only overlap it are applied and
  // the load reads memory (kFresh), so a load never mixes old and new bytes.
  [[nodiscard]] Lookup lookup(uint64_t address, uint8_t size, uint64_t& value);

 private:
  std::vector<StaleEntry> entries_;  // oldest first
};

}  // namespace hvo::sched
