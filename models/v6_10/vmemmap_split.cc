#include "models/v6_10/vmemmap_split.h"

#include <atomic>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "engine/schedule_point.h"
#include "engine/task.h"
#include "models/v5_18/set_pte.h"

namespace hvo::v6_10 {

namespace {
// GFP_PGTABLE_KERNEL: what pte_alloc_one_kernel() asks for.
constexpr Gfp kGfpPgtableKernel = Gfp::kKernel | Gfp::kZero;
// get_order(PMD_SIZE).
constexpr Order kPmdOrder{kPmdShift - kPageShift};
}  // namespace

VmemmapResult VmemmapSplitter::vmemmap_pmd_entry(PhysAddr pmd, VmemmapAddr addr, const VmemmapRemapWalk& walk,
                                                 WalkAction& action) {
  // "Only splitting, not remapping the vmemmap pages."
  if (walk.remap_pte == nullptr) action = WalkAction::kContinue;
  SpinLock& ptl = m_.page_tables().init_mm().page_table_lock;
  std::optional<Pfn> head;
  {
    SpinLockGuard g(ptl);
    head = pmd_page_if_leaf_locked(pmd, ptl);
    // The CONFIG_MEMORY_HOTPLUG check (PageVmemmapSelfHosted() of the first
    // vmemmap page, -ENOTSUPP) never fires: no memory here is hot-plugged
    // with memmap_on_memory, so no vmemmap page hosts its own struct pages.
  }
  if (!head) return VmemmapResult::kOk;  // already a table: nothing to split
  return vmemmap_split_pmd(pmd, *head, VmemmapAddr(addr.value() & ~(kPmdSize - 1)), walk);  // addr & PMD_MASK
}

std::optional<Pfn> VmemmapSplitter::pmd_page_if_leaf_locked(PhysAddr pmd, SpinLock& ptl) {
  ptl.AssertHeld();
  const PteValue e = m_.page_tables().read_entry(pmd);
  if (!pmd_leaf(e)) return std::nullopt;
  return pte_pfn(e);
}

VmemmapResult VmemmapSplitter::vmemmap_split_pmd(PhysAddr pmd, Pfn head, VmemmapAddr start,
                                                 const VmemmapRemapWalk& walk) {
  OperationScope op("vmemmap_split_pmd");
  KernelPageTables& pt = m_.page_tables();
  // pte_alloc_one_kernel(&init_mm): may sleep, so before the spinlock.
  const std::optional<Pfn> pgtable = pt.alloc_table(kGfpPgtableKernel);
  if (!pgtable) return VmemmapResult::kNoMemory;
  fill_table(*pgtable, head, start);
  SpinLock& ptl = pt.init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  install_or_free_locked(pmd, head, *pgtable, start, walk.flags, ptl);
  return VmemmapResult::kOk;
}

void VmemmapSplitter::fill_table(Pfn pgtable, Pfn head, VmemmapAddr start) {
  // pmd_populate_kernel(&init_mm, &__pmd, pgtable) on a local pmd only
  // serves pte_offset_kernel(&__pmd, addr) here.
  for (unsigned i = 0; i < kPtrsPerTable; ++i) {
    const VmemmapAddr addr = start + uint64_t{i} * kPageSize;
    const PhysAddr pte = table_entry_addr(pgtable, pte_index(addr.value()));
    // set_pte_at(&init_mm, addr, pte, mk_pte(head + i, PAGE_KERNEL))
    (void)v5_18::set_pte_at(m_, pte, addr, pfn_pte(head + i, kPageKernel));
  }
}

void VmemmapSplitter::install_or_free_locked(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start,
                                             VmemmapWalkFlags flags, SpinLock& ptl) {
  ptl.AssertHeld();
  if (!pmd_leaf(m_.page_tables().read_entry(pmd))) {
    // pte_free_kernel(&init_mm, pgtable): another walk split it meanwhile.
    m_.buddy().free_pages(pgtable, Order(0));
    return;
  }
  // "Higher order allocations from buddy allocator must be able to be
  // treated as indepdenent small pages (as they can be freed individually)."
  // The boot vmemmap is memblock memory (PG_reserved), which is never split.
  if (!m_.pages().test_flag(head, PG_reserved)) split_page(head, kPmdOrder);
  // smp_wmb(): "Make pte visible before pmd. See comment in pmd_install()."
  // A walker that finds the new pmd reads the PTEs through it (a dependent
  // load); the 512 PTE stores above must be visible before the pmd store
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

}  // namespace hvo::v6_10
