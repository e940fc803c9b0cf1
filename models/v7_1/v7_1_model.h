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
//     flushes, PMD splits under init_mm.page_table_lock, frozen folios,
//     the hugetlb mark set before optimizing and cleared after restoring,
//     the hugetlb fields in page[3].
//
// Reverts: d8d55f5616cf and 3ce2c24cb68f (vmemmap_split.h), restore-wmb and
// flush-before-free (vmemmap_remap.h, hugetlb_vmemmap.h), 32c877191e02,
// d8f5f7e445f0 and 2b21624fc232 (below), tail-cmpxchg (vmemmap_tails.h).
#pragma once

#include <map>
#include <optional>

#include "engine/host_mutex.h"
#include "models/model.h"
#include "models/v7_1/hugetlb_vmemmap.h"

namespace hvo {

class V71Model final : public Model {
 public:
  static constexpr unsigned kReservedVmemmapPages = 1;  // the head's vmemmap page
  // The struct page holding the folio's hugetlb fields (as in 6.10).
  static constexpr uint64_t kHugetlbFieldsPage = 3;
  static const ModelInfo kInfo;

  V71Model(Machine& machine, std::set<std::string> reverts);

  [[nodiscard]] const ModelInfo& info() const override { return kInfo; }
  [[nodiscard]] std::optional<Pfn> alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp) override;
  [[nodiscard]] bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  // compound_head(): `info = READ_ONCE(page->compound_info); if (info & 1)
  // return page & info;` (the pointer encoding decoded too: the engine's
  // allocator writes it before prep_compound_tail() below rewrites it).
  [[nodiscard]] Pfn compound_head(Pfn pfn) override;
  // PageHead(): PG_head alone; no vmemmap page aliases a head any more.
  [[nodiscard]] bool page_head(Pfn pfn) override { return machine_.pages().test_flag(pfn, PG_head); }
  [[nodiscard]] bool page_huge(Pfn pfn) override;
  // get_page_unless_zero(): page_ref_add_unless() of 7.1 is
  // atomic_add_unless(&page->_refcount, 1, 0), Model's default.
  void memory_failure(HugetlbPool& pool, Pfn pfn) override;
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
  // prep_compound_tail() of 7.1 for every tail: set_compound_head() writes
  // the order's mask.
  void prep_compound_tails(Pfn folio, Order order);
  // init_new_hugetlb_folio(): the hugetlb mark and the hugetlb fields.
  void init_new_hugetlb_folio(Pfn folio);
  // The hugetlb fields torn down as the folio stops being hugetlb.
  void clear_hugetlb_folio_fields(Pfn folio);
  // folio_clear_hugetlb_hwpoison(): the poison moved to the raw page.
  void folio_clear_hugetlb_hwpoison(Pfn folio, std::optional<Pfn> raw);
  // folio_ref_freeze(folio, count): atomic_cmpxchg(&_refcount, count, 0).
  [[nodiscard]] bool folio_ref_freeze(Pfn folio, int32_t count);
  // The folio's raw_hwp_page list (folio->_hugetlb_hwpoison), one entry.
  void note_raw_hwp_page(Pfn folio, Pfn page) EXCLUDES(raw_hwp_mu_);
  [[nodiscard]] std::optional<Pfn> take_raw_hwp_page(Pfn folio) EXCLUDES(raw_hwp_mu_);

  v7_1::HugetlbVmemmap vmemmap_;
  HostMutex raw_hwp_mu_;
  std::map<Pfn, Pfn> raw_hwp_page_ GUARDED_BY(raw_hwp_mu_);
};

}  // namespace hvo
