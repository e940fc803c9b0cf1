#include "models/v6_10/hugetlb_vmemmap.h"

#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/common/hugetlb_vmemmap_6x.h"

namespace hvo::v6_10 {

using models::folio_clear_hugetlb_vmemmap_optimized;
using models::folio_set_hugetlb_vmemmap_optimized;
using models::vmemmap_range;
using models::VmemmapRange;

bool HugetlbVmemmap::folio_test_hugetlb_vmemmap_optimized(Pfn folio) {
  return models::folio_test_hugetlb_vmemmap_optimized(m_.pages(), folio);
}

bool HugetlbVmemmap::vmemmap_should_optimize_folio(const Hstate& h, Pfn folio) {
  return models::vmemmap_should_optimize_folio(m_.pages(), vmemmap_optimize_enabled_, h, folio);
}

void HugetlbVmemmap::synchronize_rcu_in_wrapper() {
  // bd225530a4c7 as first merged: "avoid writes from page_ref_add_unless()
  // while folding vmemmap", unconditionally; c2a967f6ab0e moved it below.
  if (fixes_.synchronize_rcu && !fixes_.synchronize_rcu_only_hvo) m_.rcu().synchronize_rcu();
}

void HugetlbVmemmap::synchronize_rcu_if(VmemmapWalkFlags flags) {
  if (fixes_.synchronize_rcu && fixes_.synchronize_rcu_only_hvo && (flags & VMEMMAP_SYNCHRONIZE_RCU) != 0)
    m_.rcu().synchronize_rcu();
}

// --- optimizing -------------------------------------------------------------------------

VmemmapResult HugetlbVmemmap::_hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio,
                                                              std::deque<Pfn>& vmemmap_pages,
                                                              VmemmapWalkFlags flags) {
  OperationScope op("__hugetlb_vmemmap_optimize_folio");
  // VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb(folio)) and
  // VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio)) are warnings, not BUGs:
  // not recorded. What they guard against is what the reverts
  // d8f5f7e445f0 and 2b21624fc232 bring back, and those show their bugs.
  if (!vmemmap_should_optimize_folio(h, folio)) return VmemmapResult::kOk;
  // On before the first tail becomes an alias of the head (static_key.h).
  key_.static_branch_inc();
  // "synchronize_rcu() to avoid writes from page_ref_add_unless()": a
  // speculative walker that found this folio's struct pages writable
  // (page_count_writable() true) inside rcu_read_lock() has finished its
  // atomic_add_unless() before any of them becomes read-only.
  synchronize_rcu_if(flags);
  // "Very Subtle. If VMEMMAP_REMAP_NO_TLB_FLUSH is set, TLB flushing is not
  // performed immediately after remapping. As a result, subsequent accesses
  // and modifications to struct pages associated with the hugetlb page
  // could be to the OLD struct pages. Set the vmemmap optimized flag here so
  // that it is copied to the new head page."
  // Planted (flag-set-before-deferred-flush): set after the remap instead,
  // while this CPU may still translate the head to the old page.
  const bool flag_late = planted_.has(PlantedBugs::kFlagBeforeDeferredFlush);
  if (!flag_late) folio_set_hugetlb_vmemmap_optimized(m_.pages(), folio);
  const VmemmapRange r = vmemmap_range(h, folio);
  // Planted (range-one-page-short): the walk stops one page early.
  const VmemmapAddr end =
      planted_.has(PlantedBugs::kRangeOnePageShort) ? VmemmapAddr(r.end.value() - kPageSize) : r.end;
  // "Remap the vmemmap virtual address range [@vmemmap_start, @vmemmap_end)
  // to the page which @vmemmap_reuse is mapped to. Add pages previously
  // mapping the range to vmemmap_pages list so that they can be freed by
  // the caller."
  const VmemmapResult ret = remap_.vmemmap_remap_free(r.start, end, r.reuse, vmemmap_pages, flags);
  if (ret == VmemmapResult::kOk && flag_late) folio_set_hugetlb_vmemmap_optimized(m_.pages(), folio);
  if (ret != VmemmapResult::kOk) {
    key_.static_branch_dec();
    folio_clear_hugetlb_vmemmap_optimized(m_.pages(), folio);
  }
  return ret;
}

void HugetlbVmemmap::hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio) {
  OperationScope op("hugetlb_vmemmap_optimize_folio");
  std::deque<Pfn> vmemmap_pages;
  synchronize_rcu_in_wrapper();
  // No NO_TLB_FLUSH flag: vmemmap_remap_range() flushed the range before
  // returning, so the old pages can go at once.
  (void)_hugetlb_vmemmap_optimize_folio(h, folio, vmemmap_pages, VMEMMAP_SYNCHRONIZE_RCU);
  remap_.free_vmemmap_page_list(vmemmap_pages);
}

