#include "models/v7_1/v7_1_model.h"

#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo {

const ModelInfo V71Model::kInfo{
    .name = "v7.1",
    .title = "Linux 7.1: no fake heads; tails map one shared per-zone read-only tail page installed by cmpxchg, "
             "the head a private writable page",
    .kernel = "mm/hugetlb_vmemmap.c, mm/hugetlb.c, include/linux/page-flags.h, include/linux/page_ref.h after "
              "\"mm: Eliminate fake head pages from vmemmap optimization\" (622026e87c40, 32c440d67e6c)",
    .reserved_vmemmap_pages = kReservedVmemmapPages,
    .vmemmap_mapping = VmemmapMapping::kPmdLeaves,
    .reverts = {{"d8d55f5616cf",
                 "split a vmemmap PMD without init_mm.page_table_lock: two walks both install a PTE table"},
                {"3ce2c24cb68f",
                 "read pmd_page(*pmd) before taking the lock: a concurrent split's page-table page is taken for "
                 "the block"},
                {"restore-wmb",
                 "no smp_wmb() between filling a restored vmemmap page and set_pte_at() (weak memory only)"},
                {"flush-before-free",
                 "free the old vmemmap pages before the batch's TLB flush: a CPU with a stale TLB entry reads or "
                 "writes a freed (or reused) frame"},
                {"32c877191e02",
                 "the hugetlb mark is cleared before the vmemmap is restored: memory_failure() sees an ordinary "
                 "page and writes PG_hwpoison to a read-only tail"},
                {"d8f5f7e445f0",
                 "the hugetlb mark is set after the vmemmap is optimized: memory_failure() sees an ordinary page "
                 "and writes PG_hwpoison to a read-only tail"},
                {"2b21624fc232",
                 "fresh folios not frozen before becoming hugetlb: a speculative reference taken on the head while "
                 "HVO copies it is lost"},
                {"tail-cmpxchg",
                 "install the zone's shared tail page with WRITE_ONCE() instead of cmpxchg(): two CPUs install "
                 "different pages, a folio maps one the zone no longer knows and it leaks"}},
    .folio_metadata_pages = kHugetlbFieldsPage + 1,
};

namespace {
// The hugetlb fields of page[3], by the word they overlay.
constexpr PageWord kHugetlbSubpool = PageWord::kCompoundInfo;  // _hugetlb_subpool
constexpr PageWord kHugetlbCgroup = PageWord::kMapping;        // _hugetlb_cgroup
constexpr PageWord kHugetlbCgroupRsvd = PageWord::kIndex;      // _hugetlb_cgroup_rsvd
constexpr PageWord kHugetlbHwpoison = PageWord::kPrivate;      // _hugetlb_hwpoison

v7_1::HugetlbVmemmapFixes vmemmap_fixes(const Model& m) {
  return v7_1::HugetlbVmemmapFixes{
      .flush_before_free = !m.reverted("flush-before-free"),
      .restore_wmb = !m.reverted("restore-wmb"),
      .tail_cmpxchg = !m.reverted("tail-cmpxchg"),
      .split = {.page_table_lock = !m.reverted("d8d55f5616cf"), .pmd_page_under_lock = !m.reverted("3ce2c24cb68f")},
  };
}
}  // namespace

V71Model::V71Model(Machine& machine, std::set<std::string> reverts)
    : Model(machine, std::move(reverts)), vmemmap_(machine, vmemmap_fixes(*this)) {}

std::vector<ExpectedVmemmapPage> V71Model::optimized_shape(const Hstate& h) const {
  // Page 0: the head's private page, writable; every other vmemmap page the
  // zone's shared tail page for the order, read-only.
  std::vector<ExpectedVmemmapPage> shape;
  for (uint64_t i = 0; i < h.vmemmap_pages(); ++i)
    shape.push_back(i < kReservedVmemmapPages ? ExpectedVmemmapPage{true, -1}
                                              : ExpectedVmemmapPage{false, ExpectedVmemmapPage::kSharedTailPage});
  return shape;
}

Pfn V71Model::compound_head(Pfn pfn) {
  // READ_ONCE(page->compound_info): bit 0 marks a tail.
  const uint64_t info = machine_.pages().load(pfn, PageWord::kCompoundHead);
  return is_tail_word(info) ? head_of_tail(info, pfn) : pfn;
}

bool V71Model::page_huge(Pfn pfn) {
  // PageHuge(): folio_test_hugetlb(page_folio(page)).
  return machine_.pages().test_flag(compound_head(pfn), PG_hugetlb);
}

