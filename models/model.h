// One HVO generation of the kernel, behind one interface.
//
// A model is the kernel code that differs between generations: how a
// folio's vmemmap is optimized and restored (the HugetlbVmemmapOps the pool
// calls), compound_head() as that kernel computes it, memory_failure() on a
// pfn, and what an optimized folio's vmemmap must look like (for the
// vmemmap-shape checker). Each historical fix it carries can be reverted by
// name, bringing its bug back.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hugetlb/hstate.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/hugetlb/hugetlb_vmemmap_ops.h"
#include "engine/machine.h"
#include "engine/struct_page.h"
#include "models/planted_bugs.h"

namespace hvo {

// A fix that can be reverted: named by its kernel commit id where it has
// one, else by a slug.
struct RevertInfo {
  std::string_view name;
  std::string_view title;
};

struct ModelInfo {
  std::string_view name;         // "v17"
  std::string_view title;        // one line
  std::string_view kernel;       // which kernel code it follows
  // The text it is pinned to: the release or posting and its date, and the
  // later fixes folded in (docs/models.md: step by step, with deviations).
  std::string_view source;
  unsigned reserved_vmemmap_pages;  // vmemmap pages of a folio kept (not freed) by HVO
  VmemmapMapping vmemmap_mapping;   // how its kernels populate the vmemmap
  std::vector<RevertInfo> reverts;
  // The struct pages at the start of a folio whose words the folio uses for
  // its own fields (the head, page[1] and page[2] in 5.x; page[3] too once
  // the hugetlb fields moved there), so that ->mapping of those is not
  // TAIL_MAPPING. Every later tail is an ordinary one.
  unsigned folio_metadata_pages = 3;
  // Whether the model implements demote (Model::demote_ops()), known before
  // a machine exists so that a demote workload is refused up front.
  bool demote = false;
};

// What the vmemmap of one folio must look like, per vmemmap page of the folio.
struct ExpectedVmemmapPage {
  // alias_of for a page that must map the model's shared tail page for the
  // folio's order (Model::shared_tail_page(), 7.1's zone->vmemmap_tails[]),
  // a frame outside the folio's own vmemmap.
  static constexpr int64_t kSharedTailPage = -2;
  bool writable;
  // The vmemmap page index (0-based within the folio) whose frame this one
  // must share, kSharedTailPage, or -1 when it must have a frame of its own.
  int64_t alias_of;
};

class Model : public HugetlbVmemmapOps {
 public:
  Model(Machine& machine, std::set<std::string> reverts) : machine_(machine), reverts_(std::move(reverts)) {}

  [[nodiscard]] virtual const ModelInfo& info() const = 0;

  // compound_head(page) as this generation computes it: the head's pfn for
  // a tail, the pfn itself otherwise. Reads struct pages through the MMU.
  [[nodiscard]] virtual Pfn compound_head(Pfn pfn) = 0;
  // PageHead(page) as this generation computes it: the page is the head of
  // a compound page, not a tail, nor an alias of a head (a "fake head",
  // 5.18-7.0). The default is the definition for every generation: PG_head
  // on a page that is its own compound_head(); a generation without fake
  // heads could test PG_head alone.
  [[nodiscard]] virtual bool page_head(Pfn pfn) {
    return machine_.pages().test_flag(pfn, PG_head) && compound_head(pfn) == pfn;
  }
  // PageHuge() / folio_test_hugetlb(page_folio(page)).
  [[nodiscard]] virtual bool page_huge(Pfn pfn) = 0;
  // get_page_unless_zero(page) (page_ref_add_unless(page, 1, 0)) as this
  // generation implements it: a speculative reference on an arbitrary pfn,
  // as compaction and the PFN walkers take. The default is the 5.x one,
  // atomic_add_unless(&page->_refcount, 1, 0), with no fake-head or RCU
  // protection.
  [[nodiscard]] virtual bool get_page_unless_zero(Pfn pfn);
  // put_page(page): drops a reference on the page's head (compound_head()
  // of this generation); the last one frees it: free_huge_folio() for a
  // hugetlb folio, free_compound_page() for another compound page, buddy
  // for an order-0 page. The same in every generation.
  void put_page(HugetlbPool& pool, Pfn pfn);
  // memory_failure(pfn, 0) as this generation handles a hugetlb page (and,
  // for an ordinary page, the poison set then lifted again, as the
  // hwpoison-inject/unpoison test interface does).
  virtual void memory_failure(HugetlbPool& pool, Pfn pfn) = 0;

