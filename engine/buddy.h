// The buddy allocator of the one simulated zone (mm/page_alloc.c), with its
// zone->lock and fail_page_alloc-style failure injection.
//
// Free lists are per-order bitmaps, not lists threaded through struct pages:
// bit i of order k is set <=> the block of 2^k frames at pfn i << k is free
// at order k. Each bitmap has a 64-ary summary hierarchy, so the lowest free
// block of an order is found in O(log64 n) and the allocator is
// deterministic: it always returns the lowest-addressed block of the smallest
// order that fits. A 64 GiB machine (16 Mi frames) spends about 4 MiB on them.
//
// Invariants (checked by validate(), the kernel's check_free_lists analogue):
//   bit set at (k, i)  =>  every frame of the block is kFree in PhysMem
//   bit set at (k, i)  =>  k == kMaxOrder or bit (k, i ^ 1) is clear (merged)
//   bit set at (k, i)  =>  no bit set for a block containing it at k' > k
//   frame kFree        =>  exactly one set bit covers it
//   counters           =   popcounts of the bitmaps (nr_free, free_pages)
// PhysMem's frame states are the truth; the bitmaps must agree with them.
//
// Frame states: alloc moves frames kFree -> `use`, free moves them back to
// kFree (bumping their generation), both under the zone lock; set_state()
// re-tags frames that are allocated.
//
// Violations of the simulated kernel (a double free, freeing a reserved
// frame) are recorded in lockdep's ViolationLog after the zone lock is
// dropped, so a listener may look at the allocator.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/alloc_failure.h"
#include "engine/frame_state.h"
#include "engine/gfp.h"
#include "engine/locks/lockdep.h"
#include "engine/locks/spinlock.h"
#include "engine/phys_mem.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"
#include "engine/violation.h"

namespace hvo {

// A bitmap of n bits with a 64-ary summary hierarchy: bit j of level l + 1
// is set <=> word j of level l is non-zero. The top level is one word.
class SummaryBitmap {
 public:
  explicit SummaryBitmap(uint64_t nr_bits);

  [[nodiscard]] uint64_t size() const { return nr_bits_; }
  [[nodiscard]] bool test(uint64_t i) const;
  void set(uint64_t i);
  void clear(uint64_t i);
  // The lowest set bit at or after `from`.
  [[nodiscard]] std::optional<uint64_t> find_next(uint64_t from) const;
  // Whether every bit / any bit of [begin, end) is set.
  [[nodiscard]] bool all_set(uint64_t begin, uint64_t end) const;
  [[nodiscard]] bool any_set(uint64_t begin, uint64_t end) const;
  // Set bits, counted by a scan.
  [[nodiscard]] uint64_t count() const;
  // Whether every summary bit matches the level below (for the validator).
  [[nodiscard]] bool summaries_consistent() const;
  // Host bytes used.
  [[nodiscard]] uint64_t bytes() const;

 private:
  // From a set bit `index` of `level`, descends along the lowest set bits
  // to the level-0 bit they summarise.
  [[nodiscard]] uint64_t descend(unsigned level, uint64_t index) const;

  uint64_t nr_bits_;
  std::vector<std::vector<uint64_t>> levels_;  // levels_[0] holds the bits
};

class BuddyAllocator {
 public:
  static constexpr Order kMaxOrder{10};  // MAX_PAGE_ORDER: orders 0..10
  static constexpr int kNrOrders = kMaxOrder.value() + 1;

  struct Counters {
    uint64_t managed_pages = 0;        // zone->managed_pages: frames handed over at boot
    uint64_t free_pages = 0;           // NR_FREE_PAGES
    uint64_t nr_free[kNrOrders] = {};  // free_area[order].nr_free: blocks per order
    uint64_t allocs = 0;               // successful alloc_pages()
    uint64_t frees = 0;                // performed free_pages()
    uint64_t failures_injected = 0;    // alloc_pages()/alloc_contig_pages() failed by the injector
    uint64_t failures_no_memory = 0;   // ... that found no free block or range
    uint64_t failure_warnings = 0;     // failures without __GFP_NOWARN (warn_alloc())
    uint64_t contig_allocs = 0;        // successful alloc_contig_pages()
    uint64_t contig_frees = 0;         // performed free_contig_range()
  };

  BuddyAllocator(PhysMem& mem, Lockdep& lockdep, LockClass& zone_lock_class, AllocFailureInjector& inject);
  BuddyAllocator(const BuddyAllocator&) = delete;
  BuddyAllocator& operator=(const BuddyAllocator&) = delete;

  // memblock_free_all() for [start, start + nr_pages): the frames, kFree in
  // PhysMem and owned by no one yet, become free buddy blocks.
  void free_boot_range(Pfn start, uint64_t nr_pages) EXCLUDES(zone_lock_);

  // __alloc_pages(): 2^order frames, naturally aligned, leave kFree and take
  // `use` (not kFree, not kBootReserved). nullopt when an injected failure
  // or the lack of a free block fails the allocation.
  [[nodiscard]] std::optional<Pfn> alloc_pages(Gfp gfp, Order order, FrameState use) EXCLUDES(zone_lock_);
  // __free_pages(): returns the block and merges it with its free buddies.
  // A misaligned or out-of-memory block, or one with a kBootReserved frame,
  // is a kBadFree; one with a kFree frame a kDoubleFree. Either is recorded
  // and the free is not performed.
  void free_pages(Pfn pfn, Order order) EXCLUDES(zone_lock_);

