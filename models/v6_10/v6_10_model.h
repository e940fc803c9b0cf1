// Model v6.10: HVO as Linux 6.10 has it (mm/hugetlb_vmemmap.c, mm/hugetlb.c,
// include/linux/page_ref.h, include/linux/page-flags.h), with the fixes that
// followed to 2025, each revertible by name.
//
//   - One reserved vmemmap page as in 5.18, but the head's vmemmap page is
//     itself remapped onto a newly allocated copy (11aad2631bf7): after HVO
//     page 0 maps the new frame read-write, pages 1..N-1 map it read-only,
//     and the old head frame is freed with the tails' (vmemmap_remap.h).
//     Savings stay 7 (2 MiB) and 4095 (1 GiB): the new page replaces the old.
//   - Batched splits and remaps with deferred TLB flushes (6.7), the old
//     pages freed only after the batch's flush (hugetlb_vmemmap.h). The
//     pool's resize batches too, as 7.1's does
//     (models/common/hugetlb_pool_bulk_6x.cc): a grow allocates every
//     folio, then HVOs them as one batch (prep_and_add_allocated_folios());
//     a shrink restores every removed folio as one batch
//     (update_and_free_pages_bulk()). With a fix older than 6.7 reverted
//     (2b21624fc232, d8f5f7e445f0, 32c877191e02) the pool resizes one
//     folio at a time, as those kernels did. Demote (demote.cc, v6.10 only)
//     batches the 1 GiB sources' de-HVO and their 2 MiB destinations' HVO
//     (c0f398c3b2cf, revertible).
//   - Folios frozen (refcount 0) from allocation (2b21624fc232,
//     alloc_fresh_hugetlb_folio() of models/common/hugetlb_folio_6x.h)
//     through HVO and while free; restore runs frozen too.
//   - Speculative walkers inside rcu_read_lock() and synchronize_rcu()
//     before remapping, only when HVO applies (bd225530a4c7, c2a967f6ab0e);
//     page_ref_add_unless() reads _refcount with acquire before the
//     fake-head check (2025; page_ref.h).
//   - The hugetlb mark set before HVO (d8f5f7e445f0) and cleared only after
//     the restore (32c877191e02); the folio's mm/hugetlb.c life cycle and
//     memory_failure() are 7.1's too (models/common/hugetlb_folio_6x.h).
//   - Fake heads and the fake-head-aware compound_head() behind the static
//     key, as in 5.18 (models/v5_18/fake_head.h, reused as is).
//   - The folio's hugetlb fields live in page[3] (subpool, cgroup, cgroup
//     rsvd, hwpoison list; _hugetlb_cgroup overlays ->mapping), the layout
//     the NR_RESET_STRUCT_PAGE 3 -> 4 fix (2025) came with: the restore must
//     re-initialise 4 struct pages of every copy (revert `reset-3`).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/hugetlb/hugetlb_demote_ops.h"
#include "models/common/hugetlb_folio_6x.h"
#include "models/v5_18/fake_head.h"
#include "models/v6_10/hugetlb_vmemmap.h"
#include "models/v6_10/page_ref.h"

namespace hvo {

class V610Model final : public models::HugetlbFolio6x, public HugetlbDemoteOps {
 public:
  static const ModelInfo kInfo;

  V610Model(Machine& machine, std::set<std::string> reverts);

  [[nodiscard]] const ModelInfo& info() const override { return kInfo; }
  [[nodiscard]] Pfn compound_head(Pfn pfn) override { return fake_heads_.compound_head(pfn); }
  [[nodiscard]] bool page_head(Pfn pfn) override { return fake_heads_.page_head(pfn); }
  [[nodiscard]] bool get_page_unless_zero(Pfn pfn) override;
  [[nodiscard]] bool vmemmap_optimized(Pfn head) override {
    return vmemmap_.folio_test_hugetlb_vmemmap_optimized(head);
  }
  [[nodiscard]] std::vector<ExpectedVmemmapPage> optimized_shape(const Hstate& h) const override;
  [[nodiscard]] std::optional<int64_t> fake_head_key_count() const override {
    return vmemmap_.hugetlb_optimize_vmemmap_key().count();
  }

  // Demote (models/v6_10/demote.cc): c0f398c3b2cf's batched
  // demote_free_hugetlb_folios() (one de-HVO batch of the sources, one HVO
  // batch of the destinations), or with it reverted the per-folio loop.
  [[nodiscard]] HugetlbDemoteOps* demote_ops() override { return this; }
  int64_t demote_free_hugetlb_folios(HugetlbPool& src, HugetlbPool& dst, std::vector<Pfn>& src_list) override;
  [[nodiscard]] bool restore_demote_source(HugetlbPool& src, Pfn head) override;
  void prep_demoted_folio(HugetlbPool& dst, Pfn head) override;
  [[nodiscard]] uint64_t sources_per_batch(uint64_t nr_to_demote) const override;

  [[nodiscard]] v6_10::HugetlbVmemmap& hugetlb_vmemmap() { return vmemmap_; }
  [[nodiscard]] v6_10::PageRef& page_ref() { return page_ref_; }
  [[nodiscard]] v5_18::FakeHeads& fake_heads() { return fake_heads_; }

 private:
  // The HugetlbFolio6x hooks: 6.10's HVO (hugetlb_vmemmap.h), its
  // folio_ref_freeze() (page_ref.h) and its fixes older than 6.7.
  void hugetlb_vmemmap_optimize_folios(const Hstate& h, const std::vector<Pfn>& folio_list) override {
    vmemmap_.hugetlb_vmemmap_optimize_folios(h, folio_list);
  }
  [[nodiscard]] bool hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio) override {
    return vmemmap_.hugetlb_vmemmap_restore_folio(h, folio);
  }
  [[nodiscard]] int64_t hugetlb_vmemmap_restore_folios(const Hstate& h, std::vector<Pfn>& folio_list,
                                                       std::vector<Pfn>& non_hvo_folios) override {
    return vmemmap_.hugetlb_vmemmap_restore_folios(h, folio_list, non_hvo_folios);
  }
  [[nodiscard]] std::span<const std::string_view> fixes_older_than_batched_resize() const override;
  [[nodiscard]] bool folio_ref_freeze(Pfn folio, int32_t count) override {
    return page_ref_.folio_ref_freeze(folio, count);
  }

  v6_10::HugetlbVmemmap vmemmap_;
  v5_18::FakeHeads fake_heads_;
  v6_10::PageRef page_ref_;
};

}  // namespace hvo
