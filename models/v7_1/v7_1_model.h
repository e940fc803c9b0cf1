// Model v7.1: HVO without fake heads (Linux 7.1, Kiryl Shutsemau's series
// "mm: Eliminate fake head pages from vmemmap optimization", 622026e87c40,
// 32c440d67e6c; mm/hugetlb_vmemmap.c, mm/hugetlb.c,
// include/linux/page-flags.h, include/linux/page_ref.h).
//
//   - compound_info (formerly compound_head) of a tail holds a mask, not a
//     pointer: head = tail's struct page address & mask, the same word in
//     every tail of one order (engine/struct_page.h compound_info_mask()).
//     prep_compound_tail() writes it; compound_head() is the plain one.
//   - HVO maps every vmemmap page of a folio but the first read-only onto
//     one shared tail page per zone and order, installed locklessly
//     (vmemmap_tails.h); the head's vmemmap page is remapped onto a private
//     writable copy. Nothing aliases a head: no fake heads, no static key.
//     Savings stay 7 (2 MiB) and 4095 (1 GiB) per folio: the head's new page
//     replaces the old one, and the tail page is per zone, not per folio.
//   - Restore fills each new page with copies of a valid tail, smp_wmb(),
//     set_pte_at() (vmemmap_remap.h); no NR_RESET_STRUCT_PAGE reset, so the
//     `reset-3` fix has nothing to revert here.
//   - No RCU machinery: page_ref_add_unless() is atomic_add_unless() with
//     neither rcu_read_lock() nor a fake-head check ("mm: Drop fake head
//     checks"), and HVO makes no synchronize_rcu(); bd225530a4c7,
//     c2a967f6ab0e and ref-acquire are gone with them.
//   - From 6.10, unchanged: batched splits and remaps with deferred TLB
//     flushes, PMD splits under init_mm.page_table_lock, and the folio's
//     mm/hugetlb.c life cycle (models/common/hugetlb_folio_6x.h): frozen
//     folios, the hugetlb mark set before optimizing and cleared after
//     restoring, the hugetlb fields in page[3], memory_failure(); and the
//     pool's batched resize of 6.7 (models/common/hugetlb_pool_bulk_6x.cc):
//     a grow allocates every folio, then HVOs them as one batch
//     (prep_and_add_allocated_folios()), a shrink restores every removed
//     folio as one batch (update_and_free_pages_bulk(), with
//     hugetlb_vmemmap_restore_folios() here). With a fix older than 6.7
//     reverted (d8d55f5616cf, 3ce2c24cb68f, restore-wmb, 32c877191e02,
//     and unlocked-split, which stands in for d8d55f5616cf's window,
//     d8f5f7e445f0, 2b21624fc232) the pool resizes one folio at a time, as
//     those kernels did. No demote (models/v6_10 only).
//
// Reverts: d8d55f5616cf, unlocked-split (synthetic) and 3ce2c24cb68f
// (models/common/vmemmap_split_6x.h), restore-wmb and
// flush-before-free (vmemmap_remap.h, hugetlb_vmemmap.h), 32c877191e02,
// d8f5f7e445f0 and 2b21624fc232 (models/common/hugetlb_folio_6x.h),
// tail-cmpxchg (vmemmap_tails.h).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "models/common/hugetlb_folio_6x.h"
#include "models/v7_1/hugetlb_vmemmap.h"

namespace hvo {

class V71Model final : public models::HugetlbFolio6x {
 public:
  static const ModelInfo kInfo;

  V71Model(Machine& machine, std::set<std::string> reverts);

  [[nodiscard]] const ModelInfo& info() const override { return kInfo; }
  // compound_head(): `info = READ_ONCE(page->compound_info); if (info & 1)
  // return page & info;` (the pointer encoding decoded too: the engine's
  // allocator writes it before prep_compound_tail() below rewrites it).
  [[nodiscard]] Pfn compound_head(Pfn pfn) override;
  // PageHead(): PG_head alone; no vmemmap page aliases a head any more.
  [[nodiscard]] bool page_head(Pfn pfn) override { return machine_.pages().test_flag(pfn, PG_head); }
  // get_page_unless_zero(): page_ref_add_unless() of 7.1 is
  // atomic_add_unless(&page->_refcount, 1, 0), Model's default.
  [[nodiscard]] bool vmemmap_optimized(Pfn head) override {
    return vmemmap_.folio_test_hugetlb_vmemmap_optimized(head);
  }
  [[nodiscard]] std::vector<ExpectedVmemmapPage> optimized_shape(const Hstate& h) const override;
  [[nodiscard]] std::optional<Pfn> shared_tail_page(const Hstate& h) const override {
    return vmemmap_.vmemmap_tails().peek(h.order);
  }
  [[nodiscard]] std::vector<Pfn> shared_vmemmap_frames() const override { return vmemmap_.vmemmap_tails().installed(); }
  [[nodiscard]] uint64_t tail_compound_info(Pfn head, const Hstate& h) const override {
    static_cast<void>(head);
    return compound_info_mask(h.order);
  }

  [[nodiscard]] v7_1::HugetlbVmemmap& hugetlb_vmemmap() { return vmemmap_; }

 private:
  // The HugetlbFolio6x hooks: 7.1's HVO (hugetlb_vmemmap.h),
  // prep_compound_tail() and the fixes older than 6.7.
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
  // prep_compound_tail() of 7.1 for every tail: set_compound_head() writes
  // the order's mask.
  void prep_compound_tails(Pfn folio, Order order) override;

  v7_1::HugetlbVmemmap vmemmap_;
};

}  // namespace hvo
