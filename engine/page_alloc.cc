#include "engine/page_alloc.h"

#include "engine/struct_page.h"

namespace hvo {

std::optional<Pfn> PageAllocator::alloc_pages(Gfp gfp, Order order, FrameState use) {
  std::optional<Pfn> pfn = buddy_.alloc_pages(gfp, order, use);
  if (pfn) pages_.store32(*pfn, PageWord32::kRefcount, 1);
  return pfn;
}

void PageAllocator::free_pages(Pfn pfn, Order order) {
  // put_page_testzero(): fully ordered, like atomic_dec_and_test().
  const RmwResult<int32_t> r = pages_.add_return32(pfn, PageWord32::kRefcount, -1);
  if (r.ok && r.value == 0) buddy_.free_pages(pfn, order);
}

void PageAllocator::free_reserved_page(Pfn pfn) {
  pages_.clear_flag(pfn, PG_reserved);
  // The kernel's init_page_count() would overwrite a speculative reference
  // taken meanwhile; putting the reference memblock's page holds (1 since
  // memmap_init) frees it the same way when there is none, and leaves the
  // freeing to the other holder's put_page() when there is.
  free_pages(pfn, Order(0));
}

}  // namespace hvo
