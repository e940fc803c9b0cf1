// What the PMD splits of 5.18 (split_vmemmap_huge_pmd(), mm/sparse-vmemmap.c:
// models/v5_18/vmemmap_split.h) and 6.x (vmemmap_split_pmd(),
// mm/hugetlb_vmemmap.c: models/common/vmemmap_split_6x.h) do alike: the
// two fixes that made concurrent splits safe, reading the leaf and its
// block, and filling the new PTE table. How each generation calls them,
// installs the table and flushes stays with it.
#pragma once

#include <optional>

#include "engine/machine.h"

namespace hvo {
class Model;
}  // namespace hvo

namespace hvo::models {

// How two splits of one vmemmap PMD are kept apart.
enum class SplitLocking : uint8_t {
  // d8d55f5616cf (5.17 on): the walks hold mmap_read_lock(&init_mm), so two
  // may split one PMD at once; the split installs its table under
  // init_mm.page_table_lock, only if the PMD is still a leaf.
  kPageTableLock,
  // d8d55f5616cf reverted, the code 5.15-5.16 shipped: the walk that may
  // split (vmemmap_remap_free()) holds mmap_write_lock(&init_mm), so splits
  // never overlap, and the split itself takes no lock. No race: what the
  // fix bought is concurrency, which shows in the figures.
  kMmapWriteLock,
  // unlocked-split (synthetic, no kernel had it): the read lock of 5.17 and
  // the lock-free split of 5.16, the table installed unconditionally.
  kNone,
};

// The fixes of a concurrent split.
struct SplitFixes {
  SplitLocking locking = SplitLocking::kPageTableLock;  // d8d55f5616cf; unlocked-split
  bool pmd_page_under_lock = true;                      // 3ce2c24cb68f

  [[nodiscard]] bool page_table_lock() const { return locking == SplitLocking::kPageTableLock; }
  [[nodiscard]] bool mmap_write_lock() const { return locking == SplitLocking::kMmapWriteLock; }
};

// A model's split locking from its reverts: "d8d55f5616cf" (the write lock
// of 5.15-5.16), "unlocked-split" (synthetic), else the page-table lock.
[[nodiscard]] SplitLocking split_locking(const Model& m);

// The block's first frame, or nullopt when the PMD no longer maps a block:
// `head = pmd_leaf(*pmd) ? pmd_page(*pmd) : NULL` under
// init_mm.page_table_lock (3ce2c24cb68f), or without it when
// `page_table_lock` is false (unlocked-split).
[[nodiscard]] std::optional<Pfn> pmd_page_if_leaf(Machine& m, PhysAddr pmd, bool page_table_lock);

// The leaf test of split_vmemmap_huge_pmd() from d8d55f5616cf until
// 3ce2c24cb68f (5.17-6.4): `spin_lock(&init_mm.page_table_lock); leaf =
// pmd_leaf(*pmd); spin_unlock(...)`, the lock dropped before the split reads
// pmd_page(*pmd); without the lock when `page_table_lock` is false.
[[nodiscard]] bool pmd_leaf_under_lock(Machine& m, PhysAddr pmd, bool page_table_lock);

// Fills a new table with the block's 512 PTEs: set_pte_at(&init_mm, addr,
// pte_offset_kernel(&__pmd, addr), mk_pte(head + i, PAGE_KERNEL)). The table
// is private until installed: pmd_populate_kernel(&init_mm, &__pmd,
// pgtable) on a local pmd only serves pte_offset_kernel() here.
void fill_vmemmap_pte_table(Machine& m, Pfn pgtable, Pfn head, VmemmapAddr start);

}  // namespace hvo::models
