// Model v5.18: HVO as Linux 5.18 has it (mm/hugetlb_vmemmap.c,
// mm/sparse-vmemmap.c, include/linux/page-flags.h, mm/hugetlb.c), plus the
// fixes to that code that came soon after, each revertible by name.
//
//   RESERVE_VMEMMAP_NR = 1 (e7d324850bfc): only the head's vmemmap page
//   keeps its frame; pages 1..N-1 are remapped read-only onto it. Every
//   struct page at the start of one of them (tail 64, 128, ...) is then an
//   alias of the head: a fake head, which compound_head() recognises behind
//   a static key (a6b40850c442; fake_head.h, static_key.h).
//   The vmemmap is PMD-mapped; the first HVO in a 128 MiB region splits the
//   region's PMD (vmemmap_split.h), under init_mm.page_table_lock
//   (d8d55f5616cf) with mmap_read_lock(&init_mm) around each walk.
//
// Reverts: d8d55f5616cf (5.15-5.16's mmap_write_lock, no race),
// unlocked-split (synthetic) and 3ce2c24cb68f (vmemmap_split.h), restore-wmb
// (vmemmap_remap.h), fake-head (fake_head.h), d8f5f7e445f0 (below).
//
// mm/hugetlb.c: 5.18 optimized before setting the hugetlb destructor in
// prep; the model carries d8f5f7e445f0 (mark first) unless it is reverted,
// and restores before clearing the destructor in update_and_free, as the
// v17 model does. 5.18 itself cleared the destructor earlier, in
// remove_hugetlb_page() under hugetlb_lock, i.e. before the restore: the
// window 32c877191e02 closed in 6.5. Reverting 32c877191e02 brings that
// order back: the mark is cleared under hugetlb_lock first thing in
// update_and_free_page() (the pool calls no model hook inside
// remove_hugetlb_page(); nothing runs between the two but the lock drop).
//
// memory_failure() on a free hugepage: PG_hwpoison goes on the head first;
// dissolve_free_huge_page(page) restores the vmemmap and only then moves
// the poison to the raw page it was called for (its `page` argument), so no
// read-only tail is written. 5.18 has no list of raw error pages yet (it
// came in 6.0, 161df60e9e89), and no longer the v17 series'
// head[4].private record.
//
// get_page_unless_zero() is 5.18's page_ref_add_unless(): no fake-head
// check (that came with bd225530a4c7), so a speculative reference on a fake
// head of an in-use optimized folio writes a read-only page. That is the
// kernel's bug, kept.
#pragma once

#include <map>

#include "engine/host_mutex.h"
#include "models/model.h"
#include "models/v5_18/fake_head.h"
#include "models/v5_18/static_key.h"
#include "models/v5_18/vmemmap_remap.h"

namespace hvo {

class V518Model final : public Model {
 public:
  static constexpr unsigned kReserveVmemmapNr = 1;  // RESERVE_VMEMMAP_NR
  static const ModelInfo kInfo;

  V518Model(Machine& machine, std::set<std::string> reverts);

  [[nodiscard]] const ModelInfo& info() const override { return kInfo; }
  [[nodiscard]] bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override;
  [[nodiscard]] Pfn compound_head(Pfn pfn) override { return fake_heads_.compound_head(pfn); }
  [[nodiscard]] bool page_head(Pfn pfn) override { return fake_heads_.page_head(pfn); }
  [[nodiscard]] bool page_huge(Pfn pfn) override;
  void memory_failure(HugetlbPool& pool, Pfn pfn) override;
  [[nodiscard]] bool vmemmap_optimized(Pfn head) override;
  [[nodiscard]] std::optional<int64_t> fake_head_key_count() const override { return key_.count(); }
  [[nodiscard]] std::vector<ExpectedVmemmapPage> optimized_shape(const Hstate& h) const override;

  // free_huge_page_vmemmap() / alloc_huge_page_vmemmap() of 5.18
  // (hugetlb_vmemmap_free()/_alloc() from 5.19, hugetlb_vmemmap_optimize()/
  // _restore() from 6.1). The latter returns false for -ENOMEM.
  void free_huge_page_vmemmap(HugetlbPool& pool, Pfn head);
  [[nodiscard]] bool alloc_huge_page_vmemmap(HugetlbPool& pool, Pfn head);

  [[nodiscard]] const v5_18::StaticKey& hugetlb_free_vmemmap_enabled_key() const { return key_; }
  // PageTail()/PageCompound() and friends, for PFN walkers and tests.
  [[nodiscard]] v5_18::FakeHeads& fake_heads() { return fake_heads_; }

 private:
  // dissolve_free_huge_page()'s `page`: the raw page memory_failure() was
  // called for, set while the folio is removed under hugetlb_lock and taken
  // when update_and_free runs for it. Host state: the kernel keeps it on
  // the stack.
  void note_hwpoison_page(Pfn head, Pfn page) EXCLUDES(hwpoison_mu_);
  [[nodiscard]] std::optional<Pfn> take_hwpoison_page(Pfn head) EXCLUDES(hwpoison_mu_);

  v5_18::StaticKey key_;
  v5_18::FakeHeads fake_heads_;
  v5_18::VmemmapRemapper remap_;
  HostMutex hwpoison_mu_;
  std::map<Pfn, Pfn> hwpoison_page_ GUARDED_BY(hwpoison_mu_);
};

}  // namespace hvo
