#include "models/common/vmemmap_split_6x.h"

#include <atomic>

#include "engine/coverage.h"
#include "engine/pte.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::models {

namespace {
// GFP_PGTABLE_KERNEL: what pte_alloc_one_kernel() asks for.
constexpr Gfp kGfpPgtableKernel = Gfp::kKernel | Gfp::kZero;
// get_order(PMD_SIZE).
constexpr Order kPmdOrder{kPmdShift - kPageShift};
}  // namespace

VmemmapResult VmemmapSplitter::vmemmap_pmd_entry(PhysAddr pmd, VmemmapAddr addr, bool split_only,
                                                 VmemmapWalkFlags flags, WalkAction& action) {
  // "Only splitting, not remapping the vmemmap pages."
  if (split_only) action = WalkAction::kContinue;
  const VmemmapAddr start(addr.value() & ~(kPmdSize - 1));  // addr & PMD_MASK
  if (fixes_.mmap_write_lock()) {
    // d8d55f5616cf reverted (5.15-5.16's vmemmap_pmd_range()): `if
    // (pmd_leaf(*pmd))`, no lock: the splitting walks hold
    // mmap_write_lock(&init_mm), so no other split runs meanwhile.
    if (!pmd_leaf(m_.page_tables().read_entry(pmd))) return VmemmapResult::kOk;
    return vmemmap_split_pmd(pmd, std::nullopt, start, flags);
  }
  if (!fixes_.pmd_page_under_lock) {
    // 3ce2c24cb68f reverted (split_vmemmap_huge_pmd() of 5.17-6.4): the
    // leaf tested under init_mm.page_table_lock, the lock dropped, the
    // block's first frame read later by the split itself.
    if (!pmd_leaf_under_lock(m_, pmd, fixes_.page_table_lock())) return VmemmapResult::kOk;
    return vmemmap_split_pmd(pmd, std::nullopt, start, flags);
  }
  const std::optional<Pfn> head = pmd_page_if_leaf(m_, pmd, fixes_.page_table_lock());
  // The CONFIG_MEMORY_HOTPLUG check (PageVmemmapSelfHosted(), -ENOTSUPP)
  // never fires: no memory here is hot-plugged with memmap_on_memory.
  if (!head) return VmemmapResult::kOk;  // already a table: nothing to split
  return vmemmap_split_pmd(pmd, head, start, flags);
}

VmemmapResult VmemmapSplitter::vmemmap_split_pmd(PhysAddr pmd, std::optional<Pfn> head, VmemmapAddr start,
                                                 VmemmapWalkFlags flags) {
  OperationScope op("vmemmap_split_pmd");
  KernelPageTables& pt = m_.page_tables();
  // 3ce2c24cb68f reverted: `struct page *page = pmd_page(*pmd);` with no
  // lock, trusting the pmd_leaf() test made a moment ago.
  if (!head) head = pte_pfn(pt.read_entry(pmd));
  // pte_alloc_one_kernel(&init_mm): may sleep, so before the spinlock.
  const std::optional<Pfn> pgtable = pt.alloc_table(kGfpPgtableKernel);
  if (!pgtable) {
    note_error_path(error_path::kSplitFailed);
    return VmemmapResult::kNoMemory;
  }
  fill_vmemmap_pte_table(m_, *pgtable, *head, start);
  if (!fixes_.page_table_lock()) {
    // d8d55f5616cf reverted: installed unconditionally under the write
    // lock, as 5.16 did. unlocked-split: the same, the read side of
    // mmap_lock being all that is held.
    populate(pmd, *head, *pgtable, start, flags);
    return VmemmapResult::kOk;
  }
  SpinLock& ptl = pt.init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  install_or_free_locked(pmd, *head, *pgtable, start, flags, ptl);
  return VmemmapResult::kOk;
}

void VmemmapSplitter::install_or_free_locked(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start,
                                             VmemmapWalkFlags flags, SpinLock& ptl) {
  ptl.AssertHeld();
  if (!pmd_leaf(m_.page_tables().read_entry(pmd))) {
    // pte_free_kernel(&init_mm, pgtable): another walk split it meanwhile.
    m_.buddy().free_pages(pgtable, Order(0));
    return;
  }
  populate(pmd, head, pgtable, start, flags);
}

void VmemmapSplitter::populate(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags) {
  // "Higher order allocations from buddy allocator must be able to be
  // treated as indepdenent small pages (as they can be freed individually)."
  // The boot vmemmap is memblock memory (PG_reserved), which is never split;
  // a wrong "block" (3ce2c24cb68f reverted: a page-table page) is not either.
  if (m_.mem().valid(head) && m_.mem().state(head) == FrameState::kVmemmap && !m_.pages().test_flag(head, PG_reserved))
    split_page(head, kPmdOrder);
  // smp_wmb(): "Make pte visible before pmd. See comment in pmd_install()."
  // A walker that finds the new pmd reads the PTEs through it (a dependent
  // load): the 512 PTE stores above must be visible before the pmd store
  // below. A release fence is the C++ form of that store->store order.
  smp_wmb();  // a release fence, seen by the controlled scheduler's store buffers and race detector
  m_.page_tables().write_entry(pmd, pfn_pte(pgtable, kPageTable));  // pmd_populate_kernel(&init_mm, pmd, pgtable)
  // The old leaf may be cached (splintered) in any CPU's TLB. The batched
  // path defers this flush to its one flush_tlb_all(); the leaf and the
  // table map the same frames, so a stale leaf entry until then is harmless.
  if ((flags & VMEMMAP_SPLIT_NO_TLB_FLUSH) == 0) m_.mmu().flush_tlb_kernel_range(start, start + kPmdSize);
}

void VmemmapSplitter::split_page(Pfn head, Order order) {
  // split_page(): set_page_refcounted() on every page but the head, which
  // has its reference from the allocation.
  for (uint64_t i = 1; i < order.nr_pages(); ++i) m_.pages().store32(head + i, PageWord32::kRefcount, 1);
}

}  // namespace hvo::models
