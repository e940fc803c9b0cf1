// Splitting a PMD-mapped vmemmap block into a PTE table, on demand, as 5.18's
// mm/sparse-vmemmap.c does before it remaps part of the block
// (split_vmemmap_huge_pmd(), 3bc2b6a72596, made concurrent by d8d55f5616cf).
//
// x86-64 maps the vmemmap with 2 MiB PMD leaves: one leaf holds the struct
// pages of 128 MiB of memory, 64 hugepages of 2 MiB. The first HVO in such a
// region replaces the leaf by a table of 512 PTEs mapping the same frames
// PAGE_KERNEL; later HVOs in the region find the table and do not split.
// Tables are never merged back into a leaf.
//
// Concurrency (the caller holds mmap_read_lock(&init_mm), so several walks
// may split the same PMD at once):
//   d8d55f5616cf  the new table is installed under init_mm.page_table_lock
//                 and only if the PMD is still a leaf; otherwise it is freed.
//                 Revert: the code of 5.15-5.16: vmemmap_remap_free() holds
//                 mmap_write_lock(&init_mm), vmemmap_pmd_range() tests
//                 pmd_leaf(*pmd) and the split reads pmd_page(*pmd) and
//                 installs its table, all without a lock, since no other
//                 split can run. No race: the commit was for scalability.
//   unlocked-split (synthetic) the read lock of 5.17 with the lock-free
//                 split of 5.16, the table installed unconditionally: one
//                 table leaks and the PTEs another walk wrote into the other
//                 are lost. No kernel had it; the hazard d8d55f5616cf closed.
//   3ce2c24cb68f  the block's first frame (pmd_page(*pmd)) is read under
//                 the lock, together with the leaf test. Revert: 5.18's
//                 split_vmemmap_huge_pmd(), which tested pmd_leaf(*pmd)
//                 under the lock, dropped it, and read pmd_page(*pmd) in
//                 __split_vmemmap_huge_pmd() without it: if another split
//                 installed its table in between, the "block" is the
//                 page-table page and the new PTEs map the wrong frames.
//
// The leaf read and the table fill are the same lines in 6.x's split, and
// are shared with it (models/common/vmemmap_pmd_split.h).
#pragma once

#include <optional>

#include "engine/machine.h"
#include "models/common/vmemmap_pmd_split.h"

namespace hvo::v5_18 {

// What the walk's int returns say, as values: 0, -ENOMEM, and a BUG() the
// kernel would not have survived (the walk stopped; the state is as the
// BUG left it).
enum class VmemmapResult : uint8_t { kOk, kNoMemory, kBug };

using models::SplitFixes;  // d8d55f5616cf, 3ce2c24cb68f

class VmemmapSplitter {
 public:
  VmemmapSplitter(Machine& machine, SplitFixes fixes) : m_(machine), fixes_(fixes) {}

  // What vmemmap_pmd_range() does with each PMD before walking its PTEs:
  // split_vmemmap_huge_pmd(pmd, addr & PMD_MASK), which with 3ce2c24cb68f
  // tests the leaf and reads its block under the lock, without it (5.18)
  // tests the leaf under the lock and reads the block after; before
  // d8d55f5616cf `if (pmd_leaf(*pmd)) split_vmemmap_huge_pmd(...)`, no lock.
  // `start` is the PMD-aligned address the entry maps.
  [[nodiscard]] VmemmapResult split_if_leaf(PhysAddr pmd, VmemmapAddr start);
  [[nodiscard]] const SplitFixes& fixes() const { return fixes_; }

 private:
  // split_vmemmap_huge_pmd(pmd, start).
  [[nodiscard]] VmemmapResult split_vmemmap_huge_pmd(PhysAddr pmd, VmemmapAddr start);
  // The install step under the lock (d8d55f5616cf): the leaf test again,
  // then pmd_install or pte_free_kernel.
  void install_or_free_locked(PhysAddr pmd, Pfn pgtable, VmemmapAddr start, SpinLock& ptl) REQUIRES(ptl);
  // smp_wmb(); pmd_populate_kernel(&init_mm, pmd, pgtable);
  // flush_tlb_kernel_range(start, start + PMD_SIZE).
  void populate_and_flush(PhysAddr pmd, Pfn pgtable, VmemmapAddr start);

  Machine& m_;
  const SplitFixes fixes_;
};

}  // namespace hvo::v5_18