  // Whether `head`'s vmemmap is currently optimized, as the folio says
  // (HPageVmemmapOptimized()).
  [[nodiscard]] virtual bool vmemmap_optimized(Pfn head) = 0;
  // The shape an optimized folio's vmemmap must have.
  [[nodiscard]] virtual std::vector<ExpectedVmemmapPage> optimized_shape(const Hstate& h) const = 0;
  // The shared read-only tail page that optimized folios of h's order map
  // (7.1: zone->vmemmap_tails[]), nullopt when there is none (yet, or in
  // this generation).
  [[nodiscard]] virtual std::optional<Pfn> shared_tail_page(const Hstate& h) const {
    static_cast<void>(h);
    return std::nullopt;
  }
  // Every vmemmap frame the model owns beyond any folio's vmemmap (the
  // shared tail pages: allocated once, never freed), for frame conservation.
  [[nodiscard]] virtual std::vector<Pfn> shared_vmemmap_frames() const { return {}; }
  // The word a tail of the folio at `head` must hold in compound_head: the
  // head's address | 1 (set_compound_head()) unless the generation encodes
  // it otherwise (7.1: the order's mask, the same in every folio).
  [[nodiscard]] virtual uint64_t tail_compound_info(Pfn head, const Hstate& h) const {
    static_cast<void>(h);
    return compound_head_value(head);
  }
  // The count of the static key that makes compound_head() check for fake
  // heads (5.18's hugetlb_free_vmemmap_enabled_key, 5.19-7.0's
  // hugetlb_optimize_vmemmap_key), or nullopt in a generation without one
  // (v17 has no fake heads; 7.1 none either). Each optimization's
  // static_branch_inc() is undone by its restore's (or its failed remap's)
  // static_branch_dec(), so at a quiescent point the count equals the
  // optimized folios: the static-key-balance invariant. Fewer, and a fake
  // head is mapped while compound_head() no longer looks for it.
  [[nodiscard]] virtual std::optional<int64_t> fake_head_key_count() const { return std::nullopt; }
  // Vmemmap pages HVO frees per folio: the kernel's savings figure.
  [[nodiscard]] uint64_t vmemmap_pages_freed_per_folio(const Hstate& h) const {
    return h.vmemmap_pages() - info().reserved_vmemmap_pages;
  }

  [[nodiscard]] bool reverted(std::string_view fix) const { return reverts_.count(std::string(fix)) != 0; }
  // Test-only planted bugs (never set by the CLI): the classes of issue 19
  // that no historical fix reverts, written into the fixed code so that a
  // test shows a campaign finds each (tests/stress/planted_bugs_test.cc).
  // Names: kPlanted* below; set before any CPU runs.
  static constexpr std::string_view kPlantedPoisonDropped = PlantedBugs::kPoisonDropped;
  static constexpr std::string_view kPlantedKeyDecBeforeRestore = PlantedBugs::kKeyDecBeforeRestore;
  static constexpr std::string_view kPlantedRollbackShort = PlantedBugs::kRollbackShort;
  static constexpr std::string_view kPlantedFlagBeforeDeferredFlush = PlantedBugs::kFlagBeforeDeferredFlush;
  static constexpr std::string_view kPlantedRemapWithoutFlush = PlantedBugs::kRemapWithoutFlush;
  static constexpr std::string_view kPlantedRangeOnePageShort = PlantedBugs::kRangeOnePageShort;
  static constexpr std::string_view kPlantedFlushMissesLastPage = PlantedBugs::kFlushMissesLastPage;
  static constexpr std::string_view kPlantedTailLeakedByLoser = PlantedBugs::kTailLeakedByLoser;
  static constexpr std::string_view kPlantedEnqueueBeforeHvo = PlantedBugs::kEnqueueBeforeHvo;
  static constexpr std::string_view kPlantedTailPublishedBeforeFilled = PlantedBugs::kTailPublishedBeforeFilled;
  void plant_for_test(std::string bug) { planted_.add(std::move(bug)); }
  [[nodiscard]] bool planted(std::string_view bug) const { return planted_.has(bug); }
  [[nodiscard]] const std::set<std::string>& reverts() const { return reverts_; }
  Machine& machine() const { return machine_; }

 protected:
  Machine& machine_;
  std::set<std::string> reverts_;
  // Before the derived models' members: they keep a reference to it.
  PlantedBugs planted_;
};

}  // namespace hvo
