#include "models/v5_18/vmemmap_split.h"

#include <atomic>

#include "engine/coverage.h"
#include "engine/pte.h"
#include "engine/schedule_point.h"
#include "engine/task.h"

namespace hvo::v5_18 {

namespace {
// GFP_PGTABLE_KERNEL: what pte_alloc_one_kernel() asks for.
constexpr Gfp kGfpPgtableKernel = Gfp::kKernel | Gfp::kZero;
}  // namespace

VmemmapResult VmemmapSplitter::split_if_leaf(PhysAddr pmd, VmemmapAddr start) {
  if (fixes_.mmap_write_lock()) {
    // Before d8d55f5616cf, vmemmap_pmd_range(): `if (pmd_leaf(*pmd))`, no
    // lock: the walk that can meet a leaf (vmemmap_remap_free()) holds
    // mmap_write_lock(&init_mm), so no other split runs meanwhile.
    if (!pmd_leaf(m_.page_tables().read_entry(pmd))) return VmemmapResult::kOk;
    return split_vmemmap_huge_pmd(pmd, start);
  }
  if (fixes_.pmd_page_under_lock) return split_vmemmap_huge_pmd(pmd, start);
  // 3ce2c24cb68f reverted, split_vmemmap_huge_pmd() of 5.17-6.4: the leaf
  // test in its own critical section; __split_vmemmap_huge_pmd() then reads
  // the block after the lock is dropped.
  if (!models::pmd_leaf_under_lock(m_, pmd, fixes_.page_table_lock())) return VmemmapResult::kOk;
  return split_vmemmap_huge_pmd(pmd, start);
}

VmemmapResult VmemmapSplitter::split_vmemmap_huge_pmd(PhysAddr pmd, VmemmapAddr start) {
  OperationScope op("split_vmemmap_huge_pmd");
  KernelPageTables& pt = m_.page_tables();
  std::optional<Pfn> head;
  if (fixes_.pmd_page_under_lock && !fixes_.mmap_write_lock()) {
    head = models::pmd_page_if_leaf(m_, pmd, fixes_.page_table_lock());
    if (!head) return VmemmapResult::kOk;  // split already, by someone else
  } else {
    // 5.18 (__split_vmemmap_huge_pmd()) and 5.16: `struct page *page =
    // pmd_page(*pmd);` with no lock, trusting the pmd_leaf() test made a
    // moment ago (in 5.16 rightly: the write lock keeps other splits out).
    head = pte_pfn(pt.read_entry(pmd));
  }
  // pte_alloc_one_kernel(&init_mm): may sleep, so outside the spinlock.
  const std::optional<Pfn> pgtable = pt.alloc_table(kGfpPgtableKernel);
  if (!pgtable) {
    note_error_path(error_path::kSplitFailed);
    return VmemmapResult::kNoMemory;
  }
  models::fill_vmemmap_pte_table(m_, *pgtable, *head, start);
  if (!fixes_.page_table_lock()) {
    // 5.16 (under mmap_write_lock) and unlocked-split: installed
    // unconditionally.
    populate_and_flush(pmd, *pgtable, start);
    return VmemmapResult::kOk;
  }
  SpinLock& ptl = pt.init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  install_or_free_locked(pmd, *pgtable, start, ptl);
  return VmemmapResult::kOk;
}

void VmemmapSplitter::install_or_free_locked(PhysAddr pmd, Pfn pgtable, VmemmapAddr start, SpinLock& ptl) {
  ptl.AssertHeld();
  // likely(pmd_leaf(*pmd)): nobody split it while the table was filled.
  if (pmd_leaf(m_.page_tables().read_entry(pmd))) {
    populate_and_flush(pmd, pgtable, start);
    return;
  }
  // pte_free_kernel(&init_mm, pgtable): another walk installed its table first.
  m_.buddy().free_pages(pgtable, Order(0));
}

void VmemmapSplitter::populate_and_flush(PhysAddr pmd, Pfn pgtable, VmemmapAddr start) {
  // smp_wmb(): "Make pte visible before pmd. See comment in pmd_install()."
  // A walker that finds the new pmd (the MMU, another CPU's software walk)
  // goes on to read the PTEs through it with a dependent load; the barrier
  // orders the 512 PTE stores above before the pmd store below, so it finds
  // them filled, never zero. A release fence is the C++ form of that
  // store->store order.
  smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  m_.page_tables().write_entry(pmd, pfn_pte(pgtable, kPageTable));  // pmd_populate_kernel(&init_mm, pmd, pgtable)
  // The old leaf may still be cached (splintered) in any CPU's TLB.
  m_.mmu().flush_tlb_kernel_range(start, start + kPmdSize);
}

}  // namespace hvo::v5_18
