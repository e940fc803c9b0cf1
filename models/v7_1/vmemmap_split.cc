#include "models/v7_1/vmemmap_split.h"

#include <atomic>

#include "engine/pte.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/v5_18/set_pte.h"

namespace hvo::v7_1 {

using v6_10::VMEMMAP_SPLIT_NO_TLB_FLUSH;

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
  if (!fixes_.pmd_page_under_lock) {
    // 5.18's order (3ce2c24cb68f reverted): `if (pmd_leaf(*pmd))` here, the
    // block's first frame read later by the split itself.
    if (!pmd_leaf(m_.page_tables().read_entry(pmd))) return VmemmapResult::kOk;
    return vmemmap_split_pmd(pmd, std::nullopt, start, flags);
  }
  const std::optional<Pfn> head = pmd_page_if_leaf(pmd);
  // The CONFIG_MEMORY_HOTPLUG check (PageVmemmapSelfHosted(), -ENOTSUPP)
  // never fires: no memory here is hot-plugged with memmap_on_memory.
  if (!head) return VmemmapResult::kOk;  // already a table: nothing to split
  return vmemmap_split_pmd(pmd, head, start, flags);
}

std::optional<Pfn> VmemmapSplitter::pmd_page_if_leaf_locked(PhysAddr pmd, SpinLock& ptl) {
  ptl.AssertHeld();
  const PteValue e = m_.page_tables().read_entry(pmd);
  if (!pmd_leaf(e)) return std::nullopt;
  return pte_pfn(e);
}

std::optional<Pfn> VmemmapSplitter::pmd_page_if_leaf(PhysAddr pmd) {
  if (!fixes_.page_table_lock) {
    const PteValue e = m_.page_tables().read_entry(pmd);
    return pmd_leaf(e) ? std::optional<Pfn>(pte_pfn(e)) : std::nullopt;
  }
  SpinLock& ptl = m_.page_tables().init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  return pmd_page_if_leaf_locked(pmd, ptl);
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
  if (!pgtable) return VmemmapResult::kNoMemory;
  fill_table(*pgtable, *head, start);
  if (!fixes_.page_table_lock) {
    // d8d55f5616cf reverted: installed unconditionally, the read side of
    // mmap_lock being all that is held.
    populate(pmd, *head, *pgtable, start, flags);
    return VmemmapResult::kOk;
  }
  SpinLock& ptl = pt.init_mm().page_table_lock;
  SpinLockGuard g(ptl);
  install_or_free_locked(pmd, *head, *pgtable, start, flags, ptl);
  return VmemmapResult::kOk;
}

void VmemmapSplitter::fill_table(Pfn pgtable, Pfn head, VmemmapAddr start) {
  // pmd_populate_kernel(&init_mm, &__pmd, pgtable) on a local pmd only
  // serves pte_offset_kernel(&__pmd, addr) here. One report per table: a
  // wrong block is wrong for all 512 entries.
  bool reported = false;
  for (unsigned i = 0; i < kPtrsPerTable; ++i) {
    const VmemmapAddr addr = start + uint64_t{i} * kPageSize;
    const PhysAddr pte = table_entry_addr(pgtable, pte_index(addr.value()));
    const PteValue entry = pfn_pte(head + i, kPageKernel);  // mk_pte(head + i, PAGE_KERNEL)
    if (reported) {
      m_.page_tables().write_entry(pte, entry);
      continue;
    }
    reported = !v5_18::set_pte_at(m_, pte, addr, entry);
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
  populate(pmd, head, pgtable, start, flags);
}

void VmemmapSplitter::populate(PhysAddr pmd, Pfn head, Pfn pgtable, VmemmapAddr start, VmemmapWalkFlags flags) {
  // "Higher order allocations from buddy allocator must be able to be
  // treated as indepdenent small pages (as they can be freed individually)."
  // The boot vmemmap is memblock memory (PG_reserved), which is never split;
  // a wrong "block" (3ce2c24cb68f reverted: a page-table page) is not either.
  if (m_.mem().valid(head) && m_.mem().state(head) == FrameState::kVmemmap && !m_.pages().test_flag(head, PG_reserved))
    for (uint64_t i = 1; i < kPmdOrder.nr_pages(); ++i) m_.pages().store32(head + i, PageWord32::kRefcount, 1);
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

}  // namespace hvo::v7_1
