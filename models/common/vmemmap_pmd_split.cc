#include "models/common/vmemmap_pmd_split.h"

#include "engine/pte.h"
#include "models/model.h"
#include "models/v5_18/set_pte.h"

namespace hvo::models {

namespace {
std::optional<Pfn> pmd_page_if_leaf_locked(Machine& m, PhysAddr pmd, SpinLock& ptl) REQUIRES(ptl) {
  ptl.AssertHeld();
  const PteValue e = m.page_tables().read_entry(pmd);
  if (!pmd_leaf(e)) return std::nullopt;
  return pte_pfn(e);
}
}  // namespace

std::optional<Pfn> pmd_page_if_leaf(Machine& m, PhysAddr pmd, bool page_table_lock) {
  if (!page_table_lock) {
    const PteValue e = m.page_tables().read_entry(pmd);
    return pmd_leaf(e) ? std::optional<Pfn>(pte_pfn(e)) : std::nullopt;
  }
  SpinLock& ptl = m.page_tables().init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  return pmd_page_if_leaf_locked(m, pmd, ptl);
}

SplitLocking split_locking(const Model& m) {
  if (m.reverted("d8d55f5616cf")) return SplitLocking::kMmapWriteLock;
  if (m.reverted("unlocked-split")) return SplitLocking::kNone;
  return SplitLocking::kPageTableLock;
}

bool pmd_leaf_under_lock(Machine& m, PhysAddr pmd, bool page_table_lock) {
  if (!page_table_lock) return pmd_leaf(m.page_tables().read_entry(pmd));
  SpinLock& ptl = m.page_tables().init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  return pmd_leaf(m.page_tables().read_entry(pmd));
}

void fill_vmemmap_pte_table(Machine& m, Pfn pgtable, Pfn head, VmemmapAddr start) {
  bool reported = false;
  for (unsigned i = 0; i < kPtrsPerTable; ++i) {
    const VmemmapAddr addr = start + uint64_t{i} * kPageSize;
    const PhysAddr pte = table_entry_addr(pgtable, pte_index(addr.value()));
    const PteValue entry = pfn_pte(head + i, kPageKernel);  // mk_pte(head + i, PAGE_KERNEL)
    if (reported) {
      m.page_tables().write_entry(pte, entry);
      continue;
    }
    // One report per table: a wrong block is wrong for all 512 entries.
    reported = !v5_18::set_pte_at(m, pte, addr, entry);
  }
}

}  // namespace hvo::models
