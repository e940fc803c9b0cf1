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
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hugetlb/hstate.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/hugetlb/hugetlb_vmemmap_ops.h"
#include "engine/machine.h"

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
  unsigned reserved_vmemmap_pages;  // vmemmap pages of a folio kept (not freed) by HVO
  VmemmapMapping vmemmap_mapping;   // how its kernels populate the vmemmap
  std::vector<RevertInfo> reverts;
  // The struct pages at the start of a folio whose words the folio uses for
  // its own fields (the head, page[1] and page[2] in 5.x; page[3] too once
  // the hugetlb fields moved there), so that ->mapping of those is not
  // TAIL_MAPPING. Every later tail is an ordinary one.
  unsigned folio_metadata_pages = 3;
};

// What the vmemmap of one folio must look like, per vmemmap page of the folio.
struct ExpectedVmemmapPage {
  bool writable;
  // The vmemmap page index (0-based within the folio) whose frame this one
  // must share, or -1 when it must have a frame of its own.
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
  // Vmemmap pages HVO frees per folio: the kernel's savings figure.
  [[nodiscard]] uint64_t vmemmap_pages_freed_per_folio(const Hstate& h) const {
    return h.vmemmap_pages() - info().reserved_vmemmap_pages;
  }

  [[nodiscard]] bool reverted(std::string_view fix) const { return reverts_.count(std::string(fix)) != 0; }
  [[nodiscard]] const std::set<std::string>& reverts() const { return reverts_; }
  Machine& machine() const { return machine_; }

 protected:
  Machine& machine_;
  std::set<std::string> reverts_;
};

}  // namespace hvo
