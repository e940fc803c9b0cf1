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
    .source = "the fake-head removal series (622026e87c40, 32c440d67e6c; linux-mm, 2026) on the 6.x base of "
              "v6.10, as merged for 7.1",
    .reserved_vmemmap_pages = kReservedVmemmapPages,
    .vmemmap_mapping = VmemmapMapping::kPmdLeaves,
    .reverts = {{"d8d55f5616cf",
                 "the splitting walks under mmap_write_lock(&init_mm) and the PMD split without "
                 "init_mm.page_table_lock, as 5.15-5.16: splits never overlap (no race; the fix bought concurrency)"},
                {"unlocked-split",
                 "synthetic: the walks under mmap_read_lock(&init_mm) and the PMD split without "
                 "init_mm.page_table_lock: two walks both install a PTE table"},
                {"3ce2c24cb68f",
                 "test pmd_leaf() under the lock, drop it, then read pmd_page(*pmd) (5.17-6.4): a concurrent "
                 "split's page-table page is taken for the block"},
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
v7_1::HugetlbVmemmapFixes vmemmap_fixes(const Model& m) {
  return v7_1::HugetlbVmemmapFixes{
      .flush_before_free = !m.reverted("flush-before-free"),
      .restore_wmb = !m.reverted("restore-wmb"),
      .tail_cmpxchg = !m.reverted("tail-cmpxchg"),
      .split = {.locking = models::split_locking(m), .pmd_page_under_lock = !m.reverted("3ce2c24cb68f")},
  };
}
}  // namespace

V71Model::V71Model(Machine& machine, std::set<std::string> reverts)
    : HugetlbFolio6x(machine, std::move(reverts)), vmemmap_(machine, vmemmap_fixes(*this), planted_) {}

std::span<const std::string_view> V71Model::fixes_older_than_batched_resize() const {
  // Before 6.7's batched resize: d8d55f5616cf (5.x: the PMD split under
  // init_mm.page_table_lock), restore-wmb (2022), 2b21624fc232 (6.1),
  // 3ce2c24cb68f (6.5), d8f5f7e445f0 (6.5), 32c877191e02 (6.5). Not
  // flush-before-free (the batch's own flush, 6.7) nor tail-cmpxchg (7.1).
  // unlocked-split is synthetic, but the window it opens is d8d55f5616cf's,
  // so it runs on the same per-folio pool (the entry's scenario as before).
  static constexpr std::string_view kFixes[] = {"d8d55f5616cf", "restore-wmb",  "2b21624fc232", "3ce2c24cb68f",
                                                "d8f5f7e445f0", "32c877191e02", "unlocked-split"};
  return kFixes;
}

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

// --- mm/hugetlb.c: allocation (the rest in models/common/hugetlb_folio_6x.cc) ----------------

void V71Model::prep_compound_tails(Pfn folio, Order order) {
  // Run by alloc_fresh_hugetlb_folio() before the freeze. The engine's
  // allocator (pool.alloc_fresh_folio_frames()) prepared the compound page
  // with 5.x-6.x pointers; 7.1's prep_compound_tail() writes the mask. The
  // folio is not visible to anyone who could care yet: a PFN walker that
  // reads either word finds the same head.
  StructPageAccess& pages = machine_.pages();
  const uint64_t info = compound_info_mask(order);
  for (uint64_t i = 1; i < order.nr_pages(); ++i) pages.store(folio + i, PageWord::kCompoundHead, info);
}

}  // namespace hvo
