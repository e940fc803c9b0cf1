#include "models/v7_1/hugetlb_vmemmap.h"

#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/common/hugetlb_vmemmap_6x.h"

namespace hvo::v7_1 {

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

// --- optimizing -------------------------------------------------------------------------

VmemmapResult HugetlbVmemmap::_hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio,
                                                              std::deque<Pfn>& vmemmap_pages,
                                                              VmemmapWalkFlags flags) {
  OperationScope op("__hugetlb_vmemmap_optimize_folio");
  if (!vmemmap_should_optimize_folio(h, folio)) return VmemmapResult::kOk;
  // vmemmap_get_tail(h->order, folio_zone(folio)): one zone here.
  const std::optional<Pfn> vmemmap_tail =
      tails_.vmemmap_get_tail(h.order, planted_.has(PlantedBugs::kTailLeakedByLoser));
  if (!vmemmap_tail) return VmemmapResult::kNoMemory;
  // "Very Subtle": with VMEMMAP_REMAP_NO_TLB_FLUSH, accesses until the
  // batch's flush may still reach the OLD head page; the flag is set before
  // the head page is copied so that the copy carries it.
  // Planted (flag-set-before-deferred-flush): set after the remap instead,
  // while this CPU may still translate the head to the old page.
  const bool flag_late = planted_.has(PlantedBugs::kFlagBeforeDeferredFlush);
  if (!flag_late) folio_set_hugetlb_vmemmap_optimized(m_.pages(), folio);
  const VmemmapRange r = vmemmap_range(h, folio);
  // Planted (range-one-page-short): the walk stops one page early.
  const VmemmapAddr end =
      planted_.has(PlantedBugs::kRangeOnePageShort) ? VmemmapAddr(r.end.value() - kPageSize) : r.end;
  const VmemmapResult ret = remap_.vmemmap_remap_free(r.start, end, r.reuse, *vmemmap_tail, vmemmap_pages, flags);
  if (ret == VmemmapResult::kOk && flag_late) folio_set_hugetlb_vmemmap_optimized(m_.pages(), folio);
  if (ret != VmemmapResult::kOk)
    folio_clear_hugetlb_vmemmap_optimized(m_.pages(), folio);
  return ret;
}

void HugetlbVmemmap::hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio) {
  OperationScope op("hugetlb_vmemmap_optimize_folio");
  std::deque<Pfn> vmemmap_pages;
  // No NO_TLB_FLUSH flag: vmemmap_remap_range() flushed the range before
  // returning, so the old pages can go at once.
  (void)_hugetlb_vmemmap_optimize_folio(h, folio, vmemmap_pages, 0);
  remap_.free_vmemmap_page_list(vmemmap_pages);
}

VmemmapResult HugetlbVmemmap::hugetlb_vmemmap_split_folio(const Hstate& h, Pfn folio) {
  if (!vmemmap_should_optimize_folio(h, folio)) return VmemmapResult::kOk;
  const VmemmapRange r = vmemmap_range(h, folio);
  return remap_.vmemmap_remap_split(r.start, r.end, r.reuse);
}

void HugetlbVmemmap::flush_and_free(std::deque<Pfn>& vmemmap_pages) {
  models::flush_and_free(m_, remap_, fixes_.flush_before_free, vmemmap_pages);
}

void HugetlbVmemmap::hugetlb_vmemmap_optimize_folios(const Hstate& h, const std::vector<Pfn>& folio_list) {
  OperationScope op("hugetlb_vmemmap_optimize_folios");
  std::deque<Pfn> vmemmap_pages;
  for (Pfn folio : folio_list) {
    // "Spliting the PMD requires allocating a page, thus lets fail early
    // once we encounter the first OOM."
    if (hugetlb_vmemmap_split_folio(h, folio) == VmemmapResult::kNoMemory) break;
  }
  // The splits' deferred flush: the old PMD leaves leave every TLB here.
  m_.mmu().flush_tlb_all();
  for (Pfn folio : folio_list) {
    const VmemmapResult ret = _hugetlb_vmemmap_optimize_folio(h, folio, vmemmap_pages, VMEMMAP_REMAP_NO_TLB_FLUSH);
    // "Pages to be freed may have been accumulated. If we encounter an
    // ENOMEM, free what we have and try again."
    if (ret == VmemmapResult::kNoMemory && !vmemmap_pages.empty()) {
      flush_and_free(vmemmap_pages);
      (void)_hugetlb_vmemmap_optimize_folio(h, folio, vmemmap_pages, VMEMMAP_REMAP_NO_TLB_FLUSH);
    }
  }
  flush_and_free(vmemmap_pages);
}

// --- restoring ----------------------------------------------------------------------------

VmemmapResult HugetlbVmemmap::_hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio, VmemmapWalkFlags flags) {
  OperationScope op("__hugetlb_vmemmap_restore_folio");
  if (!folio_test_hugetlb_vmemmap_optimized(folio)) return VmemmapResult::kOk;
  // The page the folio's tails map: installed when it was optimized, so
  // this only reads zone->vmemmap_tails[] (READ_ONCE()).
  const std::optional<Pfn> vmemmap_tail = tails_.vmemmap_get_tail(h.order);
  if (!vmemmap_tail) return VmemmapResult::kNoMemory;
  const VmemmapRange r = vmemmap_range(h, folio);
  const VmemmapResult ret = remap_.vmemmap_remap_alloc(r.start, r.end, r.reuse, *vmemmap_tail, flags);
  if (ret == VmemmapResult::kOk)
    folio_clear_hugetlb_vmemmap_optimized(m_.pages(), folio);
  return ret;
}

bool HugetlbVmemmap::hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio) {
  OperationScope op("hugetlb_vmemmap_restore_folio");
  return _hugetlb_vmemmap_restore_folio(h, folio, 0) == VmemmapResult::kOk;
}

int64_t HugetlbVmemmap::hugetlb_vmemmap_restore_folios(const Hstate& h, std::vector<Pfn>& folio_list,
                                                       std::vector<Pfn>& non_hvo_folios) {
  OperationScope op("hugetlb_vmemmap_restore_folios");
  // 6.10's batch without VMEMMAP_SYNCHRONIZE_RCU: "flags =
  // VMEMMAP_REMAP_NO_TLB_FLUSH" alone. The one flush at the end leaves
  // cached read-only translations of the zone's shared tail page until
  // then: the page stays, and reads the tails the copies hold.
  return models::restore_folios(m_, folio_list, non_hvo_folios, [&](Pfn folio) {
    return _hugetlb_vmemmap_restore_folio(h, folio, VMEMMAP_REMAP_NO_TLB_FLUSH) == VmemmapResult::kOk;
  });
}

}  // namespace hvo::v7_1
