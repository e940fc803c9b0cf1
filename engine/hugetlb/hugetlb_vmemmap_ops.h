// What the HugeTLB pool asks of a model: the two steps whose order of
// operations changed across the kernel's generations (and whose reorderings
// are catalogued bugs: the hugetlb mark set after HVO, cleared before the
// vmemmap is restored). The pool (engine) calls them; models/ implements
// them. Everything else the pool does is the same in every generation.
#pragma once

#include <optional>
#include <vector>

#include "engine/gfp.h"
#include "engine/types.h"

namespace hvo {

class HugetlbPool;
class HugetlbDemoteOps;

class HugetlbVmemmapOps {
 public:
  virtual ~HugetlbVmemmapOps() = default;

  // alloc_buddy_hugetlb_folio() / alloc_gigantic_folio(): the frames of a
  // fresh folio for the pool, compound page prepared. The default is
  // pool.alloc_fresh_folio_frames() (head refcount 1). A generation whose
  // kernel freezes the fresh folio here (2b21624fc232, 6.0+: refcount 0,
  // and a failed freeze put back and retried) overrides it. nullopt when no
  // folio can be had. Defined in hugetlb_pool.cc.
  [[nodiscard]] virtual std::optional<Pfn> alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp);

  // alloc_fresh_hugetlb_folio() between the allocation from buddy (the
  // compound page prepared, head refcount 1) and the enqueue: the hugetlb
  // mark, the vmemmap optimization and the refcount dropped (or frozen) to 0,
  // in the generation's order. Runs without hugetlb_lock; may sleep.
  // Returns true when the folio's refcount reached 0 (the pool enqueues it);
  // false when someone else still holds a reference (a speculative
  // get_page_unless_zero() in between): their final put_page() frees it.
  [[nodiscard]] virtual bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) = 0;

  // update_and_free_hugetlb_folio() for a folio already removed from the
  // pool: restore the vmemmap, clear the hugetlb mark and hand the frames
  // back with pool.free_folio_frames(). If the vmemmap pages cannot be
  // allocated, the folio must be left whole (still optimized), put back with
  // pool.add_hugetlb_folio(head, /*adjust_surplus=*/true), and false
  // returned. Runs without hugetlb_lock; may sleep.
  virtual bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) = 0;

  // update_and_free_pages_bulk(h, folio_list): set_max_huge_pages() hands
  // over the folios it took off the pool in one hold of hugetlb_lock
  // (remove_pool_hugetlb_folio(), the list gathered "without dropping
  // lock"), with the lock dropped. Every folio is either freed (the pool
  // forgets it in free_folio_frames()) or, its vmemmap not restorable, put
  // back with pool.add_hugetlb_folio(head, /*adjust_surplus=*/true). The
  // list is left empty. The default is the per-folio loop of 5.13 to 6.6
  // (remove_pool_huge_page() gathering, update_and_free_page() of each):
  // each restore with its own grace period and flush. A generation whose
  // kernel restores the list in one batch (6.7+, cfb8c75099db "hugetlb:
  // perform vmemmap restoration on a list of pages":
  // hugetlb_vmemmap_restore_folios(), one synchronize_rcu(), one
  // flush_tlb_all()) overrides it. Defined in hugetlb_pool.cc.
  virtual void update_and_free_pages_bulk(HugetlbPool& pool, std::vector<Pfn>& folio_list);

  // Whether set_max_huge_pages() grows the pool in batches (6.7+,
  // d67e32f26713 "hugetlb: restructure pool allocations"): every fresh
  // folio allocated first (alloc_pool_huge_folio(), allocation only), then
  // prep_and_add_allocated_folios() of the whole list. False (the default):
  // one folio at a time, alloc_fresh_hugetlb_folio() then
  // prep_new_hugetlb_folio() and its enqueue, as the kernels before 6.7.
  [[nodiscard]] virtual bool pool_allocates_in_batches() const { return false; }
  // alloc_pool_huge_folio() -> only_alloc_fresh_hugetlb_folio() (6.7+): a
  // fresh folio for a batch, allocated (alloc_fresh_hugetlb_folio()) and
  // marked hugetlb (init_new_hugetlb_folio()) but not yet optimized. The
  // default is alloc_fresh_hugetlb_folio(). Defined in hugetlb_pool.cc.
  [[nodiscard]] virtual std::optional<Pfn> alloc_pool_huge_folio(HugetlbPool& pool, Gfp gfp);
  // prep_and_add_allocated_folios(h, folio_list): the fresh folios of
  // alloc_pool_huge_folio() (frozen at refcount 0), HVO'd as one batch
  // (hugetlb_vmemmap_optimize_folios()), then accounted and enqueued in one
  // hold of hugetlb_lock (pool.add_allocated_folios()). Only called when
  // pool_allocates_in_batches(); the default refuses (HVO_CHECK). Runs
  // without hugetlb_lock; may sleep. Defined in hugetlb_pool.cc.
  virtual void prep_and_add_allocated_folios(HugetlbPool& pool, const std::vector<Pfn>& folio_list);

  // Demote's vmemmap steps (hugetlb_demote_ops.h), or nullptr when the
  // generation's kernel has no demote (before 5.16) or the model does not
  // model it: the pool's demote() then refuses.
  [[nodiscard]] virtual HugetlbDemoteOps* demote_ops() { return nullptr; }
};

}  // namespace hvo
