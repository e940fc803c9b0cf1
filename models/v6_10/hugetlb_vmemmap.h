// The folio-level HVO of 6.10 (mm/hugetlb_vmemmap.c): optimize and restore
// one folio or a batch, with the static key, the vm.hugetlb_optimize_vmemmap
// sysctl, the batched TLB flushes and the RCU grace periods.
//
// Order of operations (hugetlb_vmemmap_optimize_folios(), 6.7 batching):
//   1. hugetlb_vmemmap_split_folio() of every folio: split-only walks,
//      VMEMMAP_SPLIT_NO_TLB_FLUSH; stop at the first -ENOMEM;
//   2. flush_tlb_all(): the old PMD leaves are gone from every TLB;
//   3. _hugetlb_vmemmap_optimize_folio() of every folio, with
//      VMEMMAP_REMAP_NO_TLB_FLUSH, the first one also with
//      VMEMMAP_SYNCHRONIZE_RCU: static_branch_inc(), synchronize_rcu() (so
//      that every speculative page_ref_add_unless() that may have seen the
//      folio's struct pages writable has finished: bd225530a4c7, only when
//      HVO really applies: c2a967f6ab0e), the optimized flag set (before
//      the copy of the head page, "Very Subtle"), vmemmap_remap_free()
//      depositing the old pages on one list;
//   4. flush_tlb_all(), and only then free_vmemmap_page_list(): no CPU can
//      reach a freed page through a stale translation. Revert
//      `flush-before-free` frees first (fix 5 of docs/hvo-history.md).
// Restore (hugetlb_vmemmap_restore_folio[s]()): synchronize_rcu() once
// (c2a967f6ab0e: only for a folio that is optimized), vmemmap_remap_alloc(),
// the flag cleared and static_branch_dec() only after.
//
// Reverts here: bd225530a4c7 (no synchronize_rcu() at all), c2a967f6ab0e
// (synchronize_rcu() in every wrapper call, HVO or not, where bd225530a4c7
// put it: costs grace periods, see stats), flush-before-free, and reset-3
// (vmemmap_remap.h).
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
#include "models/v5_18/static_key.h"
#include "models/v6_10/vmemmap_remap.h"

namespace hvo::v6_10 {

struct HugetlbVmemmapFixes {
  bool synchronize_rcu = true;            // bd225530a4c7
  bool synchronize_rcu_only_hvo = true;   // c2a967f6ab0e
  bool flush_before_free = true;          // slug flush-before-free
  unsigned nr_reset_struct_page = kNrResetStructPage;  // slug reset-3: 3
};

class HugetlbVmemmap {
 public:
  // planted: the model's test-only planted bugs (models/planted_bugs.h).
  HugetlbVmemmap(Machine& machine, HugetlbVmemmapFixes fixes, const PlantedBugs& planted)
      : m_(machine), fixes_(fixes), planted_(planted), remap_(machine, fixes.nr_reset_struct_page) {
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

  // folio_test_hugetlb_vmemmap_optimized(): HPG_vmemmap_optimized in the
  // folio's ->private.
  [[nodiscard]] bool folio_test_hugetlb_vmemmap_optimized(Pfn folio);
  // The vm.hugetlb_optimize_vmemmap sysctl (vmemmap_optimize_enabled,
  // proc_dobool): off, vmemmap_should_optimize_folio() says no to new folios.
  void set_vmemmap_optimize_enabled(bool on) { vmemmap_optimize_enabled_.store(on, std::memory_order_relaxed); }
  // hugetlb_optimize_vmemmap_key: on while a folio may have fake heads.
  [[nodiscard]] const v5_18::StaticKey& hugetlb_optimize_vmemmap_key() const { return key_; }

 private:
  [[nodiscard]] VmemmapResult _hugetlb_vmemmap_optimize_folio(const Hstate& h, Pfn folio,
                                                              std::deque<Pfn>& vmemmap_pages, VmemmapWalkFlags flags);
  [[nodiscard]] VmemmapResult _hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio, VmemmapWalkFlags flags);
  [[nodiscard]] VmemmapResult hugetlb_vmemmap_split_folio(const Hstate& h, Pfn folio);
  [[nodiscard]] bool vmemmap_should_optimize_folio(const Hstate& h, Pfn folio);
  // The batch's last step: flush_tlb_all(), then free_vmemmap_page_list()
  // (the other way round with `flush-before-free` reverted).
  void flush_and_free(std::deque<Pfn>& vmemmap_pages);
  // synchronize_rcu() where a wrapper called it before c2a967f6ab0e (only
  // with that fix reverted), and where c2a967f6ab0e puts it.
  void synchronize_rcu_in_wrapper();
  void synchronize_rcu_if(VmemmapWalkFlags flags);

  Machine& m_;
  const HugetlbVmemmapFixes fixes_;
  const PlantedBugs& planted_;
  VmemmapRemapper remap_;
  v5_18::StaticKey key_;
  // CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP_DEFAULT_ON. Read with READ_ONCE():
  // a sysctl write may race; either value is fine for any one folio.
  std::atomic<bool> vmemmap_optimize_enabled_{true};
};

}  // namespace hvo::v6_10
