// Compound pages as the page allocator builds and checks them
// (mm/page_alloc.c): prep_compound_page() when a high-order page is made
// compound, and free_pages_prepare()'s checks when it goes back to buddy.
// All struct page accesses go through the MMU (StructPageAccess), so a
// model that left a tail read-only or unrestored shows up here.
#pragma once

#include <cstdint>

#include "engine/buddy.h"
#include "engine/struct_page_access.h"
#include "engine/types.h"
#include "engine/violation.h"

namespace hvo {

// TAIL_MAPPING: 0x400 + POISON_POINTER_DELTA (0xdead000000000000 on x86-64),
// what every tail but the first two holds in ->mapping.
inline constexpr uint64_t kTailMapping = 0xdead000000000400ULL;
// enum compound_dtor_id (5.x): the destructor index kept in page[1].
inline constexpr uint64_t kCompoundPageDtor = 1;
inline constexpr uint64_t kHugetlbPageDtor = 2;

// page[1].compound_info packs compound_dtor (bits 0-7) and compound_order
// (bits 8-15), as the two bytes of the 5.x layout.
[[nodiscard]] constexpr uint64_t compound_info(uint64_t dtor, Order order) {
  return dtor | uint64_t{order.value()} << 8;
}
[[nodiscard]] constexpr Order compound_order_of(uint64_t info) { return Order(static_cast<uint8_t>(info >> 8)); }

// prep_compound_page(page, order): PG_head on the head; every tail gets
// mapping = TAIL_MAPPING and compound_head = head | 1; page[1] records the
// order and the compound mapcount (-1). Tails' refcounts are left as buddy
// left them (0): prep_compound_gigantic_page()'s set_page_count(p, 0) for
// contig ranges is done by the caller's allocation path, as is the head's 1.
void prep_compound_page(StructPageAccess& pages, Pfn head, Order order);

// free_pages_prepare() for a compound page about to go back to buddy:
// free_tail_pages_check() on every tail and the free_page_check() of every
// page, each problem recorded as a kBadPageState violation named as the
// kernel's bad_page() reason ("corrupted mapping in tail page", ...), the
// first one of the folio only. Then
// every struct page is reset to a free page's state (flags 0, refcount 0,
// mapcount -1, no mapping, no compound_head). Returns whether all was well.
bool free_pages_prepare(StructPageAccess& pages, ViolationLog& log, Pfn head, Order order);

// free_compound_page(): a compound page whose last reference is gone goes
// back to buddy whole, at the order page[1] records (free_contig_range()
// for a gigantic one), after free_pages_prepare().
void free_compound_page(StructPageAccess& pages, BuddyAllocator& buddy, ViolationLog& log, Pfn head);

}  // namespace hvo
