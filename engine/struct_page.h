// struct page, as laid out on x86-64 (include/linux/mm_types.h), 64 bytes:
//
//   offset  0  flags            page flags (bits below) — page->flags
//   offset  8  compound_head    tail pages: head address | 1 (bit 0 = PageTail);
//                               otherwise lru.next
//   offset 16  compound_info    page[1]: compound order (folio->_flags_1 /
//                               compound_order); otherwise lru.prev
//   offset 24  mapping
//   offset 32  index
//   offset 40  private          page[1] of a hugetlb folio: the HPageFlags
//   offset 48  _mapcount        32 bits, -1 when unmapped
//   offset 52  _refcount        32 bits
//   offset 56  memcg_data
//
// Invariants a checker verifies: a tail's compound_head is its head's
// address with bit 0 set and the head has PG_head; _refcount >= 0; a frozen
// folio (between prep and enqueue, or across HVO in 6.x) has _refcount 0.
#pragma once

#include <cstdint>

#include "engine/types.h"

namespace hvo {

// 64-bit words of struct page, by byte offset.
enum class PageWord : uint8_t {
  kFlags = 0,
  kCompoundHead = 8,
  kCompoundInfo = 16,
  kMapping = 24,
  kIndex = 32,
  kPrivate = 40,
  kMemcgData = 56,
};
// 32-bit words of struct page, by byte offset.
enum class PageWord32 : uint8_t {
  kMapcount = 48,
  kRefcount = 52,
};

// Page flag bits (enum pageflags, include/linux/page-flags.h, 6.x order).
enum PageFlagBit : unsigned {
  PG_locked = 0,
  PG_writeback = 1,
  PG_referenced = 2,
  PG_uptodate = 3,
  PG_dirty = 4,
  PG_lru = 5,
  PG_head = 6,
  PG_waiters = 7,
  PG_active = 8,
  PG_workingset = 9,
  PG_owner_priv_1 = 10,
  PG_arch_1 = 12,
  PG_reserved = 13,
  PG_private = 14,
  PG_reclaim = 16,
  PG_swapbacked = 17,
  PG_unevictable = 18,
  PG_mlocked = 19,
  PG_hwpoison = 20,
  // The "this is a hugetlb folio" mark. The kernel has kept it in several
  // places (compound_dtor == HUGETLB_PAGE_DTOR until 6.5, PG_hugetlb in
  // page[1] in 6.6-6.9, a page type since 6.10); the models set and clear it
  // where their kernel does, and it lives here as one bit of the head.
  PG_hugetlb = 21,
};

[[nodiscard]] constexpr uint64_t page_flag(PageFlagBit b) { return uint64_t{1} << b; }

// PAGE_FLAGS_CHECK_AT_FREE: flags a page must not carry when it is freed
// (PG_hwpoison may: memory_failure takes such a page off buddy itself), plus
// the hugetlb mark, which 6.x checks on page[1] (PAGE_FLAGS_SECOND).
inline constexpr uint64_t kPageFlagsCheckAtFree =
    page_flag(PG_lru) | page_flag(PG_locked) | page_flag(PG_private) | page_flag(PG_writeback) |
    page_flag(PG_reserved) | page_flag(PG_active) | page_flag(PG_unevictable) | page_flag(PG_mlocked) |
    page_flag(PG_hugetlb);

// Bits of page[1].private of a hugetlb folio (enum hugetlb_page_flags).
enum HugetlbPageFlagBit : unsigned {
  HPG_restore_reserve = 0,
  HPG_migratable = 1,
  HPG_temporary = 2,
  HPG_freed = 3,
  HPG_vmemmap_optimized = 4,
  HPG_raw_hwp_unreliable = 5,
};

// The value a tail's compound_head holds: the head's struct page address
// with bit 0 set (set_compound_head()).
[[nodiscard]] constexpr uint64_t compound_head_value(Pfn head) { return pfn_to_page(head).value() | 1; }
// compound_head() decoding: the head pfn if `word` marks a tail.
[[nodiscard]] constexpr bool is_tail_word(uint64_t word) { return (word & 1) != 0; }
[[nodiscard]] constexpr Pfn head_of_tail_word(uint64_t word) { return page_to_pfn(VmemmapAddr(word & ~uint64_t{1})); }

// 7.1 ("mm: Rework compound_head() for power-of-2 sizeof(struct page)"):
// with a power-of-2 struct page the word holds a mask instead, bit 0 set,
// that applied to the tail's own struct page address gives the head's
// (a head's struct page is naturally aligned to its order). Every tail of
// one order then holds the same word, whatever its folio: what lets 7.1
// map one shared tail page into every folio's vmemmap.
[[nodiscard]] constexpr uint64_t compound_info_mask(Order order) {
  return ~(order.nr_pages() * kStructPageSize - 1) | 1;
}
// Whether a tail word is such a mask: ~(2^k - 1) | 1, high bits all set.
// No struct page pointer in the vmemmap range has that form, so the two
// encodings cannot be confused.
[[nodiscard]] constexpr bool is_compound_info_mask(uint64_t word) {
  const uint64_t low = ~(word & ~uint64_t{1});  // 2^k - 1 for a mask
  return is_tail_word(word) && (word & ~uint64_t{1}) != 0 && (low & (low + 1)) == 0;
}
// compound_head() decoding of a tail word, either encoding: the head pfn of
// `tail` if `word` marks it a tail.
[[nodiscard]] constexpr Pfn head_of_tail(uint64_t word, Pfn tail) {
  return is_compound_info_mask(word) ? page_to_pfn(VmemmapAddr(pfn_to_page(tail).value() & word))
                                     : head_of_tail_word(word);
}

}  // namespace hvo
