// Demote's struct page work (mm/hugetlb.c): a free gigantic folio, its
// vmemmap restored, is taken apart and rebuilt in place as folios of a
// smaller hstate. The pool's demote() and the default per-folio loop are in
// hugetlb_demote.cc too.
#pragma once

#include "engine/struct_page_access.h"
#include "engine/types.h"

namespace hvo {

// destroy_compound_hugetlb_folio_for_demote(folio, order):
// __destroy_compound_gigantic_folio(folio, order, demote = true). The
// compound mapcount in page[1] is zeroed; every tail loses the flags
// checked at free, its ->mapping and its compound_head; PG_head goes last.
// No refcount is set (demote = true): every page stays frozen at 0, so no
// speculative get_page_unless_zero() can take a reference on a page of a
// folio that is half destroyed.
void destroy_compound_hugetlb_folio_for_demote(StructPageAccess& pages, Pfn head, Order order);

// The destination step of demote_free_hugetlb_folios() for the page at
// `head`: prep_compound_page(page, dst->order) then set_page_private(page,
// 0) (no HPG_* flag of the source survives on a new head). The hugetlb mark
// and fields (init_new_hugetlb_folio()) are the model's.
void prep_compound_demoted_folio(StructPageAccess& pages, Pfn head, Order order);

}  // namespace hvo
