#include "models/v5_18/v5_18_model.h"

#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/memory_failure_hugetlb.h"

namespace hvo {

const ModelInfo V518Model::kInfo{
    .name = "v5.18",
    .title = "Linux 5.18: 1 reserved vmemmap page, fake heads, PMD split under init_mm.page_table_lock",
    .kernel = "mm/hugetlb_vmemmap.c, mm/sparse-vmemmap.c, include/linux/page-flags.h, mm/hugetlb.c of 5.18",
    .source = "Linux 5.18 (May 2022); the 32c877191e02 and d8f5f7e445f0 hugetlb-mark orders of 6.5-6.6 folded "
              "in (revertible to 5.18's)",
    .reserved_vmemmap_pages = kReserveVmemmapNr,
    .vmemmap_mapping = VmemmapMapping::kPmdLeaves,
    .reverts = {{"d8d55f5616cf",
                 "vmemmap_remap_free() under mmap_write_lock(&init_mm) and the PMD split without "
                 "init_mm.page_table_lock, as 5.15-5.16: splits never overlap (no race; the fix bought concurrency)"},
                {"unlocked-split",
                 "synthetic: the walks under mmap_read_lock(&init_mm) and the PMD split without "
                 "init_mm.page_table_lock: two walks both install a PTE table, one leaks and its remapping is lost"},
                {"3ce2c24cb68f",
                 "test pmd_leaf() under init_mm.page_table_lock, drop it, then read pmd_page(*pmd) (5.17-6.4): "
                 "after a concurrent split the \"block\" is the page-table page"},
                {"fake-head",
                 "compound_head() without the fake-head check: aligned tails of an optimized folio are heads"},
                {"restore-wmb",
                 "no smp_wmb() between copying a restored vmemmap page and set_pte_at() (weak memory only)"},
                {"d8f5f7e445f0",
                 "the hugetlb mark is set after the vmemmap is optimized, as 5.18 did: memory_failure() sees an "
                 "ordinary page and writes PG_hwpoison to a read-only tail"},
                {"32c877191e02",
                 "the hugetlb mark cleared under hugetlb_lock at removal, before the vmemmap is restored, as 5.18 "
                 "did: memory_failure() sees an ordinary page and writes PG_hwpoison to a read-only tail"}},
};

namespace {
constexpr uint64_t kHpgVmemmapOptimized = uint64_t{1} << HPG_vmemmap_optimized;
// The flags __update_and_free_page() clears on every subpage (PG_error has
// no bit here).
constexpr uint64_t kFreeClearFlags = page_flag(PG_locked) | page_flag(PG_referenced) | page_flag(PG_dirty) |
                                     page_flag(PG_active) | page_flag(PG_private) | page_flag(PG_writeback);
// GFP_KERNEL | __GFP_NORETRY | __GFP_THISNODE: restore may fail rather than
// reclaim hard or fall back to another node.
constexpr Gfp kGfpVmemmapPage = Gfp::kKernel | Gfp::kNoRetry | Gfp::kThisNode;
// The struct pages whose ->private the hugetlb code uses (5.18): page[1]
// the subpool, page[2] the cgroup, page[3] the reservation cgroup.
constexpr uint64_t kSubpageIndexSubpool = 1;
constexpr uint64_t kSubpageIndexCgroup = 2;
constexpr uint64_t kSubpageIndexCgroupRsvd = 3;
}  // namespace

V518Model::V518Model(Machine& machine, std::set<std::string> reverts)
    : Model(machine, std::move(reverts)),
      fake_heads_(machine, key_, !reverted("fake-head")),
      remap_(machine,
             v5_18::SplitFixes{.locking = models::split_locking(*this),
                               .pmd_page_under_lock = !reverted("3ce2c24cb68f")},
             /*restore_wmb=*/!reverted("restore-wmb")) {
  remap_.set_planted(planted_);
}

// --- mm/hugetlb_vmemmap.c --------------------------------------------------------------

bool V518Model::vmemmap_optimized(Pfn head) {
  // HPageVmemmapOptimized(): a bit of the head's ->private (5.x).
  return (machine_.pages().load(head, PageWord::kPrivate) & kHpgVmemmapOptimized) != 0;
}

void V518Model::free_huge_page_vmemmap(HugetlbPool& pool, Pfn head) {
  const uint64_t vmemmap_pages = vmemmap_pages_freed_per_folio(pool.hstate());  // free_vmemmap_pages_per_hpage()
  if (vmemmap_pages == 0) return;
  // RESERVE_VMEMMAP_SIZE: the head's own vmemmap page is the reuse page.
  const VmemmapAddr vmemmap_addr = pfn_to_page(head) + kReserveVmemmapNr * kPageSize;
  // Planted (range-one-page-short): the walk's end one page early.
  const VmemmapAddr vmemmap_end =
      vmemmap_addr + (vmemmap_pages - (planted(kPlantedRangeOnePageShort) ? 1 : 0)) * kPageSize;
  const VmemmapAddr vmemmap_reuse = VmemmapAddr(vmemmap_addr.value() - kPageSize);
  // On before the first tail becomes an alias of the head: from then on a
  // reader of an aligned tail may find a fake head (static_key.h).
  key_.static_branch_inc();
  // "Remap the vmemmap virtual address range [@vmemmap_addr, @vmemmap_end)
  // to the page which @vmemmap_reuse is mapped to, then free the pages
  // which the range [@vmemmap_addr, @vmemmap_end] is mapped to."
  const v5_18::RemapFreeResult r =
      remap_.vmemmap_remap_free(vmemmap_addr, vmemmap_end, vmemmap_reuse, planted(kPlantedRollbackShort));
  if (r.result != v5_18::VmemmapResult::kOk) {
    // -ENOMEM: walked back, nothing aliases the head.
    key_.static_branch_dec();
    return;
  }
  machine_.pages().fetch_or(head, PageWord::kPrivate, kHpgVmemmapOptimized);  // SetHPageVmemmapOptimized()
  pool.note_optimized(r.pages_freed);
}

bool V518Model::alloc_huge_page_vmemmap(HugetlbPool& pool, Pfn head) {
  if (!vmemmap_optimized(head)) return true;
  const uint64_t vmemmap_pages = vmemmap_pages_freed_per_folio(pool.hstate());
  const VmemmapAddr vmemmap_addr = pfn_to_page(head) + kReserveVmemmapNr * kPageSize;
  const VmemmapAddr vmemmap_end = vmemmap_addr + vmemmap_pages * kPageSize;
  const VmemmapAddr vmemmap_reuse = VmemmapAddr(vmemmap_addr.value() - kPageSize);
  // "The pages which the vmemmap virtual address range [@vmemmap_addr,
  // @vmemmap_end) are mapped to are freed to the buddy allocator, and the
  // range is mapped to the page which @vmemmap_reuse is mapped to. When a
  // HugeTLB page is freed to the buddy allocator, previously discarded
  // vmemmap pages must be allocated and remapping."
  // Planted: off before the remap, which may fail and leave the fake heads.
  const bool early_dec = planted(kPlantedKeyDecBeforeRestore);
  if (early_dec) key_.static_branch_dec();
  if (remap_.vmemmap_remap_alloc(vmemmap_addr, vmemmap_end, vmemmap_reuse, kGfpVmemmapPage) !=
      v5_18::VmemmapResult::kOk)
    return false;
  machine_.pages().fetch_and(head, PageWord::kPrivate, ~kHpgVmemmapOptimized);  // ClearHPageVmemmapOptimized()
  // Off only now: the remap and its TLB flush are done, no fake head is left.
  if (!early_dec) key_.static_branch_dec();
  pool.note_restored(vmemmap_pages);
  return true;
}

std::vector<ExpectedVmemmapPage> V518Model::optimized_shape(const Hstate& h) const {
  std::vector<ExpectedVmemmapPage> shape;
  for (uint64_t i = 0; i < h.vmemmap_pages(); ++i)
    shape.push_back(i < kReserveVmemmapNr ? ExpectedVmemmapPage{true, -1} : ExpectedVmemmapPage{false, 0});
  return shape;
}

// --- mm/hugetlb.c ---------------------------------------------------------------------

bool V518Model::prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("prep_new_huge_page");
  StructPageAccess& pages = machine_.pages();
  // __prep_new_huge_page() in 5.18 ran HVO first and set the destructor
  // after, leaving a window in which the folio is not PageHuge() but its
  // tails are read-only. The model carries the fix, d8f5f7e445f0 (6.5: mark
  // first), unless it is reverted. INIT_LIST_HEAD(&page->lru) has no
  // counterpart: the pool keeps its lists itself.
  const bool mark_first = !reverted("d8f5f7e445f0");
  if (mark_first) pages.set_flag(head, PG_hugetlb);  // set_compound_page_dtor(page, HUGETLB_PAGE_DTOR)
  free_huge_page_vmemmap(pool, head);
  if (!mark_first) pages.set_flag(head, PG_hugetlb);
  pages.store(head + kSubpageIndexSubpool, PageWord::kPrivate, 0);    // hugetlb_set_page_subpool(page, NULL)
  pages.store(head + kSubpageIndexCgroup, PageWord::kPrivate, 0);     // set_hugetlb_cgroup(page, NULL)
  pages.store(head + kSubpageIndexCgroupRsvd, PageWord::kPrivate, 0); // set_hugetlb_cgroup_rsvd(page, NULL)
  // alloc_pool_huge_page()'s put_page(): "free it into the hugepage
  // allocator" when that was the last reference (the pool enqueues it).
  const RmwResult<int32_t> put = pages.add_return32(head, PageWord32::kRefcount, -1);
  return put.ok && put.value == 0;
}

