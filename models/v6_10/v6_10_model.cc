#include "models/v6_10/v6_10_model.h"

#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo {

const ModelInfo V610Model::kInfo{
    .name = "v6.10",
    .title = "Linux 6.10: head vmemmap page remapped to a new page, batched splits and remaps with deferred TLB "
             "flushes, frozen folios, synchronize_rcu() for speculative PFN walkers",
    .kernel = "mm/hugetlb_vmemmap.c, mm/hugetlb.c, include/linux/page_ref.h, include/linux/page-flags.h of 6.10, "
              "with the fixes to 2025",
    .reserved_vmemmap_pages = kReservedVmemmapPages,
    .vmemmap_mapping = VmemmapMapping::kPmdLeaves,
    .reverts = {{"flush-before-free",
                 "free the old vmemmap pages before the batch's TLB flush: a CPU with a stale TLB entry reads or "
                 "writes a freed (or reused) frame"},
                {"bd225530a4c7",
                 "no rcu_read_lock() in page_ref_add_unless() and no synchronize_rcu() before remapping: a "
                 "speculative PFN walker writes a struct page HVO made read-only"},
                {"c2a967f6ab0e",
                 "synchronize_rcu() in every optimize/restore call, HVO or not: more grace periods per operation"},
                {"ref-acquire",
                 "page_ref_add_unless() checks for a fake head before reading _refcount, without acquire (weak "
                 "memory only)"},
                {"32c877191e02",
                 "the hugetlb mark is cleared before the vmemmap is restored: memory_failure() sees an ordinary "
                 "page and writes PG_hwpoison to a read-only tail"},
                {"d8f5f7e445f0",
                 "the hugetlb mark is set after the vmemmap is optimized: memory_failure() sees an ordinary page "
                 "and writes PG_hwpoison to a read-only tail"},
                {"reset-3",
                 "restore re-initialises NR_RESET_STRUCT_PAGE = 3 struct pages: page[3]'s hugetlb field is left "
                 "in tails (\"Bad page state ... corrupted mapping in tail page\")"},
                {"2b21624fc232",
                 "fresh folios not frozen before becoming hugetlb: a speculative reference taken on the head while "
                 "HVO copies it is lost"},
                {"c0f398c3b2cf",
                 "demote without batching: each 1 GiB source restored alone and each of its 512 2 MiB destinations "
                 "optimized alone, 1 + 512 synchronize_rcu() and their TLB flushes per folio (a cost, not a bug)"}},
    .folio_metadata_pages = kHugetlbFieldsPage + 1,
};

namespace {
// The hugetlb fields of page[3], by the word they overlay.
constexpr PageWord kHugetlbSubpool = PageWord::kCompoundInfo;  // _hugetlb_subpool
constexpr PageWord kHugetlbCgroup = PageWord::kMapping;        // _hugetlb_cgroup
constexpr PageWord kHugetlbCgroupRsvd = PageWord::kIndex;      // _hugetlb_cgroup_rsvd
constexpr PageWord kHugetlbHwpoison = PageWord::kPrivate;      // _hugetlb_hwpoison

v6_10::HugetlbVmemmapFixes vmemmap_fixes(const Model& m) {
  return v6_10::HugetlbVmemmapFixes{
      .synchronize_rcu = !m.reverted("bd225530a4c7"),
      .synchronize_rcu_only_hvo = !m.reverted("c2a967f6ab0e"),
      .flush_before_free = !m.reverted("flush-before-free"),
      .nr_reset_struct_page =
          m.reverted("reset-3") ? v6_10::kNrResetStructPageBefore2025 : v6_10::kNrResetStructPage,
  };
}
}  // namespace

V610Model::V610Model(Machine& machine, std::set<std::string> reverts)
    : Model(machine, std::move(reverts)),
      vmemmap_(machine, vmemmap_fixes(*this)),
      fake_heads_(machine, vmemmap_.hugetlb_optimize_vmemmap_key(), /*check_fake_heads=*/true),
      page_ref_(machine, fake_heads_, /*refcount_first_acquire=*/!reverted("ref-acquire")) {}

std::vector<ExpectedVmemmapPage> V610Model::optimized_shape(const Hstate& h) const {
  // Page 0: the new head page, a frame of its own, writable; every other
  // vmemmap page a read-only alias of it.
  std::vector<ExpectedVmemmapPage> shape;
  for (uint64_t i = 0; i < h.vmemmap_pages(); ++i)
    shape.push_back(i < kReservedVmemmapPages ? ExpectedVmemmapPage{true, -1} : ExpectedVmemmapPage{false, 0});
  return shape;
}

// --- mm/hugetlb.c: allocation ---------------------------------------------------------------

std::optional<Pfn> V610Model::alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp) {
  if (reverted("2b21624fc232")) return pool.alloc_fresh_folio_frames(gfp);
  OperationScope op("alloc_buddy_hugetlb_folio");
  // alloc_buddy_hugetlb_folio(): __folio_alloc() then folio_ref_freeze(folio,
  // 1), "retry once" if someone holds a speculative reference; the gigantic
  // path (__prep_compound_gigantic_folio() freezing every page, head
  // included, free_gigantic_folio() and one retry on failure) does the same
  // for the head, and its tails are at 0 already here.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::optional<Pfn> folio = pool.alloc_fresh_folio_frames(gfp);
    if (!folio) return std::nullopt;
    if (page_ref_.folio_ref_freeze(*folio, 1)) return folio;
    // folio_put(folio): the holder of the other reference frees it, an
    // ordinary compound page, with its put_page().
    put_page(pool, *folio);
  }
  // "WOW!  twice in a row." pr_warn("HugeTLB unexpected inflated folio ref count\n")
  return std::nullopt;
}

