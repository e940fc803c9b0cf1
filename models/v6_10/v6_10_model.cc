#include "models/v6_10/v6_10_model.h"

#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo {

const ModelInfo V610Model::kInfo{
    .name = "v6.10",
    .title = "Linux 6.10: head vmemmap page remapped to a new page, batched splits and remaps with deferred TLB "
             "flushes, frozen folios, synchronize_rcu() for speculative PFN walkers",
    .kernel = "mm/hugetlb_vmemmap.c, mm/hugetlb.c, include/linux/page_ref.h, include/linux/page-flags.h of 6.10, "
              "with the fixes to 2025",
    .source = "Linux 6.10 (Jul 2024) with the fixes that reach its code through 6.16 (2025): "
              "c2a967f6ab0e, c0f398c3b2cf, the page_ref_add_unless() load order, NR_RESET_STRUCT_PAGE 4 with the "
              "hugetlb fields in page[3]",
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
                {"5596d9e8b553",
                 "__update_and_free_hugetlb_folio() moves the poison to the raw pages before clearing the hugetlb "
                 "mark: a memory_failure() in between marks the folio again, and its raw page reaches buddy "
                 "unmarked"},
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
    .demote = true,
};

namespace {
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
    : HugetlbFolio6x(machine, std::move(reverts)),
      vmemmap_(machine, vmemmap_fixes(*this), planted_),
      fake_heads_(machine, vmemmap_.hugetlb_optimize_vmemmap_key(), /*check_fake_heads=*/true),
      page_ref_(machine, fake_heads_, /*refcount_first_acquire=*/!reverted("ref-acquire")) {}

std::span<const std::string_view> V610Model::fixes_older_than_batched_resize() const {
  // 2b21624fc232 (6.1), d8f5f7e445f0 (6.5), 32c877191e02 (6.5): before 6.7's
  // batched resize. The others came after it: flush-before-free is the
  // batch's own flush (6.7), bd225530a4c7 and c2a967f6ab0e 2024,
  // c0f398c3b2cf 2024, ref-acquire and reset-3 2025.
  static constexpr std::string_view kFixes[] = {"2b21624fc232", "d8f5f7e445f0", "32c877191e02"};
  return kFixes;
}

std::vector<ExpectedVmemmapPage> V610Model::optimized_shape(const Hstate& h) const {
  // Page 0: the new head page, a frame of its own, writable; every other
  // vmemmap page a read-only alias of it.
  std::vector<ExpectedVmemmapPage> shape;
  for (uint64_t i = 0; i < h.vmemmap_pages(); ++i)
    shape.push_back(i < kReservedVmemmapPages ? ExpectedVmemmapPage{true, -1} : ExpectedVmemmapPage{false, 0});
  return shape;
}

bool V610Model::get_page_unless_zero(Pfn pfn) {
  // Before bd225530a4c7: the 5.x page_ref_add_unless(), no RCU, no
  // fake-head check.
  if (reverted("bd225530a4c7")) return Model::get_page_unless_zero(pfn);
  OperationScope op("get_page_unless_zero");
  return page_ref_.page_ref_add_unless(pfn, 1, 0);
}

}  // namespace hvo