bool V518Model::update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("update_and_free_page");
  const Hstate& h = pool.hstate();
  StructPageAccess& pages = machine_.pages();
  const std::optional<Pfn> hwpoison_page = take_hwpoison_page(head);
  const bool mark_cleared_at_removal = reverted("32c877191e02");
  if (mark_cleared_at_removal) {
    // As shipped (until 32c877191e02, 6.5): remove_hugetlb_page() cleared
    // the destructor, set_compound_page_dtor(page, NULL_COMPOUND_DTOR),
    // under hugetlb_lock as it took the page out of the pool, before
    // update_and_free_page() gave its vmemmap back: until the restore the
    // page is not PageHuge() while its tails are still read-only, and
    // memory_failure() treats a tail as an ordinary page.
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);
  }
  if (!alloc_huge_page_vmemmap(pool, head)) {
    // The raw error page stays recorded with the folio (the kernel keeps it
    // in the head's struct page): the next free delivers it.
    if (hwpoison_page) note_hwpoison_page(head, *hwpoison_page);
    // "If we cannot allocate vmemmap pages, just refuse to free the page
    // and put the page back on the hugetlb free list and treat as a
    // surplus page."
    pool.note_restore_failure();
    if (mark_cleared_at_removal) {
      // add_hugetlb_page(): set_compound_page_dtor(page, HUGETLB_PAGE_DTOR)
      // under hugetlb_lock, the page back in the pool.
      SpinLockGuard g(pool.hugetlb_lock());
      pages.set_flag(head, PG_hugetlb);
    }
    pool.add_hugetlb_folio(head, /*adjust_surplus=*/true);
    return false;
  }
  // dissolve_free_huge_page(), after its alloc_huge_page_vmemmap(): "Move
  // PageHWPoison flag from head page to the raw error page, which makes any
  // subpages rather than the error page reusable." Every struct page is
  // writable again by now.
  if (hwpoison_page && pages.test_flag(head, PG_hwpoison) && *hwpoison_page != head) {
    pages.set_flag(*hwpoison_page, PG_hwpoison);
    pages.clear_flag(head, PG_hwpoison);
  }
  for (uint64_t i = 0; i < h.nr_pages(); ++i) pages.fetch_and(head + i, PageWord::kFlags, ~kFreeClearFlags);
  pages.clear_flag(head, PG_hugetlb);             // set_compound_page_dtor(page, NULL_COMPOUND_DTOR)
  pages.store32(head, PageWord32::kRefcount, 1);  // set_page_refcounted(page)
  pool.free_folio_frames(head);                   // __free_pages() / free_gigantic_page()
  return true;
}

