// Model v17: the reviewed patch "mm: hugetlb: free the vmemmap pages
// associated with each HugeTLB page" (v17, Feb 2021; merged for 5.14) and
// its series' hugetlb side (mm/hugetlb_vmemmap.c, mm/hugetlb.c of 5.14).
//
//   RESERVE_VMEMMAP_NR = 2: vmemmap pages 0 (head and the first tails'
//   metadata) and 1 (the reuse page) keep their frames; pages 2..N-1 are
//   remapped read-only onto page 1's frame and their frames freed.
//   prep_new_huge_page() as posted optimized first and set the hugetlb
//   destructor after; the model carries the later fix d8f5f7e445f0 (mark
//   first), which `--revert d8f5f7e445f0` undoes.
//   update_and_free_page() restores first and clears the destructor after.
//   memory_failure(): tail struct pages may be read-only, so a poisoned tail
//   is recorded in head[4].private and moved to the raw page after restore
//   ("mm: hugetlb: set the PageHWPoison to the raw error page"). Revert
//   `raw-hwpoison` sets PG_hwpoison on the tail directly, as before.
#pragma once

#include "models/model.h"
#include "models/v17/vmemmap_remap.h"

namespace hvo {

class V17Model final : public Model {
 public:
  static constexpr unsigned kReserveVmemmapNr = 2;  // RESERVE_VMEMMAP_NR
  static const ModelInfo kInfo;

  V17Model(Machine& machine, std::set<std::string> reverts) : Model(machine, std::move(reverts)), remap_(machine) {
    remap_.set_planted(planted_);
  }

  [[nodiscard]] const ModelInfo& info() const override { return kInfo; }
  [[nodiscard]] bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  [[nodiscard]] Pfn compound_head(Pfn pfn) override;
  [[nodiscard]] bool page_huge(Pfn pfn) override;
  void memory_failure(HugetlbPool& pool, Pfn pfn) override;
  [[nodiscard]] bool vmemmap_optimized(Pfn head) override;
  [[nodiscard]] std::vector<ExpectedVmemmapPage> optimized_shape(const Hstate& h) const override;

  // free_huge_page_vmemmap() / alloc_huge_page_vmemmap() (mm/hugetlb_vmemmap.c).
  void free_huge_page_vmemmap(HugetlbPool& pool, Pfn head);
  [[nodiscard]] bool alloc_huge_page_vmemmap(HugetlbPool& pool, Pfn head);

 private:
  // hwpoison_subpage_set() under hugetlb_lock, hwpoison_subpage_deliver() after restore.
  void hwpoison_subpage_set(const Hstate& h, Pfn head, Pfn page);
  void hwpoison_subpage_deliver(const Hstate& h, Pfn head);

  v17::VmemmapRemapper remap_;
};

}  // namespace hvo