// --- mm/hugetlb.c: allocation ---------------------------------------------------------------

void V71Model::prep_compound_tails(Pfn folio, Order order) {
  // The engine's allocator (pool.alloc_fresh_folio_frames()) prepared the
  // compound page with 5.x-6.x pointers; 7.1's prep_compound_tail() writes
  // the mask. The folio is not visible to anyone who could care yet: a PFN
  // walker that reads either word finds the same head.
  StructPageAccess& pages = machine_.pages();
  const uint64_t info = compound_info_mask(order);
  for (uint64_t i = 1; i < order.nr_pages(); ++i) pages.store(folio + i, PageWord::kCompoundHead, info);
}

bool V71Model::folio_ref_freeze(Pfn folio, int32_t count) {
  int32_t expected = count;
  return machine_.pages().cmpxchg32(folio, PageWord32::kRefcount, expected, 0) == CasOutcome::kExchanged;
}

std::optional<Pfn> V71Model::alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp) {
  const Order order = pool.hstate().order;
  if (reverted("2b21624fc232")) {
    const std::optional<Pfn> folio = pool.alloc_fresh_folio_frames(gfp);
    if (folio) prep_compound_tails(*folio, order);
    return folio;
  }
  OperationScope op("alloc_buddy_hugetlb_folio");
  // __folio_alloc() then folio_ref_freeze(folio, 1), "retry once" if
  // someone holds a speculative reference (as 6.10).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::optional<Pfn> folio = pool.alloc_fresh_folio_frames(gfp);
    if (!folio) return std::nullopt;
    prep_compound_tails(*folio, order);
    if (folio_ref_freeze(*folio, 1)) return folio;
    put_page(pool, *folio);  // folio_put(): the other holder frees it
  }
  return std::nullopt;  // "HugeTLB unexpected inflated folio ref count"
}

void V71Model::init_new_hugetlb_folio(Pfn folio) {
  StructPageAccess& pages = machine_.pages();
  pages.set_flag(folio, PG_hugetlb);  // __folio_set_hugetlb(folio)
  const Pfn fields = folio + kHugetlbFieldsPage;
  pages.store(fields, kHugetlbSubpool, 0);     // hugetlb_set_folio_subpool(folio, NULL)
  pages.store(fields, kHugetlbCgroup, 0);      // set_hugetlb_cgroup(folio, NULL)
  pages.store(fields, kHugetlbCgroupRsvd, 0);  // set_hugetlb_cgroup_rsvd(folio, NULL)
  pages.store(fields, kHugetlbHwpoison, 0);    // the raw_hwp_page list, empty
}

void V71Model::clear_hugetlb_folio_fields(Pfn folio) {
  StructPageAccess& pages = machine_.pages();
  const Pfn fields = folio + kHugetlbFieldsPage;
  pages.store(fields, kHugetlbSubpool, 0);
  pages.store(fields, kHugetlbCgroup, kTailMapping);  // an ordinary tail's ->mapping again
  pages.store(fields, kHugetlbCgroupRsvd, 0);
  pages.store(fields, kHugetlbHwpoison, 0);
}

bool V71Model::prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("prep_and_add_allocated_folios");
  const Hstate& h = pool.hstate();
  // d8f5f7e445f0: the folio is PageHuge() before any of its struct pages is
  // read-only.
  const bool mark_first = !reverted("d8f5f7e445f0");
  if (mark_first) init_new_hugetlb_folio(head);
  // prep_and_add_allocated_folios(): a batch of one (the pool grows one
  // folio at a time).
  vmemmap_.hugetlb_vmemmap_optimize_folios(h, {head});
  if (vmemmap_optimized(head)) pool.note_optimized(vmemmap_pages_freed_per_folio(h));
  if (!mark_first) init_new_hugetlb_folio(head);
  if (!reverted("2b21624fc232")) return true;  // frozen since the allocation
  // Before 2b21624fc232 the allocation's reference was put here; a
  // speculative holder frees the folio.
  const RmwResult<int32_t> put = machine_.pages().add_return32(head, PageWord32::kRefcount, -1);
  return put.ok && put.value == 0;
}

// --- mm/hugetlb.c: freeing ------------------------------------------------------------------

