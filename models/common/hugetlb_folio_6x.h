// The mm/hugetlb.c side of a HugeTLB folio's life as 6.10 and 7.1 share it:
// allocation frozen (alloc_buddy_hugetlb_folio(), 2b21624fc232), the
// hugetlb mark and fields (init_new_hugetlb_folio()) set before HVO
// (d8f5f7e445f0), prep_and_add_allocated_folios(), the teardown in
// __update_and_free_hugetlb_folio() with the mark cleared only after the
// restore (32c877191e02), and memory_failure() of a hugetlb page with its
// raw_hwp_page bookkeeping. 7.1's fake-head removal changed none of it.
//
// What differs between the two is a hook a model supplies:
//   - the vmemmap work itself: hugetlb_vmemmap_optimize_folios(),
//     hugetlb_vmemmap_restore_folio() and the batched
//     hugetlb_vmemmap_restore_folios() (6.10: fake heads, static key,
//     synchronize_rcu(); 7.1: the zone's shared tail page), and
//     vmemmap_optimized();
//   - which of its revertible fixes are older than 6.7's batched resize
//     (fixes_older_than_batched_resize()): with one reverted the pool
//     resizes one folio at a time, as the kernels before 6.7;
//   - compound_head() (6.10: fake-head aware; 7.1: the mask in
//     compound_info), which page_huge() and memory_failure() go through;
//   - prep_compound_tails(): 7.1's prep_compound_tail() rewrites every
//     tail's compound_info as the order's mask; 6.10 keeps the pointers the
//     engine's allocator wrote;
//   - folio_ref_freeze(): the same atomic_cmpxchg() in both, 6.10 routes it
//     through its page_ref.h.
//
// Reverts handled here, by the same name in both models: 2b21624fc232,
// d8f5f7e445f0, 32c877191e02, 5596d9e8b553. Each model lists the ones its
// kernels shipped without in its ModelInfo.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/host_mutex.h"
#include "models/model.h"

namespace hvo::models {

class HugetlbFolio6x : public Model {
 public:
  // The vmemmap pages of a folio HVO keeps: the head's (both remap it onto
  // a new page, which replaces the old one).
  static constexpr unsigned kReservedVmemmapPages = 1;
  // The struct page holding the folio's hugetlb fields (subpool, cgroup,
  // cgroup rsvd, hwpoison list; _hugetlb_cgroup overlays ->mapping).
  static constexpr uint64_t kHugetlbFieldsPage = 3;

  HugetlbFolio6x(Machine& machine, std::set<std::string> reverts) : Model(machine, std::move(reverts)) {}

  [[nodiscard]] std::optional<Pfn> alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp) override;
  [[nodiscard]] bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  [[nodiscard]] bool page_huge(Pfn pfn) override;
  void memory_failure(HugetlbPool& pool, Pfn pfn) override;

  // The pool's batched resize of 6.7+ (hugetlb_pool_bulk_6x.cc), or with a
  // fix older than it reverted the per-folio one of HugetlbVmemmapOps.
  void update_and_free_pages_bulk(HugetlbPool& pool, std::vector<Pfn>& folio_list) override;
  [[nodiscard]] bool pool_allocates_in_batches() const override { return batched_pool_resize(); }
  [[nodiscard]] std::optional<Pfn> alloc_pool_huge_folio(HugetlbPool& pool, Gfp gfp) override;
  void prep_and_add_allocated_folios(HugetlbPool& pool, const std::vector<Pfn>& folio_list) override;

 protected:
  // hugetlb_vmemmap_optimize_folios(h, folio_list) of the generation.
  virtual void hugetlb_vmemmap_optimize_folios(const Hstate& h, const std::vector<Pfn>& folio_list) = 0;
  // hugetlb_vmemmap_restore_folio(h, folio): false for -ENOMEM.
  [[nodiscard]] virtual bool hugetlb_vmemmap_restore_folio(const Hstate& h, Pfn folio) = 0;
  // hugetlb_vmemmap_restore_folios(h, folio_list, non_hvo_folios): restores
  // in order until the first failure, one flush_tlb_all() for the batch;
  // every folio with its vmemmap (restored or never optimized) moves to
  // non_hvo_folios. The number restored, or -1 for -ENOMEM (the failed
  // folio and the rest stay on folio_list).
  [[nodiscard]] virtual int64_t hugetlb_vmemmap_restore_folios(const Hstate& h, std::vector<Pfn>& folio_list,
                                                               std::vector<Pfn>& non_hvo_folios) = 0;
  // The model's revertible fixes that the kernel had before 6.7's batched
  // resize: a kernel without one of them resized the pool one folio at a
  // time.
  [[nodiscard]] virtual std::span<const std::string_view> fixes_older_than_batched_resize() const = 0;
  // prep_compound_tail() of the generation for every tail of a fresh folio,
  // where it writes something other than the engine allocator's
  // compound_head pointers. Nothing by default.
  virtual void prep_compound_tails(Pfn folio, Order order) {
    static_cast<void>(folio);
    static_cast<void>(order);
  }
  // folio_ref_freeze(folio, count): atomic_cmpxchg(&_refcount, count, 0),
  // fully ordered. True when the count was `count` and is now 0.
  [[nodiscard]] virtual bool folio_ref_freeze(Pfn folio, int32_t count);

