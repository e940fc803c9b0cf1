// What the HugeTLB pool asks of a model: the two steps whose order of
// operations changed across the kernel's generations (and whose reorderings
// are catalogued bugs: the hugetlb mark set after HVO, cleared before the
// vmemmap is restored). The pool (engine) calls them; models/ implements
// them. Everything else the pool does is the same in every generation.
#pragma once

#include <optional>

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

  // Demote's vmemmap steps (hugetlb_demote_ops.h), or nullptr when the
  // generation's kernel has no demote (before 5.16) or the model does not
  // model it: the pool's demote() then refuses.
  [[nodiscard]] virtual HugetlbDemoteOps* demote_ops() { return nullptr; }
};

}  // namespace hvo
