// The page allocator's struct page side (mm/page_alloc.c) on top of the
// buddy allocator: post_alloc_hook() gives an allocated page its reference,
// __free_pages() drops it and frees at zero. The buddy allocator itself only
// tracks frames; these keep the struct pages telling the same story, so a
// PFN walker or a speculative get_page_unless_zero() sees what it would see
// in the kernel.
#pragma once

#include <optional>

#include "engine/buddy.h"
#include "engine/struct_page_access.h"

namespace hvo {

class PageAllocator {
 public:
  PageAllocator(BuddyAllocator& buddy, StructPageAccess& pages) : buddy_(buddy), pages_(pages) {}

  // alloc_pages(gfp, order): frames tagged `use`, the head's _refcount set
  // to 1 (set_page_refcounted() in post_alloc_hook()).
  [[nodiscard]] std::optional<Pfn> alloc_pages(Gfp gfp, Order order, FrameState use);
  // __free_pages(page, order): put_page_testzero() on the head; the block
  // goes back to buddy when that was the last reference.
  void free_pages(Pfn pfn, Order order);
  // free_reserved_page(): a memblock page (PG_reserved, refcount 1) given
  // to buddy for the first time, once its last reference is put.
  void free_reserved_page(Pfn pfn);

  BuddyAllocator& buddy() { return buddy_; }
  StructPageAccess& pages() { return pages_; }

 private:
  BuddyAllocator& buddy_;
  StructPageAccess& pages_;
};

}  // namespace hvo