  // init_new_hugetlb_folio(): the hugetlb mark and the hugetlb fields.
  void init_new_hugetlb_folio(Pfn folio);

 private:
  // Whether the pool's resize is 6.7's batched one: not with a fix older
  // than 6.7 reverted.
  [[nodiscard]] bool batched_pool_resize() const;
  // update_and_free_pages_bulk()'s error path: bulk_vmemmap_restore_error().
  void bulk_vmemmap_restore_error(HugetlbPool& pool, std::vector<Pfn>& folio_list, std::vector<Pfn>& non_hvo_folios);
  // The hugetlb fields torn down as the folio stops being hugetlb:
  // page[3]->mapping is an ordinary tail's TAIL_MAPPING again.
  void clear_hugetlb_folio_fields(Pfn folio);
  // folio_clear_hugetlb_hwpoison(): "Move PageHWPoison flag from head page
  // to the raw error pages, which makes any healthy subpages reusable."
  // (folio_clear_hwpoison(), then folio_free_raw_hwp(folio, true).)
  void folio_clear_hugetlb_hwpoison(Pfn folio);

  // --- memory_failure() of a hugetlb folio (hugetlb_folio_6x_hwpoison.cc) ---
  // What folio_set_hugetlb_hwpoison() did.
  struct HwpoisonSet {
    bool already_poisoned = false;  // -EHWPOISON: the head was marked, or the raw page listed, before
    bool raw_added = false;         // the raw page went onto the folio's list
  };
  // What __get_huge_page_for_hwpoison() found, under hugetlb_lock.
  struct HwpoisonGet {
    bool not_hugetlb = false;      // 2: the normal page handling
    bool free = false;             // 0: a free folio (folio_test_hugetlb_freed()), to dissolve
    bool count_increased = false;  // 1: in use (migratable), memory_failure() holds a reference
    HwpoisonSet set;               // the marking; neither free nor in use: -EBUSY, marked anyway
  };
  // get_huge_page_for_hwpoison(): __get_huge_page_for_hwpoison() under
  // hugetlb_lock, retried once with MF_NO_RETRY as
  // try_memory_failure_hugetlb() does on -EBUSY.
  HwpoisonGet get_huge_page_for_hwpoison(HugetlbPool& pool, Pfn head, Pfn pfn);
  // folio_set_hugetlb_hwpoison(): folio_test_set_hwpoison() on the head and
  // the raw page onto the folio's list. Under hugetlb_lock.
  HwpoisonSet folio_set_hugetlb_hwpoison(Pfn folio, Pfn page);
  // folio_try_get(): a reference unless the count is 0.
  [[nodiscard]] bool folio_try_get(Pfn folio);
  // The folio's raw_hwp_page list (folio->_hugetlb_hwpoison): every raw
  // error page memory_failure() recorded under hugetlb_lock, taken by
  // folio_clear_hugetlb_hwpoison(); init_new_hugetlb_folio() starts a new
  // folio's list empty. Host state, the llist's stand-in. note: false when
  // the page is listed already.
  bool note_raw_hwp_page(Pfn folio, Pfn page) EXCLUDES(raw_hwp_mu_);
  [[nodiscard]] std::vector<Pfn> take_raw_hwp_pages(Pfn folio) EXCLUDES(raw_hwp_mu_);

  HostMutex raw_hwp_mu_;
  std::map<Pfn, std::vector<Pfn>> raw_hwp_pages_ GUARDED_BY(raw_hwp_mu_);
};

}  // namespace hvo::models