VmemmapResult HugetlbVmemmap::hugetlb_vmemmap_split_folio(const Hstate& h, Pfn folio) {
  if (!vmemmap_should_optimize_folio(h, folio)) return VmemmapResult::kOk;
  const VmemmapRange r = vmemmap_range(h, folio);
  // "Split PMDs on the vmemmap virtual address range [@vmemmap_start, @vmemmap_end]"
  return remap_.vmemmap_remap_split(r.start, r.end, r.reuse);
}

void HugetlbVmemmap::flush_and_free(std::deque<Pfn>& vmemmap_pages) {
  models::flush_and_free(m_, remap_, fixes_.flush_before_free, vmemmap_pages);
}

void HugetlbVmemmap::hugetlb_vmemmap_optimize_folios(const Hstate& h, const std::vector<Pfn>& folio_list) {
  OperationScope op("hugetlb_vmemmap_optimize_folios");
  std::deque<Pfn> vmemmap_pages;
  VmemmapWalkFlags flags = VMEMMAP_REMAP_NO_TLB_FLUSH | VMEMMAP_SYNCHRONIZE_RCU;
  for (Pfn folio : folio_list) {
    // "Spliting the PMD requires allocating a page, thus lets fail early
    // once we encounter the first OOM. No point in retrying as it can be
    // dynamically done on remap with the memory we get back from the
    // vmemmap deduplication."
    if (hugetlb_vmemmap_split_folio(h, folio) == VmemmapResult::kNoMemory) break;
  }
  // The splits' deferred flush: the old PMD leaves leave every TLB here.
  m_.mmu().flush_tlb_all();
  synchronize_rcu_in_wrapper();
  for (Pfn folio : folio_list) {
    const VmemmapResult ret = _hugetlb_vmemmap_optimize_folio(h, folio, vmemmap_pages, flags);
    // "only need to synchronize_rcu() once for each batch"
    flags &= ~VMEMMAP_SYNCHRONIZE_RCU;
    // "Pages to be freed may have been accumulated. If we encounter an
    // ENOMEM, free what we have and try again."
    if (ret == VmemmapResult::kNoMemory && !vmemmap_pages.empty()) {
      flush_and_free(vmemmap_pages);
      (void)_hugetlb_vmemmap_optimize_folio(h, folio, vmemmap_pages, flags);
    }
  }
  flush_and_free(vmemmap_pages);
}

// --- restoring ----------------------------------------------------------------------------

VmemmapResult HugetlbVmemmap::_hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio, VmemmapWalkFlags flags) {
  OperationScope op("__hugetlb_vmemmap_restore_folio");
  if (!folio_test_hugetlb_vmemmap_optimized(folio)) return VmemmapResult::kOk;
  // "avoid writes from page_ref_add_unless() while unfolding vmemmap"
  synchronize_rcu_if(flags);
  const VmemmapRange r = vmemmap_range(h, folio);
  // "The pages which the vmemmap virtual address range [@vmemmap_start,
  // @vmemmap_end) are mapped to are freed to the buddy allocator, and the
  // range is mapped to the page which @vmemmap_reuse is mapped to. When a
  // HugeTLB page is freed to the buddy allocator, previously discarded
  // vmemmap pages must be allocated and remapping."
  const VmemmapResult ret = remap_.vmemmap_remap_alloc(r.start, r.end, r.reuse, flags);
  if (ret == VmemmapResult::kOk) {
    folio_clear_hugetlb_vmemmap_optimized(m_.pages(), folio);
    // Off only now: no fake head of this folio is left.
    key_.static_branch_dec();
  }
  return ret;
}

bool HugetlbVmemmap::hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio) {
  OperationScope op("hugetlb_vmemmap_restore_folio");
  synchronize_rcu_in_wrapper();
  return _hugetlb_vmemmap_restore_folio(h, folio, VMEMMAP_SYNCHRONIZE_RCU) == VmemmapResult::kOk;
}

int64_t HugetlbVmemmap::hugetlb_vmemmap_restore_folios(const Hstate& h, std::vector<Pfn>& folio_list,
                                                       std::vector<Pfn>& non_hvo_folios) {
  OperationScope op("hugetlb_vmemmap_restore_folios");
  synchronize_rcu_in_wrapper();
  VmemmapWalkFlags flags = VMEMMAP_REMAP_NO_TLB_FLUSH | VMEMMAP_SYNCHRONIZE_RCU;
  return models::restore_folios(m_, folio_list, non_hvo_folios, [&](Pfn folio) {
    const VmemmapResult ret = _hugetlb_vmemmap_restore_folio(h, folio, flags);
    // "only need to synchronize_rcu() once for each batch"
    flags &= ~VMEMMAP_SYNCHRONIZE_RCU;
    return ret == VmemmapResult::kOk;
  });
}

}  // namespace hvo::v6_10
