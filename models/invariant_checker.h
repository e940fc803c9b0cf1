// The global invariant checker: docs/architecture.md's invariants over the whole
// machine, the pool and the model, for quiescent points (no operation in
// flight) and the end of a run. Each broken invariant is recorded in the
// machine's ViolationLog as kInvariantBroken with the invariant it names;
// the checks return whether everything held.
//
// The per-access invariants (no write through a read-only PTE, no use of a
// freed frame, lock rules) are checked by the engine as the accesses happen;
// these are the ones that need a view of everything at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "models/model.h"

namespace hvo {

// Figures of the booted machine that a fully restored one must show again.
struct BootFigures {
  uint64_t vmemmap_frames = 0;
  uint64_t page_table_frames = 0;
  uint64_t free_frames = 0;
};
[[nodiscard]] BootFigures boot_figures(Machine& m);

// The kernel's published savings: vmemmap pages freed per hugepage.
// 2 MiB: 6 in v17, 7 from 5.18; 1 GiB: 4094 in v17, 4095 from 5.18.
[[nodiscard]] uint64_t kernel_savings_per_folio(std::string_view model, const Hstate& h);

class InvariantChecker {
 public:
  InvariantChecker(Machine& m, HugetlbPool& pool, Model& model, BootFigures boot)
      : m_(m), pool_(pool), model_(model), boot_(boot) {}

  // Every invariant at a quiescent point. Reads every folio's struct pages
  // through the MMU: O(pool pages).
  bool check_quiescent();
  // After the pool was shrunk to 0: every frame is back where boot left it
  // and the vmemmap is fully restored.
  bool check_all_returned();

  // The parts, each recording what it finds.
  bool check_frame_conservation();
  bool check_pool_counters() {
    bool ok = true;
    for (HugetlbPool* p : pools()) ok = p->check_counters() && ok;
    return ok;
  }
  bool check_vmemmap_shape(Pfn head, bool optimized);
  bool check_struct_page_contents(Pfn head, FolioState state);
  bool check_savings();
  bool check_savings(HugetlbPool& pool);
  // hwpoison-conservation: every poison memory_failure() handled (the
  // pool's HwpoisonLedger) is resolved (none still "handling" at a
  // quiescent point); a kept one lies in a pool folio that still shows it
  // (PG_hwpoison on the head, or on the raw page itself); a pool folio
  // whose head shows PG_hwpoison has a kept poison; a retired one's frame,
  // if back in buddy, does not carry PG_hwpoison.
  bool check_hwpoison_conservation();
  bool check_hwpoison_conservation(HugetlbPool& pool, const std::vector<FolioSnapshot>& folios);
  // overcommit-limit (no fault accounted a surplus folio past
  // nr_overcommit_hugepages) is HugetlbPool::check_counters()'s, run by
  // check_pool_counters().
  // static-key-balance: the fake-head static key's count equals the
  // optimized folios (Model::fake_head_key_count()).
  bool check_static_key_balance();
  // tlb-coherence: every CPU's TLB, once the flushes posted to it are
  // applied, holds only translations the page table still has (same frame,
  // no more write permission). The kernel flushes before an operation that
  // changed a vmemmap PTE returns (or before its batch does), so at a
  // quiescent point any disagreement is a flush omitted or a flushed range
  // cut short, whether or not a CPU happened to use the stale entry.
  bool check_tlb_coherence();
  // vmemmap-shape of a folio as it leaves the free list (under hugetlb_lock;
  // HugetlbPool::set_unlink_free_observer()): the vmemmap pages that an
  // optimized folio maps read-only are all read-only or all writable, never
  // some of each. A mix is a remap or restore walk still under way on a
  // folio the pool hands out: a folio enqueued before its (batched) HVO
  // finished, or a restore begun before it was taken off the list. Reads
  // the page tables host-side only, as the quiescent checks do.
  bool check_vmemmap_settled(Pfn head, const Hstate& h);

 private:
  // The pools checked: the campaign's, and its demote target's (2 MiB
  // under 1 GiB, HugetlbPool::demote_pool()) where it has one.
  [[nodiscard]] std::vector<HugetlbPool*> pools() const;
  // The hstate of the pool that holds the folio at `head`.
  [[nodiscard]] const Hstate& hstate_of(Pfn head) const;
  void broken(Invariant inv, std::string message, std::optional<Pfn> pfn = std::nullopt);

  Machine& m_;
  HugetlbPool& pool_;
  Model& model_;
  BootFigures boot_;
};

}  // namespace hvo
