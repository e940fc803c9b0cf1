// set_pte_at(&init_mm, addr, pte, entry) for the vmemmap, as 5.18's walk and
// split call it: one entry write with the run's PteAccess policy
// (native_set_pte() is a WRITE_ONCE() on x86; `plain` makes it the plain
// store the review asked about).
//
// Before writing, the simulator checks what the entry is about to map: a
// vmemmap PTE maps struct page memory, never a page-table page. A PTE built
// from a page-table page is a corrupt mapping even if the table holding it
// is never installed (the kernel's own set_pte_at() hooks, such as
// CONFIG_PAGE_TABLE_CHECK, look at that page): it is recorded as a broken
// vmemmap-shape invariant. Other frame states are not checked here: a PTE
// of a table not yet installed may legitimately name a frame that another
// CPU is freeing, as long as the table is thrown away.
#pragma once

#include "engine/machine.h"

namespace hvo::v5_18 {

// Returns false when the entry maps a page-table page (recorded).
bool set_pte_at(Machine& m, PhysAddr pte, VmemmapAddr addr, PteValue entry);

}  // namespace hvo::v5_18
