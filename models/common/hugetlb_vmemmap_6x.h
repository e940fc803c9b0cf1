// What mm/hugetlb_vmemmap.c of 6.10 and 7.1 say alike about one folio,
// shared by models/v6_10/hugetlb_vmemmap.cc and models/v7_1/hugetlb_vmemmap.cc:
// the folio's optimized flag (HPG_vmemmap_optimized in ->private), the
// range a walk remaps, vmemmap_should_optimize_folio(), and the last step of
// a batch (flush, then free) and the loop of a restore batch. How the range is remapped and restored, and
// what else optimizing takes (6.10: the static key and synchronize_rcu();
// 7.1: the zone's shared tail page) stays with each generation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/hugetlb/hstate.h"
#include "engine/machine.h"
#include "engine/struct_page.h"

namespace hvo::models {

inline constexpr uint64_t kHpgVmemmapOptimized = uint64_t{1} << HPG_vmemmap_optimized;
// HUGETLB_VMEMMAP_RESERVE_SIZE: the head's vmemmap page.
inline constexpr uint64_t kHugetlbVmemmapReserveSize = kPageSize;

// hugetlb_vmemmap_size(h): the bytes of struct pages of one folio.
inline uint64_t hugetlb_vmemmap_size(const Hstate& h) { return h.vmemmap_pages() * kPageSize; }
// hugetlb_vmemmap_optimizable(h): something beyond the reserved page.
inline bool hugetlb_vmemmap_optimizable(const Hstate& h) {
  return hugetlb_vmemmap_size(h) > kHugetlbVmemmapReserveSize;
}

// The three addresses of a folio's walk: [start, end) remapped, reuse the
// head's vmemmap page (start - PAGE_SIZE).
struct VmemmapRange {
  VmemmapAddr start, end, reuse;
};
inline VmemmapRange vmemmap_range(const Hstate& h, Pfn folio) {
  const VmemmapAddr vmemmap_start = pfn_to_page(folio);  // (unsigned long)&folio->page
  return {vmemmap_start + kHugetlbVmemmapReserveSize, vmemmap_start + hugetlb_vmemmap_size(h), vmemmap_start};
}

// folio_test/set/clear_hugetlb_vmemmap_optimized(): HPG_vmemmap_optimized in
// the folio's ->private, read and changed through the head's struct page.
inline bool folio_test_hugetlb_vmemmap_optimized(StructPageAccess& pages, Pfn folio) {
  return (pages.load(folio, PageWord::kPrivate) & kHpgVmemmapOptimized) != 0;
}
inline void folio_set_hugetlb_vmemmap_optimized(StructPageAccess& pages, Pfn folio) {
  pages.fetch_or(folio, PageWord::kPrivate, kHpgVmemmapOptimized);
}
inline void folio_clear_hugetlb_vmemmap_optimized(StructPageAccess& pages, Pfn folio) {
  pages.fetch_and(folio, PageWord::kPrivate, ~kHpgVmemmapOptimized);
}

// vmemmap_should_optimize_folio(h, folio): not yet optimized, the
// vm.hugetlb_optimize_vmemmap sysctl on (read with READ_ONCE(): a sysctl
// write may race, either value is fine for any one folio), and something
// to free.
inline bool vmemmap_should_optimize_folio(StructPageAccess& pages, const std::atomic<bool>& optimize_enabled,
                                          const Hstate& h, Pfn folio) {
  if (folio_test_hugetlb_vmemmap_optimized(pages, folio)) return false;
  if (!optimize_enabled.load(std::memory_order_relaxed)) return false;  // READ_ONCE()
  return hugetlb_vmemmap_optimizable(h);
}

// The loop of hugetlb_vmemmap_restore_folios(h, folio_list, non_hvo_folios)
// (cfb8c75099db): restores in order until the first failure; every folio
// with its vmemmap (restored or never optimized) moves to non_hvo_folios,
// as list_move() does. Returns the number restored, or -1 for -ENOMEM (the
// failed folio and the rest stay on folio_list). restore_folio(folio) is
// the generation's __hugetlb_vmemmap_restore_folio() with
// VMEMMAP_REMAP_NO_TLB_FLUSH (and in 6.10 the batch's one
// VMEMMAP_SYNCHRONIZE_RCU), true on success. One flush_tlb_all() for the
// batch, when something was restored: the remaps turned read-only
// mappings of a page that stays (6.10: the head's page, 7.1: the zone's
// shared tail page) into private writable pages and freed nothing, so a
// translation still cached until then reads the same struct pages.
template <class RestoreFolio>
int64_t restore_folios(Machine& m, std::vector<Pfn>& folio_list, std::vector<Pfn>& non_hvo_folios,
                       RestoreFolio&& restore_folio) {
  int64_t restored = 0;
  bool failed = false;
  size_t i = 0;
  for (; i < folio_list.size(); ++i) {
    const Pfn folio = folio_list[i];
    if (folio_test_hugetlb_vmemmap_optimized(m.pages(), folio)) {
      if (!restore_folio(folio)) {
        failed = true;
        break;
      }
      ++restored;
    }
    // "Add non-optimized folios to output list": list_move().
    non_hvo_folios.push_back(folio);
  }
  folio_list.erase(folio_list.begin(), folio_list.begin() + static_cast<std::ptrdiff_t>(i));
  if (restored != 0) m.mmu().flush_tlb_all();
  return failed ? -1 : restored;
}

// A batch's last step (hugetlb_vmemmap_optimize_folios()): flush_tlb_all(),
// then free_vmemmap_page_list(): no CPU can reach a freed page through a
// stale translation. flush_before_free false is the `flush-before-free`
// revert: the old pages go back to buddy while other CPUs may still hold
// translations of them (the remaps were not flushed). Remapper is the
// generation's VmemmapRemapper.
template <class Remapper>
void flush_and_free(Machine& m, Remapper& remap, bool flush_before_free, std::deque<Pfn>& vmemmap_pages) {
  if (!flush_before_free) {
    remap.free_vmemmap_page_list(vmemmap_pages);
    m.mmu().flush_tlb_all();
    return;
  }
  m.mmu().flush_tlb_all();
  remap.free_vmemmap_page_list(vmemmap_pages);
}

}  // namespace hvo::models
