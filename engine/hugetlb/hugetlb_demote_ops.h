// What demote asks of a model (mm/hugetlb.c, 5.16+: writing N to
// /sys/kernel/mm/hugepages/hugepages-1048576kB/demote turns N free 1 GiB
// folios into 512 free 2 MiB folios each). The pool (engine) takes the
// sources off its free list and puts back those that could not be demoted;
// a model that has demote implements the vmemmap steps in between through
// this interface (HugetlbVmemmapOps::demote_ops()). A generation whose
// kernel had no demote (v17: 5.14) has none, and the pool refuses.
//
// demote_free_hugetlb_folios() is the batch entry point. Its default here is
// the per-folio loop every kernel ran before c0f398c3b2cf ("mm/hugetlb_vmemmap:
// batch HVO work when demoting", Yu Zhao, 2024), demote_free_hugetlb_folio():
// for each source, its own de-HVO; for each destination, its own HVO, each
// with its synchronize_rcu() and TLB flushes: 1 + 512 grace periods for one
// 1 GiB folio. A generation with the batched kernel overrides it.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/types.h"

namespace hvo {

class HugetlbPool;

class HugetlbDemoteOps {
 public:
  virtual ~HugetlbDemoteOps() = default;

  // demote_free_hugetlb_folios(src, dst, src_list): the folios of src_list,
  // removed from `src` (off its lists, frozen), become folios of dst's
  // hstate in `dst`'s free list. A source whose vmemmap cannot be restored
  // (-ENOMEM) stays on src_list, whole and optimized, for the pool to put
  // back (add_hugetlb_folio(src, folio, false)); every source demoted leaves
  // src_list. Returns the number demoted, or -1 for -ENOMEM. Runs without
  // hugetlb_lock; may sleep. Defined in hugetlb_demote.cc.
  virtual int64_t demote_free_hugetlb_folios(HugetlbPool& src, HugetlbPool& dst, std::vector<Pfn>& src_list);
  // How many sources demote_pool_huge_page() takes off the free list in one
  // hold of hugetlb_lock when nr_to_demote are still wanted: one before
  // c0f398c3b2cf (demote_free_hugetlb_folio() of the first free folio),
  // all of them after it.
  [[nodiscard]] virtual uint64_t sources_per_batch(uint64_t nr_to_demote) const { return nr_to_demote > 0 ? 1 : 0; }

  // The per-folio steps of the default loop.
  // hugetlb_vmemmap_restore_folio() of one source (a no-op for one that is
  // not optimized): false for -ENOMEM, the folio left whole and optimized.
  [[nodiscard]] virtual bool restore_demote_source(HugetlbPool& src, Pfn head) = 0;
  // prep_new_hugetlb_folio() of one destination, its compound page already
  // prepared in place (refcount as the generation leaves it): the hugetlb
  // mark and fields, then its HVO, alone.
  virtual void prep_demoted_folio(HugetlbPool& dst, Pfn head) = 0;
};

}  // namespace hvo