  // alloc_contig_pages() for a gigantic page: nr_pages a power of two above
  // 2^kMaxOrder, naturally aligned (2^18 for 1 GiB). Nothing is migrated, so
  // only a range whose frames are all free qualifies.
  [[nodiscard]] std::optional<Pfn> alloc_contig_pages(Gfp gfp, uint64_t nr_pages, FrameState use)
      EXCLUDES(zone_lock_);
  // free_contig_range(): frees [pfn, pfn + nr_pages), merging as it goes;
  // checked as free_pages() checks a block.
  void free_contig_range(Pfn pfn, uint64_t nr_pages) EXCLUDES(zone_lock_);

  // Re-tags allocated frames (kBuddy -> kVmemmap, ...). `s` must not be
  // kFree. A frame that is kFree is a use of a free frame: recorded as
  // kBadFree, and nothing is re-tagged. No zone lock: allocated frames
  // belong to their owner, not to the allocator.
  void set_state(Pfn pfn, uint64_t n, FrameState s);

  // check_free_lists(): records a kInvariantBroken violation for
  // Invariant::kBuddyFreeLists per problem found (at most
  // kMaxProblemsReported, then one that counts the rest) and returns
  // whether there was none. O(frames): for checkers, not for hot paths.
  [[nodiscard]] bool validate() const EXCLUDES(zone_lock_);
  static constexpr size_t kMaxProblemsReported = 32;

  // Exact counters, read under the zone lock.
  [[nodiscard]] Counters counters() const EXCLUDES(zone_lock_);

  SpinLock& zone_lock() RETURN_CAPABILITY(zone_lock_) { return zone_lock_; }
  // Host bytes the free-block bitmaps use.
  [[nodiscard]] uint64_t bitmap_bytes() const;

 private:
  // Why a free is refused, found under the lock and reported after it.
  struct FreeRefusal {
    ViolationKind kind;
    Pfn frame;
    std::string message;
  };

  // --- free-list primitives (all under zone->lock) -------------------------
  [[nodiscard]] bool block_free(Order order, uint64_t index) const REQUIRES(zone_lock_);
  void add_to_free_list(Order order, uint64_t index) REQUIRES(zone_lock_);
  void del_from_free_list(Order order, uint64_t index) REQUIRES(zone_lock_);
  [[nodiscard]] std::optional<Pfn> rmqueue_smallest(Order order) REQUIRES(zone_lock_);
  void expand(Pfn pfn, Order low, Order high) REQUIRES(zone_lock_);
  void free_one_page(Pfn pfn, Order order) REQUIRES(zone_lock_);
  void free_range_merging(Pfn start, uint64_t nr_pages) REQUIRES(zone_lock_);
  [[nodiscard]] std::optional<Pfn> find_contig_range(uint64_t nr_pages) const REQUIRES(zone_lock_);
  void take_contig_range(Pfn pfn, uint64_t nr_pages) REQUIRES(zone_lock_);
  [[nodiscard]] std::optional<FreeRefusal> check_free(Pfn pfn, uint64_t nr_pages, uint64_t align) const
      REQUIRES(zone_lock_);
  // Whether a free block shares a frame with [pfn, pfn + nr_pages).
  [[nodiscard]] bool overlaps_free_block(Pfn pfn, uint64_t nr_pages) const REQUIRES(zone_lock_);

  // --- allocation entry ------------------------------------------------------
  // prepare_alloc_pages(): might_alloc() then should_fail_alloc_page().
  // False when the allocation is failed by injection.
  [[nodiscard]] bool prepare_alloc(Gfp gfp, Order order, const char* what);
  void note_no_memory(Gfp gfp) REQUIRES(zone_lock_);
  // prep_new_page(): __GFP_ZERO clears the frames, outside the zone lock;
  // otherwise a frame for the vmemmap holds PAGE_POISON (engine/page_poison.h).
  void prep_new_pages(Gfp gfp, Pfn pfn, uint64_t nr_pages, FrameState use) const;

  // --- validation ------------------------------------------------------------
  class Problems;  // what validate() found, kept up to kMaxProblemsReported
  void check_counters(Problems& problems) const REQUIRES(zone_lock_);
  // Returns the frames the order's blocks cover.
  [[nodiscard]] uint64_t check_blocks(Order order, Problems& problems) const REQUIRES(zone_lock_);
  void check_frame_cover(uint64_t covered, Problems& problems) const REQUIRES(zone_lock_);

  void report(Violation v) const;

  PhysMem& mem_;
  Lockdep& lockdep_;
  AllocFailureInjector& inject_;
  // Locked by const observers (counters(), validate()) too.
  mutable SpinLock zone_lock_;

  std::vector<SummaryBitmap> free_area_ GUARDED_BY(zone_lock_);  // one per order
  // The failure counters in it stay 0: counters() fills them from the
  // atomics below.
  Counters counters_ GUARDED_BY(zone_lock_);
  // Counted without the zone lock: injection happens before it is taken.
  std::atomic<uint64_t> failures_injected_{0};
  std::atomic<uint64_t> failure_warnings_{0};
};

}  // namespace hvo