bool V518Model::page_huge(Pfn pfn) {
  // PageHuge(): `if (!PageCompound(page)) return 0; page =
  // compound_head(page); return page[1].compound_dtor == HUGETLB_PAGE_DTOR;`
  if (!fake_heads_.page_compound(pfn)) return false;
  return machine_.pages().test_flag(compound_head(pfn), PG_hugetlb);
}

void V518Model::note_hwpoison_page(Pfn head, Pfn page) {
  HostLockGuard g(hwpoison_mu_);
  hwpoison_page_[head] = page;
}

std::optional<Pfn> V518Model::take_hwpoison_page(Pfn head) {
  HostLockGuard g(hwpoison_mu_);
  auto it = hwpoison_page_.find(head);
  if (it == hwpoison_page_.end()) return std::nullopt;
  const Pfn page = it->second;
  hwpoison_page_.erase(it);
  return page;
}

void V518Model::memory_failure(HugetlbPool& pool, Pfn pfn) {
  OperationScope op("memory_failure");
  StructPageAccess& pages = machine_.pages();
  if (!page_huge(pfn)) {
    // An ordinary page: TestSetPageHWPoison(p); the simulated injection is
    // then undone (unpoison_memory()), as nothing here takes pages offline.
    const RmwResult<uint64_t> r = pages.fetch_or(pfn, PageWord::kFlags, page_flag(PG_hwpoison));
    if (r.ok && (r.value & page_flag(PG_hwpoison)) == 0) pages.clear_flag(pfn, PG_hwpoison);
    return;
  }
  // memory_failure_hugetlb(): TestSetPageHWPoison(head), the head found by
  // the fake-head-aware compound_head(): the head's struct page is writable.
  const Pfn head = compound_head(pfn);
  const RmwResult<uint64_t> r = pages.fetch_or(head, PageWord::kFlags, page_flag(PG_hwpoison));
  if (!r.ok || (r.value & page_flag(PG_hwpoison)) != 0) return;  // already being handled
  pool.hwpoison().handling(pfn);
  // A free hugepage is dissolved (__page_handle_poison() ->
  // dissolve_free_huge_page(p)): removed under hugetlb_lock, restored, the
  // poison moved to p, freed (update_and_free_hugetlb_folio above).
  const DissolveResult res = pool.dissolve_free_hugetlb_folio(pfn, [&](Pfn h) { note_hwpoison_page(h, pfn); });
  memory_failure_after_dissolve(*this, pool, pfn, head, res, PoisonOnBusyFolio::kLifted);
}

}  // namespace hvo
