// Test-only planted bugs (Model::plant_for_test()): the names of issue 19's
// bug classes written into the fixed models, and the set a model and the
// parts it is built of (its remapper, its vmemmap batch) consult. Set before
// any CPU runs, by tests and by the test-only planting of
// stress/test_only_plant.h, never by a command-line flag. A lookup is a
// host-side branch, no schedule point: an unplanted model runs exactly the
// schedules it ran before.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace hvo {

class PlantedBugs {
 public:
  // memory_failure() lifts the poison it set when the dissolve fails.
  static constexpr std::string_view kPoisonDropped = "poison-dropped-on-failed-dissolve";
  // v5.18: the fake-head static key decremented before a restore that then fails.
  static constexpr std::string_view kKeyDecBeforeRestore = "key-dec-before-failed-restore";
  // v5.18: the rollback after -ENOMEM half-way walks back one PTE too few.
  static constexpr std::string_view kRollbackShort = "rollback-one-pte-short";
  // 6.10, 7.1: the optimized mark set after the remap, before the batch's
  // deferred TLB flush (the store goes through the stale translation to the
  // old head page, and is lost with it).
  static constexpr std::string_view kFlagBeforeDeferredFlush = "flag-set-before-deferred-flush";
  // 6.10, 7.1: vmemmap_remap_range() changes PTEs and omits its flush.
  static constexpr std::string_view kRemapWithoutFlush = "remap-without-flush";
  // 5.18, 6.10, 7.1: the optimize walk ends one page early, the last tail
  // vmemmap page keeps its own page.
  static constexpr std::string_view kRangeOnePageShort = "range-one-page-short";
  // v17, 5.18: flush_tlb_kernel_range(start, end - PAGE_SIZE).
  static constexpr std::string_view kFlushMissesLastPage = "flush-range-missing-last-page";
  // 7.1: the CPU that loses the cmpxchg() installing the zone's shared tail
  // page does not free the page it allocated.
  static constexpr std::string_view kTailLeakedByLoser = "shared-tail-leaked-by-cmpxchg-loser";
  // 7.1: the shared tail page installed in zone->vmemmap_tails[] before
  // init_compound_tail() fills it (tests/stress/publication_test.cc).
  static constexpr std::string_view kTailPublishedBeforeFilled = "tail-published-before-filled";
  // 6.10, 7.1: prep_and_add_allocated_folios() enqueues the new folios
  // before their batched HVO.
  static constexpr std::string_view kEnqueueBeforeHvo = "enqueue-before-batched-hvo";
  // The pool's (HugetlbPool::plant_for_test()): two faults racing past the
  // first overcommit check.
  static constexpr std::string_view kSurplusPastOvercommit = "surplus-past-overcommit";

  void add(std::string bug) { bugs_.insert(std::move(bug)); }
  [[nodiscard]] bool has(std::string_view bug) const { return !bugs_.empty() && bugs_.count(std::string(bug)) != 0; }
  [[nodiscard]] bool empty() const { return bugs_.empty(); }

 private:
  std::set<std::string> bugs_;
};

}  // namespace hvo
