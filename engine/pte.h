// Page-table entry bit layout (x86-64, arch/x86/include/asm/pgtable_types.h)
// and the kernel's helpers over it. The same 64-bit format serves pgd, pud,
// pmd and pte entries.
//
//   bit 0      _PAGE_PRESENT
//   bit 1      _PAGE_RW        (clear: read-only; a write faults)
//   bit 7      _PAGE_PSE       (pmd/pud only: a leaf mapping a 2 MiB/1 GiB block)
//   bits 12-51 the frame (pfn) the entry maps or the next table lives in
//
// Implications: RW => PRESENT and LEAF => PRESENT for every entry the kernel
// writes; pte_none() (all zero) is the only non-present value it writes.
#pragma once

#include "engine/types.h"

namespace hvo {

inline constexpr uint64_t kPagePresent = uint64_t{1} << 0;
inline constexpr uint64_t kPageRw = uint64_t{1} << 1;
inline constexpr uint64_t kPagePse = uint64_t{1} << 7;
inline constexpr uint64_t kPtePfnMask = ((uint64_t{1} << 52) - 1) & ~(kPageSize - 1);

// PAGE_KERNEL and PAGE_KERNEL_RO (without the accessed/dirty/global/NX bits,
// which nothing here looks at).
inline constexpr uint64_t kPageKernel = kPagePresent | kPageRw;
inline constexpr uint64_t kPageKernelRo = kPagePresent;
// _PAGE_TABLE / _KERNPG_TABLE: what pmd_populate_kernel() and friends write.
inline constexpr uint64_t kPageTable = kPagePresent | kPageRw;

[[nodiscard]] constexpr bool pte_none(PteValue e) { return e.value() == 0; }
[[nodiscard]] constexpr bool pte_present(PteValue e) { return (e.value() & kPagePresent) != 0; }
[[nodiscard]] constexpr bool pte_write(PteValue e) { return (e.value() & kPageRw) != 0; }
// pmd_leaf()/pud_leaf(): the entry maps a block, it does not point to a table.
[[nodiscard]] constexpr bool pmd_leaf(PteValue e) { return pte_present(e) && (e.value() & kPagePse) != 0; }
[[nodiscard]] constexpr Pfn pte_pfn(PteValue e) { return Pfn((e.value() & kPtePfnMask) >> kPageShift); }
[[nodiscard]] constexpr uint64_t pte_flags(PteValue e) { return e.value() & ~kPtePfnMask; }

// pfn_pte(pfn, prot) / mk_pte().
[[nodiscard]] constexpr PteValue pfn_pte(Pfn pfn, uint64_t prot) {
  return PteValue((pfn.value() << kPageShift & kPtePfnMask) | prot);
}
// pfn_pmd(pfn, PAGE_KERNEL_LARGE): a 2 MiB leaf.
[[nodiscard]] constexpr PteValue pfn_pmd_leaf(Pfn pfn, uint64_t prot) { return pfn_pte(pfn, prot | kPagePse); }
[[nodiscard]] constexpr PteValue pte_wrprotect(PteValue e) { return PteValue(e.value() & ~kPageRw); }
[[nodiscard]] constexpr PteValue pte_mkwrite(PteValue e) { return PteValue(e.value() | kPageRw); }

// Table indices of a virtual address (pgd_index(), pud_index(), ...).
[[nodiscard]] constexpr unsigned pgd_index(uint64_t va) { return (va >> kPgdShift) & (kPtrsPerTable - 1); }
[[nodiscard]] constexpr unsigned pud_index(uint64_t va) { return (va >> kPudShift) & (kPtrsPerTable - 1); }
[[nodiscard]] constexpr unsigned pmd_index(uint64_t va) { return (va >> kPmdShift) & (kPtrsPerTable - 1); }
[[nodiscard]] constexpr unsigned pte_index(uint64_t va) { return (va >> kPageShift) & (kPtrsPerTable - 1); }

// The physical address of entry `index` of the table living in frame `table`.
[[nodiscard]] constexpr PhysAddr table_entry_addr(Pfn table, unsigned index) {
  return pfn_to_phys(table) + uint64_t{index} * sizeof(uint64_t);
}

}  // namespace hvo
