// The folio-level HVO of 7.1 (mm/hugetlb_vmemmap.c): optimize and restore
// one folio or a batch, with the batched TLB flushes of 6.7 and the shared
// tail pages of 7.1, and without 6.x's RCU machinery.
//
// Order of operations (hugetlb_vmemmap_optimize_folios()):
//   1. hugetlb_vmemmap_split_folio() of every folio: split-only walks,
//      VMEMMAP_SPLIT_NO_TLB_FLUSH; stop at the first -ENOMEM;
//   2. flush_tlb_all(): the old PMD leaves are gone from every TLB;
//   3. _hugetlb_vmemmap_optimize_folio() of every folio with
//      VMEMMAP_REMAP_NO_TLB_FLUSH: vmemmap_get_tail() for the folio's order
//      (-ENOMEM if it cannot be had), the optimized flag set (before the
//      copy of the head page, "Very Subtle"), vmemmap_remap_free()
//      depositing the old pages on one list;
//   4. flush_tlb_all(), and only then free_vmemmap_page_list(). Revert
//      `flush-before-free` frees first (fix 5 of docs/hvo-history.md).
// Restore (hugetlb_vmemmap_restore_folio[s]()): vmemmap_remap_alloc(), the
// flag cleared after; a batch (hugetlb_vmemmap_restore_folios(), the pool's
// update_and_free_pages_bulk()) remaps with VMEMMAP_REMAP_NO_TLB_FLUSH and
// flushes once at its end.
//
// What 7.1 dropped ("mm: Drop fake head checks" and the commit after it in
// the series): no static key (no fake head to check for), no
// synchronize_rcu() before remapping (no speculative page_ref_add_unless()
// can write a page that becomes read-only: tails read 0 and are never
// written, and no vmemmap page aliases a head any more), so no
// VMEMMAP_SYNCHRONIZE_RCU either.
//
// C++ reserves names with a double underscore: the kernel's
// __hugetlb_vmemmap_optimize_folio() is _hugetlb_vmemmap_optimize_folio()
// here, and likewise for the restore.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/hugetlb/hstate.h"
#include "engine/machine.h"
#include "models/v7_1/vmemmap_remap.h"
#include "models/v7_1/vmemmap_tails.h"

namespace hvo::v7_1 {

struct HugetlbVmemmapFixes {
  bool flush_before_free = true;  // slug flush-before-free
  bool restore_wmb = true;        // slug restore-wmb
  bool tail_cmpxchg = true;       // slug tail-cmpxchg
  SplitFixes split;               // d8d55f5616cf, 3ce2c24cb68f
};

class HugetlbVmemmap {
 public:
  // planted: the model's test-only planted bugs (models/planted_bugs.h).
  HugetlbVmemmap(Machine& machine, HugetlbVmemmapFixes fixes, const PlantedBugs& planted)
      : m_(machine),
        fixes_(fixes),
        planted_(planted),
        remap_(machine, fixes.split, fixes.restore_wmb),
        tails_(machine, fixes.tail_cmpxchg, planted) {
    remap_.set_planted(planted);
  }

  // hugetlb_vmemmap_optimize_folio(h, folio): one folio; the remap walk
  // flushes, then the old pages are freed.
  void hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio);
  // hugetlb_vmemmap_optimize_folios(h, folio_list): a batch, one flush for
  // the splits and one before the old pages are freed.
  void hugetlb_vmemmap_optimize_folios(const Hstate& h, const std::vector<Pfn>& folio_list);
  // hugetlb_vmemmap_restore_folio(h, folio): false for -ENOMEM (the folio
  // is left whole and optimized).
  [[nodiscard]] bool hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio);
  // hugetlb_vmemmap_restore_folios(h, folio_list, non_hvo_folios): restores
  // in order until the first failure; every folio with its vmemmap
  // (restored or never optimized) moves to non_hvo_folios. Returns the
  // number restored, or -1 for -ENOMEM (the failed folio and the rest stay
  // on folio_list). One flush_tlb_all() for the batch.
  [[nodiscard]] int64_t hugetlb_vmemmap_restore_folios(const Hstate& h, std::vector<Pfn>& folio_list,
                                                       std::vector<Pfn>& non_hvo_folios);

  // folio_test_hugetlb_vmemmap_optimized(): HPG_vmemmap_optimized.
  [[nodiscard]] bool folio_test_hugetlb_vmemmap_optimized(Pfn folio);
  // The vm.hugetlb_optimize_vmemmap sysctl.
  void set_vmemmap_optimize_enabled(bool on) { vmemmap_optimize_enabled_.store(on, std::memory_order_relaxed); }
  // zone->vmemmap_tails[].
  [[nodiscard]] VmemmapTails& vmemmap_tails() { return tails_; }
  [[nodiscard]] const VmemmapTails& vmemmap_tails() const { return tails_; }

 private:
  [[nodiscard]] VmemmapResult _hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio,
                                                              std::deque<Pfn>& vmemmap_pages, VmemmapWalkFlags flags);
  [[nodiscard]] VmemmapResult _hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio, VmemmapWalkFlags flags);
  [[nodiscard]] VmemmapResult hugetlb_vmemmap_split_folio(const Hstate& h, Pfn folio);
  [[nodiscard]] bool vmemmap_should_optimize_folio(const Hstate& h, Pfn folio);
  // The batch's last step: flush_tlb_all(), then free_vmemmap_page_list()
  // (the other way round with `flush-before-free` reverted).
  void flush_and_free(std::deque<Pfn>& vmemmap_pages);

  Machine& m_;
  const HugetlbVmemmapFixes fixes_;
  const PlantedBugs& planted_;
  VmemmapRemapper remap_;
  VmemmapTails tails_;
  // CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP_DEFAULT_ON, read with READ_ONCE().
  std::atomic<bool> vmemmap_optimize_enabled_{true};
};

}  // namespace hvo::v7_1