void V610Model::init_new_hugetlb_folio(Pfn folio) {
  StructPageAccess& pages = machine_.pages();
  pages.set_flag(folio, PG_hugetlb);  // __folio_set_hugetlb(folio)
  // INIT_LIST_HEAD(&folio->lru) has no counterpart: the pool keeps its lists.
  const Pfn fields = folio + kHugetlbFieldsPage;
  pages.store(fields, kHugetlbSubpool, 0);     // hugetlb_set_folio_subpool(folio, NULL)
  pages.store(fields, kHugetlbCgroup, 0);      // set_hugetlb_cgroup(folio, NULL)
  pages.store(fields, kHugetlbCgroupRsvd, 0);  // set_hugetlb_cgroup_rsvd(folio, NULL)
  pages.store(fields, kHugetlbHwpoison, 0);    // the raw_hwp_page list, empty
}

void V610Model::clear_hugetlb_folio_fields(Pfn folio) {
  StructPageAccess& pages = machine_.pages();
  const Pfn fields = folio + kHugetlbFieldsPage;
  pages.store(fields, kHugetlbSubpool, 0);
  pages.store(fields, kHugetlbCgroup, kTailMapping);  // an ordinary tail's ->mapping again
  pages.store(fields, kHugetlbCgroupRsvd, 0);
  pages.store(fields, kHugetlbHwpoison, 0);
}

bool V610Model::prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("prep_and_add_allocated_folios");
  const Hstate& h = pool.hstate();
  // d8f5f7e445f0: init_new_hugetlb_folio() right after the allocation, so
  // the folio is PageHuge() before any of its struct pages is read-only.
  const bool mark_first = !reverted("d8f5f7e445f0");
  if (mark_first) init_new_hugetlb_folio(head);
  // prep_and_add_allocated_folios(): "Send list for bulk vmemmap
  // optimization processing". The pool grows one folio at a time
  // (HugetlbPool::alloc_pool_folio()): a batch of one.
  vmemmap_.hugetlb_vmemmap_optimize_folios(h, {head});
  if (vmemmap_optimized(head)) pool.note_optimized(vmemmap_pages_freed_per_folio(h));
  if (!mark_first) init_new_hugetlb_folio(head);
  // Frozen since the allocation: the pool enqueues it at refcount 0.
  if (!reverted("2b21624fc232")) return true;
  // Before 2b21624fc232 the allocation's reference was put here
  // (put_page() -> free_huge_folio()); a speculative holder frees it.
  const RmwResult<int32_t> put = machine_.pages().add_return32(head, PageWord32::kRefcount, -1);
  return put.ok && put.value == 0;
}

// --- mm/hugetlb.c: freeing ------------------------------------------------------------------

bool V610Model::update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) {
  OperationScope op("__update_and_free_hugetlb_folio");
  const Hstate& h = pool.hstate();
  StructPageAccess& pages = machine_.pages();
  const std::optional<Pfn> raw = take_raw_hwp_page(head);
  if (reverted("32c877191e02")) {
    // Before 32c877191e02, remove_hugetlb_folio() cleared the mark under
    // hugetlb_lock, vmemmap optimized or not: the folio is not PageHuge()
    // while its tails are still read-only.
    SpinLockGuard g(pool.hugetlb_lock());
    pages.clear_flag(head, PG_hugetlb);  // __folio_clear_hugetlb(folio)
  }
  const bool clear_flag = vmemmap_optimized(head);
  if (clear_flag && !vmemmap_.hugetlb_vmemmap_restore_folio(h, head)) {
    // "If we cannot allocate vmemmap pages, just refuse to free the page
    // and put the page back on the hugetlb free list and treat as a
    // surplus page." add_hugetlb_folio() marks it hugetlb again.
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
    pages.clear_flag(head, PG_hugetlb);  // __folio_clear_hugetlb(folio)
  }
  if (pages.test_flag(head, PG_hwpoison)) folio_clear_hugetlb_hwpoison(head, raw);
  clear_hugetlb_folio_fields(head);
  // folio_ref_unfreeze(folio, 1): atomic_set_release(). Release: whoever
  // takes a reference from this count sees the folio's teardown above.
  pages.store32(head, PageWord32::kRefcount, 1, std::memory_order_release);
  pool.free_folio_frames(head);  // hugetlb_free_folio(folio)
  return true;
}

bool V610Model::page_huge(Pfn pfn) {
  // PageHuge(): folio_test_hugetlb(page_folio(page)), the mark on the head
  // compound_head() finds (fake heads seen through).
  return machine_.pages().test_flag(compound_head(pfn), PG_hugetlb);
}

bool V610Model::get_page_unless_zero(Pfn pfn) {
  // Before bd225530a4c7: the 5.x page_ref_add_unless(), no RCU, no
  // fake-head check.
  if (reverted("bd225530a4c7")) return Model::get_page_unless_zero(pfn);
  OperationScope op("get_page_unless_zero");
  return page_ref_.page_ref_add_unless(pfn, 1, 0);
}

}  // namespace hvo
