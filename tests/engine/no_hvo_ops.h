// A fake HVO generation for the engine's pool tests: no HVO at all (as with
// vm.hugetlb_optimize_vmemmap off), the hugetlb mark set and cleared, and
// the per-folio demote steps of HugetlbDemoteOps, whose restore can be made
// to fail (-ENOMEM).
#pragma once

#include <set>

#include "engine/hugetlb/hugetlb_demote_ops.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/hugetlb/hugetlb_vmemmap_ops.h"
#include "engine/struct_page.h"

namespace hvo::testing {

// A generation without HVO: the hugetlb mark set and cleared, refcounts as
// 5.x left them (fresh folios put to 0 before the enqueue).
class NoHvoOps final : public HugetlbVmemmapOps, public HugetlbDemoteOps {
 public:
  bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    pool.pages().set_flag(head, PG_hugetlb);
    return pool.pages().add_return32(head, PageWord32::kRefcount, -1).value == 0;
  }
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    pool.pages().clear_flag(head, PG_hugetlb);
    pool.pages().store32(head, PageWord32::kRefcount, 1);
    pool.free_folio_frames(head);
    return true;
  }
  HugetlbDemoteOps* demote_ops() override { return this; }
  bool restore_demote_source(HugetlbPool&, Pfn head) override {
    ++restores;
    return refuse.count(head) == 0;
  }
  void prep_demoted_folio(HugetlbPool& dst, Pfn head) override {
    dst.pages().set_flag(head, PG_hugetlb);
    ++preps;
  }

  std::set<Pfn> refuse;  // sources whose restore fails (-ENOMEM)
  unsigned restores = 0, preps = 0;
};

}  // namespace hvo::testing
