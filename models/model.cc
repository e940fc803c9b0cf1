#include "models/model.h"

#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo {

bool Model::get_page_unless_zero(Pfn pfn) {
  OperationScope op("get_page_unless_zero");
  StructPageAccess& pages = machine_.pages();
  // atomic_add_unless(&page->_refcount, 1, 0): read, and only try the
  // cmpxchg when the count is not 0, so a free page is never written. On a
  // fake head (5.18-7.0) the count read is the head's, so an in-use folio's
  // fake head is written: the read-only mapping faults.
  int32_t v = pages.load32(pfn, PageWord32::kRefcount);
  while (v != 0) {
    switch (pages.cmpxchg32(pfn, PageWord32::kRefcount, v, v + 1)) {
      case CasOutcome::kExchanged: return true;
      case CasOutcome::kFault: return false;  // recorded: a write to a read-only struct page
      case CasOutcome::kMismatch: break;      // v now holds the current count
    }
  }
  return false;
}

void Model::put_page(HugetlbPool& pool, Pfn pfn) {
  OperationScope op("put_page");
  StructPageAccess& pages = machine_.pages();
  const Pfn head = compound_head(pfn);
  // put_page_testzero(): fully ordered, like atomic_dec_and_test().
  const RmwResult<int32_t> r = pages.add_return32(head, PageWord32::kRefcount, -1);
  if (!r.ok || r.value != 0) return;
  // The last reference: a compound page's destructor runs (free_huge_folio()
  // for a hugetlb folio, free_compound_page() for one that is no longer
  // hugetlb), any other page goes back to buddy.
  if (page_huge(head))
    pool.free_huge_folio(head);
  else if (pages.test_flag(head, PG_head))
    free_compound_page(pages, machine_.buddy(), machine_.violations(), head);
  else
    machine_.buddy().free_pages(head, Order(0));
}

}  // namespace hvo
