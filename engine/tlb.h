// One CPU's TLB: a direct-mapped cache of 4 KiB translations of vmemmap
// addresses. A translation through a 2 MiB PMD leaf is cached splintered,
// as the 4 KiB piece used (x86 may do the same), so every cached entry names
// exactly one frame and that frame's generation at fill time.
//
// Only the owning CPU reads and fills its TLB (no lock on the hit path).
// Other CPUs' flushes (flush_tlb_kernel_range's IPIs) are posted into a
// small queue that the owner drains before its next translation. A
// translation that starts after the flush was posted drains it first, and
// the flusher waits for one already under way (Mmu::Instruction), so once
// flush_tlb_kernel_range() returns no CPU uses an entry the flush removed:
// the kernel's guarantee.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/host_mutex.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"

namespace hvo {

struct TlbEntry {
  uint64_t vpn = 0;       // virtual page number (address >> 12)
  Pfn frame{0};
  uint32_t generation = 0;  // the frame's generation when the entry was filled
  bool valid = false;
  bool writable = false;
  bool from_pmd_leaf = false;
};

class Tlb {
 public:
  explicit Tlb(unsigned nr_entries);

  // Owner only.
  [[nodiscard]] const TlbEntry* lookup(VmemmapAddr addr) const {
    const uint64_t vpn = addr.value() >> kPageShift;
    const TlbEntry& e = entries_[vpn & mask_];
    return e.valid && e.vpn == vpn ? &e : nullptr;
  }
  void fill(VmemmapAddr addr, Pfn frame, uint32_t generation, bool writable, bool from_pmd_leaf);
  // Drops entries in [start, end) from this TLB (the owner's own flush).
  void flush_range_local(VmemmapAddr start, VmemmapAddr end);
  void flush_all_local();
  // Applies flushes posted by other CPUs. One acquire load when none is
  // pending, so it can run before every translation.
  void drain_remote_flushes() {
    if (posted_.load(std::memory_order_acquire) != drained_) drain_slow();
  }

  // Any CPU: queue a flush for the owner to apply before its next translation.
  void post_flush(VmemmapAddr start, VmemmapAddr end) EXCLUDES(mu_);
  void post_flush_all() EXCLUDES(mu_);

  [[nodiscard]] unsigned nr_valid() const;
  // The valid entries, for the checker's TLB coherence at a quiescent point
  // (no CPU translating: the owner-only rule holds trivially then).
  [[nodiscard]] std::vector<TlbEntry> valid_entries() const;
  [[nodiscard]] uint64_t hits() const { return hits_; }
  [[nodiscard]] uint64_t misses() const { return misses_; }
  void count_hit() { ++hits_; }
  void count_miss() { ++misses_; }

 private:
  struct Range {
    uint64_t start, end;
  };
  static constexpr size_t kMaxQueuedRanges = 32;  // beyond: a full flush (as flush_tlb_kernel_range's ceiling)

  void drain_slow() EXCLUDES(mu_);

  std::vector<TlbEntry> entries_;
  uint64_t mask_;
  uint64_t hits_ = 0, misses_ = 0;  // owner only
  uint64_t drained_ = 0;            // owner only: posted_ value last applied

  HostMutex mu_;
  std::vector<Range> queued_ GUARDED_BY(mu_);
  bool queued_full_ GUARDED_BY(mu_) = false;
  // Bumped (release) after a flush is queued; the owner compares it with
  // drained_ (acquire) on every translation.
  std::atomic<uint64_t> posted_{0};
};

}  // namespace hvo