bool V71Model::update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("__update_and_free_hugetlb_folio");
  const Hstate& h = pool.hstate();
  StructPageAccess& pages = machine_.pages();
  const std::optional<Pfn> raw = take_raw_hwp_page(head);
  if (reverted("32c877191e02")) {
    // Before 32c877191e02 the mark was cleared in remove_hugetlb_folio(),
    // under hugetlb_lock, while the tails were still read-only.
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);  // __folio_clear_hugetlb(folio)
  }
  const bool clear_flag = vmemmap_optimized(head);
  if (clear_flag && !vmemmap_.hugetlb_vmemmap_restore_folio(h, head)) {
    // "If we cannot allocate vmemmap pages, just refuse to free the page
    // and put the page back on the hugetlb free list and treat as a
    // surplus page."
    pool.note_restore_failure();
    {
      SpinLockGuard g(pool.hugetlb_lock());
      pages.set_flag(head, PG_hugetlb);  // __folio_set_hugetlb(folio)
    }
    pool.add_hugetlb_folio(head, /*adjust_surplus=*/true);
    return false;
  }
  if (clear_flag) pool.note_restored(vmemmap_pages_freed_per_folio(h));
  // "If vmemmap pages were allocated above, then we need to clear the
  // hugetlb flag under the hugetlb lock."
  if (pages.test_flag(head, PG_hugetlb)) {
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);
  }
  if (pages.test_flag(head, PG_hwpoison)) folio_clear_hugetlb_hwpoison(head, raw);
  clear_hugetlb_folio_fields(head);
  // folio_ref_unfreeze(folio, 1): atomic_set_release(): whoever takes a
  // reference from this count sees the teardown above.
  pages.store32(head, PageWord32::kRefcount, 1, std::memory_order_release);
  pool.free_folio_frames(head);  // hugetlb_free_folio(folio)
  return true;
}

// --- mm/memory-failure.c ----------------------------------------------------------------------

void V71Model::note_raw_hwp_page(Pfn folio, Pfn page) {
  HostLockGuard g(raw_hwp_mu_);
  raw_hwp_page_[folio] = page;
}

std::optional<Pfn> V71Model::take_raw_hwp_page(Pfn folio) {
  HostLockGuard g(raw_hwp_mu_);
  auto it = raw_hwp_page_.find(folio);
  if (it == raw_hwp_page_.end()) return std::nullopt;
  const Pfn page = it->second;
  raw_hwp_page_.erase(it);
  return page;
}

void V71Model::folio_clear_hugetlb_hwpoison(Pfn folio, std::optional<Pfn> raw) {
  // After the restore: every struct page is private and writable again.
  StructPageAccess& pages = machine_.pages();
  pages.clear_flag(folio, PG_hwpoison);        // folio_clear_hwpoison(folio)
  if (raw) pages.set_flag(*raw, PG_hwpoison);  // folio_free_raw_hwp(folio, true)
}

void V71Model::memory_failure(HugetlbPool& pool, Pfn pfn) {
  OperationScope op("memory_failure");
  StructPageAccess& pages = machine_.pages();
  // try_memory_failure_hugetlb(): only a page whose folio is hugetlb takes
  // the hugetlb path.
  if (!page_huge(pfn)) {
    // An ordinary page: TestSetPageHWPoison(p), then lifted again
    // (unpoison_memory()). On a tail that maps the shared tail page this is
    // a write through a read-only PTE: the bug of 32c877191e02 and
    // d8f5f7e445f0, and in 7.1 it would poison that tail in every folio.
    const RmwResult<uint64_t> r = pages.fetch_or(pfn, PageWord::kFlags, page_flag(PG_hwpoison));
    if (r.ok && (r.value & page_flag(PG_hwpoison)) == 0) pages.clear_flag(pfn, PG_hwpoison);
    return;
  }
  // hugetlb_update_hwpoison(): folio_test_set_hwpoison() on the head, which
  // is on its private writable page.
  const Pfn head = compound_head(pfn);
  const RmwResult<uint64_t> r = pages.fetch_or(head, PageWord::kFlags, page_flag(PG_hwpoison));
  if (!r.ok || (r.value & page_flag(PG_hwpoison)) != 0) return;  // already being handled
  // A free folio: dissolve_free_hugetlb_folio(), the raw page recorded under
  // hugetlb_lock.
  const DissolveResult res = pool.dissolve_free_hugetlb_folio(pfn, [&](Pfn h) { note_raw_hwp_page(h, pfn); });
  if (res == DissolveResult::kDissolved) return;
  pages.clear_flag(head, PG_hwpoison);  // in use or not dissolved: lift the injected poison
}

}  // namespace hvo
