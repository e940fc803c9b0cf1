#include "engine/buddy.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <utility>

#include "engine/check.h"
#include "engine/page_poison.h"
#include "engine/task.h"

namespace hvo {

namespace {

constexpr uint64_t kWordBits = 64;

[[nodiscard]] constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// The bits of word `w` that lie in [begin, end); the range must touch w.
[[nodiscard]] constexpr uint64_t word_mask(uint64_t w, uint64_t begin, uint64_t end) {
  const uint64_t lo = std::max(begin, w * kWordBits) - w * kWordBits;
  const uint64_t hi = std::min(end, (w + 1) * kWordBits) - w * kWordBits;  // in (lo, 64]
  const uint64_t upto_hi = hi == kWordBits ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  return upto_hi & ~((uint64_t{1} << lo) - 1);
}

[[nodiscard]] std::string state_name(FrameState s) { return std::string(to_string(s)); }

}  // namespace

// ============================================================================
// SummaryBitmap
// ============================================================================

SummaryBitmap::SummaryBitmap(uint64_t nr_bits) : nr_bits_(nr_bits) {
  uint64_t words = std::max<uint64_t>(1, ceil_div(nr_bits, kWordBits));
  levels_.emplace_back(words, 0);
  while (words > 1) {
    words = ceil_div(words, kWordBits);
    levels_.emplace_back(words, 0);
  }
}

bool SummaryBitmap::test(uint64_t i) const {
  HVO_DCHECK(i < nr_bits_, "bit out of range");
  return (levels_[0][i / kWordBits] >> (i % kWordBits)) & 1;
}

void SummaryBitmap::set(uint64_t i) {
  HVO_CHECK(i < nr_bits_, "bit out of range");
  // Walk up while a word goes from empty to non-empty: only then does the
  // level above learn something new.
  for (auto& level : levels_) {
    uint64_t& word = level[i / kWordBits];
    const bool was_empty = word == 0;
    word |= uint64_t{1} << (i % kWordBits);
    if (!was_empty) return;
    i /= kWordBits;
  }
}

void SummaryBitmap::clear(uint64_t i) {
  HVO_CHECK(i < nr_bits_, "bit out of range");
  // Walk up while a word becomes empty.
  for (auto& level : levels_) {
    uint64_t& word = level[i / kWordBits];
    word &= ~(uint64_t{1} << (i % kWordBits));
    if (word != 0) return;
    i /= kWordBits;
  }
}

std::optional<uint64_t> SummaryBitmap::find_next(uint64_t from) const {
  if (from >= nr_bits_) return std::nullopt;
  // Climb until a word has a set bit at or after the position, then descend
  // along the lowest set bits.
  uint64_t pos = from;
  for (unsigned level = 0; level < levels_.size(); ++level) {
    const uint64_t w = pos / kWordBits;
    if (w >= levels_[level].size()) return std::nullopt;
    const uint64_t bits = levels_[level][w] & (~uint64_t{0} << (pos % kWordBits));
    if (bits != 0) return descend(level, w * kWordBits + static_cast<uint64_t>(std::countr_zero(bits)));
    pos = w + 1;
  }
  return std::nullopt;
}

uint64_t SummaryBitmap::descend(unsigned level, uint64_t index) const {
  while (level > 0) {
    --level;
    const uint64_t word = levels_[level][index];
    HVO_DCHECK(word != 0, "summary bit set over an empty word");
    index = index * kWordBits + static_cast<uint64_t>(std::countr_zero(word));
  }
  return index;
}

bool SummaryBitmap::all_set(uint64_t begin, uint64_t end) const {
  HVO_CHECK(begin <= end && end <= nr_bits_, "bit range out of range");
  for (uint64_t w = begin / kWordBits; begin < end && w <= (end - 1) / kWordBits; ++w) {
    const uint64_t mask = word_mask(w, begin, end);
    if ((levels_[0][w] & mask) != mask) return false;
  }
  return true;
}

bool SummaryBitmap::any_set(uint64_t begin, uint64_t end) const {
  HVO_CHECK(begin <= end && end <= nr_bits_, "bit range out of range");
  for (uint64_t w = begin / kWordBits; begin < end && w <= (end - 1) / kWordBits; ++w)
    if ((levels_[0][w] & word_mask(w, begin, end)) != 0) return true;
  return false;
}

uint64_t SummaryBitmap::count() const {
  uint64_t n = 0;
  for (uint64_t word : levels_[0]) n += static_cast<uint64_t>(std::popcount(word));
  return n;
}

bool SummaryBitmap::summaries_consistent() const {
  for (size_t level = 1; level < levels_.size(); ++level) {
    const std::vector<uint64_t>& below = levels_[level - 1];
    for (uint64_t j = 0; j < levels_[level].size() * kWordBits; ++j) {
      const bool summary = (levels_[level][j / kWordBits] >> (j % kWordBits)) & 1;
      const bool expected = j < below.size() && below[j] != 0;
      if (summary != expected) return false;
    }
  }
  return true;
}

uint64_t SummaryBitmap::bytes() const {
  uint64_t n = 0;
  for (const auto& level : levels_) n += level.size() * sizeof(uint64_t);
  return n;
}

// ============================================================================
// BuddyAllocator: construction and boot
// ============================================================================

BuddyAllocator::BuddyAllocator(PhysMem& mem, Lockdep& lockdep, LockClass& zone_lock_class,
                               AllocFailureInjector& inject)
    : mem_(mem), lockdep_(lockdep), inject_(inject), zone_lock_(zone_lock_class) {
  // Order k has one bit per whole block of 2^k frames inside memory; a tail
  // too short for a block of that order has no bit, so nothing merges past
  // the end of memory.
  free_area_.reserve(kNrOrders);
  for (int k = 0; k < kNrOrders; ++k) free_area_.emplace_back(mem_.nr_frames() >> k);
}

void BuddyAllocator::free_boot_range(Pfn start, uint64_t nr_pages) {
  HVO_CHECK(start.value() <= mem_.nr_frames() && nr_pages <= mem_.nr_frames() - start.value(),
            "boot range beyond memory");
  for (uint64_t i = 0; i < nr_pages; ++i)
    HVO_CHECK(mem_.state(start + i) == FrameState::kFree, "boot range holds a frame that is not kFree");
  SpinLockGuard g(zone_lock_);
  HVO_CHECK(!overlaps_free_block(start, nr_pages), "boot range handed to buddy twice");
  free_range_merging(start, nr_pages);
  counters_.managed_pages += nr_pages;
}

// ============================================================================
// Free-list primitives
// ============================================================================

bool BuddyAllocator::block_free(Order order, uint64_t index) const {
  zone_lock_.AssertHeld();
  const SummaryBitmap& area = free_area_[order.value()];
  return index < area.size() && area.test(index);
}

// __add_to_free_list() plus the NR_FREE_PAGES accounting of
// __mod_zone_freepage_state().
void BuddyAllocator::add_to_free_list(Order order, uint64_t index) {
  zone_lock_.AssertHeld();
  free_area_[order.value()].set(index);
  ++counters_.nr_free[order.value()];
  counters_.free_pages += order.nr_pages();
}

// del_page_from_free_list().
void BuddyAllocator::del_from_free_list(Order order, uint64_t index) {
  zone_lock_.AssertHeld();
  HVO_CHECK(block_free(order, index), "deleting a block that is not on its free list");
  free_area_[order.value()].clear(index);
  --counters_.nr_free[order.value()];
  counters_.free_pages -= order.nr_pages();
}

// __rmqueue_smallest(): the smallest order with a free block, and in it the
// lowest-addressed block (the kernel takes the list head; the bitmap makes
// the choice a function of the state alone).
std::optional<Pfn> BuddyAllocator::rmqueue_smallest(Order order) {
  zone_lock_.AssertHeld();
  for (uint8_t k = order.value(); k <= kMaxOrder.value(); ++k) {
    const std::optional<uint64_t> index = free_area_[k].find_next(0);
    if (!index) continue;
    del_from_free_list(Order(k), *index);
    const Pfn pfn(*index << k);
    expand(pfn, order, Order(k));
    return pfn;
  }
  return std::nullopt;
}

// expand(): splits a block of order `high` down to `low`, keeping the lowest
// part and putting each upper half back on the free list of its order.
void BuddyAllocator::expand(Pfn pfn, Order low, Order high) {
  zone_lock_.AssertHeld();
  for (uint8_t k = high.value(); k > low.value();) {
    --k;
    add_to_free_list(Order(k), (pfn.value() >> k) + 1);
  }
}

// __free_one_page(): while the buddy is free at the same order, take it off
// its list and continue one order up with the combined block.
void BuddyAllocator::free_one_page(Pfn pfn, Order order) {
  zone_lock_.AssertHeld();
  uint64_t index = pfn.value() >> order.value();
  uint8_t k = order.value();
  while (k < kMaxOrder.value() && block_free(Order(k), index ^ 1)) {
    del_from_free_list(Order(k), index ^ 1);
    index >>= 1;
    ++k;
  }
  add_to_free_list(Order(k), index);
}

// __free_pages_memory(): the largest naturally aligned blocks that fit, each
// freed with merging. free_contig_range() frees page by page; the result is
// the same.
void BuddyAllocator::free_range_merging(Pfn start, uint64_t nr_pages) {
  zone_lock_.AssertHeld();
  const uint64_t end = start.value() + nr_pages;
  for (uint64_t p = start.value(); p < end;) {
    uint8_t k = p == 0 ? kMaxOrder.value()
                       : static_cast<uint8_t>(std::min<int>(kMaxOrder.value(), std::countr_zero(p)));
    while (p + (uint64_t{1} << k) > end) --k;
    free_one_page(Pfn(p), Order(k));
    p += uint64_t{1} << k;
  }
}

bool BuddyAllocator::overlaps_free_block(Pfn pfn, uint64_t nr_pages) const {
  zone_lock_.AssertHeld();
  const uint64_t end = pfn.value() + nr_pages;
  for (uint8_t k = 0; k <= kMaxOrder.value(); ++k) {
    const SummaryBitmap& area = free_area_[k];
    const uint64_t first = pfn.value() >> k;
    const uint64_t last = std::min(ceil_div(end, uint64_t{1} << k), area.size());
    if (first < last && area.any_set(first, last)) return true;
  }
  return false;
}

// ============================================================================
// Allocation
// ============================================================================

bool BuddyAllocator::prepare_alloc(Gfp gfp, Order order, const char* what) {
  // might_alloc(): an allocation that may sleep is a bug in atomic context
  // even when it would not have slept this time.
  if (may_sleep(gfp)) lockdep_.might_sleep(what);
  // should_fail_alloc_page(): before the free lists are looked at.
  if (!inject_.should_fail(gfp, order)) return true;
  failures_injected_.fetch_add(1, std::memory_order_relaxed);
  if (!has(gfp, Gfp::kNoWarn)) failure_warnings_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void BuddyAllocator::note_no_memory(Gfp gfp) {
  zone_lock_.AssertHeld();
  ++counters_.failures_no_memory;
  // warn_alloc() unless __GFP_NOWARN.
  if (!has(gfp, Gfp::kNoWarn)) failure_warnings_.fetch_add(1, std::memory_order_relaxed);
}

void BuddyAllocator::prep_new_pages(Gfp gfp, Pfn pfn, uint64_t nr_pages, FrameState use) const {
  if (has(gfp, Gfp::kZero)) {
    for (uint64_t i = 0; i < nr_pages; ++i) mem_.clear_page(pfn + i);
    return;
  }
  // As a page_poison=1 kernel hands it out: a page that will hold struct
  // pages holds PAGE_POISON until it is written, so that publishing it
  // before that is seen (page_poison.h). Hugepage data frames are never
  // read as struct pages and stay untouched (and cost no host memory).
  if (use != FrameState::kVmemmap) return;
  for (uint64_t i = 0; i < nr_pages; ++i) poison_page(mem_, pfn + i);
}

std::optional<Pfn> BuddyAllocator::alloc_pages(Gfp gfp, Order order, FrameState use) {
  sched_point(SchedEvent::kBuddyAlloc, 0, order.value());
  HVO_CHECK(order <= kMaxOrder, "alloc_pages: order above MAX_PAGE_ORDER");
  HVO_CHECK(use != FrameState::kFree && use != FrameState::kBootReserved, "alloc_pages: bad frame use");
  if (!prepare_alloc(gfp, order, "__alloc_pages")) return std::nullopt;
  std::optional<Pfn> pfn;
  {
    SpinLockGuard g(zone_lock_);
    pfn = rmqueue_smallest(order);
    if (!pfn) {
      note_no_memory(gfp);
      return std::nullopt;
    }
    // Under the lock, so that a concurrent free sees the frames allocated.
    mem_.set_state(*pfn, order.nr_pages(), use);
    ++counters_.allocs;
  }
  prep_new_pages(gfp, *pfn, order.nr_pages(), use);
  return pfn;
}

// alloc_contig_pages() -> pfn_range_valid_gigantic(): scan naturally aligned
// candidates from the bottom; a candidate qualifies when every order-10 block
// tiling it is free (by the merge invariant, that is when all its frames
// are). The scan jumps to the next free order-10 block, so it costs
// O(frames / 2^16) words at worst.
std::optional<Pfn> BuddyAllocator::find_contig_range(uint64_t nr_pages) const {
  zone_lock_.AssertHeld();
  const SummaryBitmap& top = free_area_[kMaxOrder.value()];
  const uint64_t blocks = nr_pages >> kMaxOrder.value();
  for (uint64_t c = 0;;) {
    const std::optional<uint64_t> next = top.find_next(c);
    if (!next) return std::nullopt;
    c = *next / blocks * blocks;
    if (c + blocks > top.size()) return std::nullopt;
    if (top.all_set(c, c + blocks)) return Pfn(c << kMaxOrder.value());
    c += blocks;
  }
}

// alloc_contig_range() without migration: the free order-10 blocks that tile
// the range leave the free list.
void BuddyAllocator::take_contig_range(Pfn pfn, uint64_t nr_pages) {
  zone_lock_.AssertHeld();
  const uint64_t first = pfn.value() >> kMaxOrder.value();
  for (uint64_t i = first; i < first + (nr_pages >> kMaxOrder.value()); ++i) del_from_free_list(kMaxOrder, i);
}

std::optional<Pfn> BuddyAllocator::alloc_contig_pages(Gfp gfp, uint64_t nr_pages, FrameState use) {
  sched_point(SchedEvent::kBuddyAlloc, 0, nr_pages);
  HVO_CHECK(std::has_single_bit(nr_pages) && nr_pages > kMaxOrder.nr_pages(),
            "alloc_contig_pages: nr_pages must be a power of two above 2^MAX_PAGE_ORDER");
  HVO_CHECK(use != FrameState::kFree && use != FrameState::kBootReserved, "alloc_contig_pages: bad frame use");
  // The kernel's fail_page_alloc does not cover alloc_contig_range(); the
  // injector does, so that a campaign can fail gigantic allocations too.
  const Order order(static_cast<uint8_t>(std::countr_zero(nr_pages)));
  if (!prepare_alloc(gfp, order, "alloc_contig_pages")) return std::nullopt;
  std::optional<Pfn> pfn;
  {
    SpinLockGuard g(zone_lock_);
    pfn = find_contig_range(nr_pages);
    if (!pfn) {
      note_no_memory(gfp);
      return std::nullopt;
    }
    take_contig_range(*pfn, nr_pages);
    mem_.set_state(*pfn, nr_pages, use);
    ++counters_.contig_allocs;
  }
  prep_new_pages(gfp, *pfn, nr_pages, use);
  return pfn;
}

// ============================================================================
// Freeing
// ============================================================================

// The checks of free_pages_prepare() / free_page_is_bad() that matter here:
// the block lies in memory, is aligned, and every frame is allocated. The
// first offending frame names the violation.
std::optional<BuddyAllocator::FreeRefusal> BuddyAllocator::check_free(Pfn pfn, uint64_t nr_pages,
                                                                      uint64_t align) const {
  zone_lock_.AssertHeld();
  if (pfn.value() > mem_.nr_frames() || nr_pages > mem_.nr_frames() - pfn.value())
    return FreeRefusal{ViolationKind::kBadFree, pfn,
                       fmt::format("freeing {} frames at pfn {:#x}: beyond memory", nr_pages, pfn.value())};
  if (pfn.value() % align != 0)
    return FreeRefusal{ViolationKind::kBadFree, pfn,
                       fmt::format("freeing {} frames at pfn {:#x}: not aligned to {}", nr_pages, pfn.value(),
                                   align)};
  for (uint64_t i = 0; i < nr_pages; ++i) {
    const Pfn frame = pfn + i;
    const FrameState s = mem_.state(frame);
    if (s == FrameState::kFree)
      return FreeRefusal{ViolationKind::kDoubleFree, frame,
                         fmt::format("freeing {} frames at pfn {:#x}: frame {:#x} is already free", nr_pages,
                                     pfn.value(), frame.value())};
    if (s == FrameState::kBootReserved)
      return FreeRefusal{ViolationKind::kBadFree, frame,
                         fmt::format("freeing {} frames at pfn {:#x}: frame {:#x} is boot-reserved", nr_pages,
                                     pfn.value(), frame.value())};
  }
  return std::nullopt;
}

void BuddyAllocator::free_pages(Pfn pfn, Order order) {
  sched_point(SchedEvent::kBuddyFree, pfn.value(), order.value());
  HVO_CHECK(order <= kMaxOrder, "free_pages: order above MAX_PAGE_ORDER");
  std::optional<FreeRefusal> refused;
  {
    SpinLockGuard g(zone_lock_);
    refused = check_free(pfn, order.nr_pages(), order.nr_pages());
    if (!refused) {
      // kFree bumps the frames' generation: a reference taken before this
      // free is now stale.
      mem_.set_state(pfn, order.nr_pages(), FrameState::kFree);
      free_one_page(pfn, order);
      ++counters_.frees;
    }
  }
  if (refused) {
    Violation v = make_violation(refused->kind, std::move(refused->message));
    v.frame = refused->frame;
    report(std::move(v));
  }
}

void BuddyAllocator::free_contig_range(Pfn pfn, uint64_t nr_pages) {
  sched_point(SchedEvent::kBuddyFree, pfn.value(), nr_pages);
  HVO_CHECK(nr_pages > 0, "free_contig_range: empty range");
  std::optional<FreeRefusal> refused;
  {
    SpinLockGuard g(zone_lock_);
    refused = check_free(pfn, nr_pages, 1);
    if (!refused) {
      mem_.set_state(pfn, nr_pages, FrameState::kFree);
      free_range_merging(pfn, nr_pages);
      ++counters_.contig_frees;
    }
  }
  if (refused) {
    Violation v = make_violation(refused->kind, std::move(refused->message));
    v.frame = refused->frame;
    report(std::move(v));
  }
}

void BuddyAllocator::set_state(Pfn pfn, uint64_t n, FrameState s) {
  HVO_CHECK(s != FrameState::kFree, "set_state: frames become free only through free_pages()");
  HVO_CHECK(pfn.value() <= mem_.nr_frames() && n <= mem_.nr_frames() - pfn.value(), "set_state: beyond memory");
  for (uint64_t i = 0; i < n; ++i) {
    if (mem_.state(pfn + i) != FrameState::kFree) continue;
    Violation v = make_violation(ViolationKind::kBadFree,
                                 fmt::format("re-tagging {} frames at pfn {:#x} as {}: frame {:#x} is free", n,
                                             pfn.value(), state_name(s), pfn.value() + i));
    v.frame = pfn + i;
    report(std::move(v));
    return;
  }
  mem_.set_state(pfn, n, s);
}

void BuddyAllocator::report(Violation v) const { lockdep_.log().record(std::move(v)); }

// ============================================================================
// Observation and validation
// ============================================================================

BuddyAllocator::Counters BuddyAllocator::counters() const {
  Counters c;
  {
    SpinLockGuard g(zone_lock_);
    c = counters_;
  }
  c.failures_injected = failures_injected_.load(std::memory_order_relaxed);
  c.failure_warnings = failure_warnings_.load(std::memory_order_relaxed);
  return c;
}

uint64_t BuddyAllocator::bitmap_bytes() const {
  SpinLockGuard g(zone_lock_);
  uint64_t n = 0;
  for (const SummaryBitmap& area : free_area_) n += area.bytes();
  return n;
}

class BuddyAllocator::Problems {
 public:
  struct Problem {
    std::string message;
    std::optional<Pfn> frame;
  };

  void add(std::string message, std::optional<Pfn> frame = std::nullopt) {
    ++total_;
    if (kept_.size() < kMaxProblemsReported) kept_.push_back({std::move(message), frame});
  }
  [[nodiscard]] uint64_t total() const { return total_; }
  [[nodiscard]] const std::vector<Problem>& kept() const { return kept_; }

 private:
  uint64_t total_ = 0;
  std::vector<Problem> kept_;
};

void BuddyAllocator::check_counters(Problems& problems) const {
  zone_lock_.AssertHeld();
  uint64_t free_pages = 0;
  for (uint8_t k = 0; k <= kMaxOrder.value(); ++k) {
    const SummaryBitmap& area = free_area_[k];
    if (!area.summaries_consistent()) problems.add(fmt::format("order {}: summary bits disagree with the bitmap", k));
    const uint64_t blocks = area.count();
    if (blocks != counters_.nr_free[k])
      problems.add(fmt::format("order {}: nr_free says {} blocks, the free list holds {}", k, counters_.nr_free[k],
                               blocks));
    free_pages += blocks << k;
  }
  if (free_pages != counters_.free_pages)
    problems.add(fmt::format("NR_FREE_PAGES says {}, the free lists hold {} frames", counters_.free_pages,
                             free_pages));
}

// Each free block: all frames kFree, buddy not free at the same order (else
// they should have merged), no free block of a higher order containing it.
uint64_t BuddyAllocator::check_blocks(Order order, Problems& problems) const {
  zone_lock_.AssertHeld();
  const uint8_t k = order.value();
  uint64_t covered = 0;
  for (std::optional<uint64_t> i = free_area_[k].find_next(0); i; i = free_area_[k].find_next(*i + 1)) {
    const Pfn pfn(*i << k);
    covered += order.nr_pages();
    for (uint64_t f = 0; f < order.nr_pages(); ++f) {
      const FrameState s = mem_.state(pfn + f);
      if (s == FrameState::kFree) continue;
      problems.add(fmt::format("free order-{} block at pfn {:#x}: frame {:#x} is {}, not free", k, pfn.value(),
                               pfn.value() + f, state_name(s)),
                   pfn + f);
      break;
    }
    if (order < kMaxOrder && block_free(order, *i ^ 1))
      problems.add(fmt::format("free order-{} blocks at pfn {:#x} and its buddy {:#x} are not merged", k,
                               pfn.value(), (*i ^ 1) << k),
                   pfn);
    for (uint8_t j = k + 1; j <= kMaxOrder.value(); ++j) {
      if (!block_free(Order(j), pfn.value() >> j)) continue;
      problems.add(fmt::format("free order-{} block at pfn {:#x} lies inside the free order-{} block at {:#x}", k,
                               pfn.value(), j, (pfn.value() >> j) << j),
                   pfn);
    }
  }
  return covered;
}

// Every kFree frame must be on a free list: the blocks cover as many frames
// as PhysMem says are free (the per-block checks showed they cover only
// free frames, without overlap). On a mismatch, name the uncovered frames.
void BuddyAllocator::check_frame_cover(uint64_t covered, Problems& problems) const {
  zone_lock_.AssertHeld();
  uint64_t states[kNumFrameStates];
  mem_.count_states(states);
  const uint64_t free_frames = states[static_cast<int>(FrameState::kFree)];
  if (free_frames == covered) return;
  problems.add(fmt::format("{} frames are kFree but the free lists cover {}", free_frames, covered));
  // Fewer free frames than covered ones: check_blocks() named the blocks
  // holding non-free frames already.
  if (free_frames < covered) return;
  for (uint64_t p = 0; p < mem_.nr_frames() && problems.total() < kMaxProblemsReported; ++p) {
    if (mem_.state(Pfn(p)) != FrameState::kFree || overlaps_free_block(Pfn(p), 1)) continue;
    problems.add(fmt::format("frame {:#x} is kFree but on no free list", p), Pfn(p));
  }
}

bool BuddyAllocator::validate() const {
  Problems problems;
  {
    SpinLockGuard g(zone_lock_);
    check_counters(problems);
    uint64_t covered = 0;
    for (uint8_t k = 0; k <= kMaxOrder.value(); ++k) covered += check_blocks(Order(k), problems);
    check_frame_cover(covered, problems);
  }
  for (const Problems::Problem& p : problems.kept()) {
    Violation v = make_violation(ViolationKind::kInvariantBroken, p.message);
    v.invariant = Invariant::kBuddyFreeLists;
    v.frame = p.frame;
    report(std::move(v));
  }
  if (problems.total() > problems.kept().size()) {
    Violation v = make_violation(ViolationKind::kInvariantBroken,
                                 fmt::format("... and {} more buddy free-list problems",
                                             problems.total() - problems.kept().size()));
    v.invariant = Invariant::kBuddyFreeLists;
    report(std::move(v));
  }
  return problems.total() == 0;
}

}  // namespace hvo
