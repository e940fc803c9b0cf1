// What the PMD splits of 5.18 (split_vmemmap_huge_pmd(), mm/sparse-vmemmap.c:
// models/v5_18/vmemmap_split.h) and 6.x (vmemmap_split_pmd(),
// mm/hugetlb_vmemmap.c: models/common/vmemmap_split_6x.h) do alike: the
// two fixes that made concurrent splits safe, reading the leaf and its
// block, and filling the new PTE table. How each generation calls them,
// installs the table and flushes stays with it.
#pragma once

#include <optional>

#include "engine/machine.h"

namespace hvo::models {

// The fixes of a concurrent split, each revertible by its commit id.
struct SplitFixes {
  bool page_table_lock = true;      // d8d55f5616cf
  bool pmd_page_under_lock = true;  // 3ce2c24cb68f
};

// The block's first frame, or nullopt when the PMD no longer maps a block:
// `head = pmd_leaf(*pmd) ? pmd_page(*pmd) : NULL` under
// init_mm.page_table_lock (3ce2c24cb68f), or without it when
// `page_table_lock` is false (d8d55f5616cf reverted).
[[nodiscard]] std::optional<Pfn> pmd_page_if_leaf(Machine& m, PhysAddr pmd, bool page_table_lock);

// Fills a new table with the block's 512 PTEs: set_pte_at(&init_mm, addr,
// pte_offset_kernel(&__pmd, addr), mk_pte(head + i, PAGE_KERNEL)). The table
// is private until installed: pmd_populate_kernel(&init_mm, &__pmd,
// pgtable) on a local pmd only serves pte_offset_kernel() here.
void fill_vmemmap_pte_table(Machine& m, Pfn pgtable, Pfn head, VmemmapAddr start);

}  // namespace hvo::models
