// memory_failure() on hugetlb folios that are not free, as 6.10 and 7.1
// handle it (mm/memory-failure.c: get_huge_page_for_hwpoison() under
// hugetlb_lock, folio_set_hugetlb_hwpoison() and the raw_hwp_page list):
// the folio keeps the poison until it is freed, and its free moves it to
// the raw page (__update_and_free_hugetlb_folio()'s
// folio_clear_hugetlb_hwpoison()). And 5596d9e8b553, the order of that
// move and the clear of the hugetlb mark.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "engine/struct_page.h"
#include "engine/struct_page_peek.h"
#include "tests/models/pool_fixture.h"
#include "tests/models/pool_interleaving.h"

namespace hvo {
namespace {

using testing::count;
using testing::first_violation;
using testing::in_operation;
using testing::on_cpu;
using testing::PoolWorld;
using testing::Script;

constexpr uint64_t kRawPage = 64 + 5;  // a tail in a read-only vmemmap page while optimized

std::optional<HwpoisonState> ledger_state(PoolWorld& w, Pfn raw) {
  const std::map<Pfn, HwpoisonState> e = w.pool->hwpoison().entries();
  auto it = e.find(raw);
  if (it == e.end()) return std::nullopt;
  return it->second;
}

uint64_t hwpoison_violations(PoolWorld& w) {
  uint64_t n = 0;
  for (const Violation& v : w.machine.violations().snapshot()) n += v.invariant == Invariant::kHwpoisonConservation;
  return n;
}

class Hwpoison6xTest : public ::testing::TestWithParam<std::string> {};

// The kernel keeps the poison of a folio in use: PG_hwpoison on the head,
// the raw page on its list, counted (num_poisoned_pages_inc()). Freed by
// its owner, the folio is enqueued but no dequeue hands it out again; the
// shrink frees it and its poison moves to the raw page.
TEST_P(Hwpoison6xTest, AFolioInUseKeepsItsPoisonIsNeverHandedOutAgainAndIsDissolvedWhenFreed) {
  PoolWorld w(GetParam(), kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(2), 2u);
  const std::optional<Pfn> head = w.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(head.has_value());
  const Pfn raw = *head + kRawPage;
  w.model->memory_failure(*w.pool, raw);
  EXPECT_TRUE(peek_page_flag(w.machine, *head, PG_hwpoison));
  EXPECT_EQ(ledger_state(w, raw), HwpoisonState::kKept);
  EXPECT_EQ(w.pool->counters().nr_huge_pages, 2u);  // in use: not dissolved
  EXPECT_TRUE(w.checker->check_quiescent()) << first_violation(w);

  w.model->put_page(*w.pool, *head);  // the owner's last reference: free_huge_folio()
  EXPECT_EQ(w.pool->counters().free_huge_pages, 2u);
  const std::optional<Pfn> other = w.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other, *head);
  EXPECT_FALSE(w.pool->alloc_hugetlb_folio().has_value());  // the poisoned one is skipped
  w.model->put_page(*w.pool, *other);

  ASSERT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(ledger_state(w, raw), HwpoisonState::kRetired);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// A second error in the same folio in use goes onto its list too, and
// both raw pages are poisoned when it is freed.
TEST_P(Hwpoison6xTest, ASecondErrorInAFolioInUseIsKeptToo) {
  PoolWorld w(GetParam(), kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const std::optional<Pfn> head = w.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(head.has_value());
  w.model->memory_failure(*w.pool, *head + kRawPage);
  w.model->memory_failure(*w.pool, *head + 7);
  EXPECT_EQ(ledger_state(w, *head + kRawPage), HwpoisonState::kKept);
  EXPECT_EQ(ledger_state(w, *head + 7), HwpoisonState::kKept);
  w.model->put_page(*w.pool, *head);
  ASSERT_EQ(w.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(ledger_state(w, *head + kRawPage), HwpoisonState::kRetired);
  EXPECT_EQ(ledger_state(w, *head + 7), HwpoisonState::kRetired);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

INSTANTIATE_TEST_SUITE_P(Models, Hwpoison6xTest, ::testing::Values("v6.10", "v7.1"),
                         [](const auto& info) { return info.param == "v6.10" ? "v6_10" : "v7_1"; });

// 5596d9e8b553: memory_failure() (CPU 1) on a surplus folio its owner's put
// is freeing (free_huge_folio() -> __update_and_free_hugetlb_folio(), CPU
// 0), after the vmemmap is restored, as CPU 0 is about to take
// hugetlb_lock to clear the hugetlb mark: the folio is still hugetlb, in
// no list, so memory_failure() marks it (-EBUSY, then MF_NO_RETRY).
struct RacedPoison {
  Pfn head{0};
  Pfn raw{0};
};
RacedPoison memory_failure_before_the_mark_is_cleared(PoolWorld& w) {
  w.pool->set_nr_overcommit_huge_pages(1);
  const std::optional<Pfn> head = w.pool->alloc_hugetlb_folio();  // a surplus folio: the pool is empty
  EXPECT_TRUE(head.has_value());
  RacedPoison r{head.value_or(Pfn(0)), head.value_or(Pfn(0)) + kRawPage};
  const char* kRestore = "hugetlb_vmemmap_restore_folio";
  Script script({{[&](const SchedulePoint&) { return in_operation(kRestore); }, [](const SchedulePoint&) {}},
                 {[&](const SchedulePoint& p) {
                    return p.event == SchedEvent::kLockAcquire && !in_operation(kRestore) &&
                           in_operation("__update_and_free_hugetlb_folio");
                  },
                  [&](const SchedulePoint&) { on_cpu(1, [&] { w.model->memory_failure(*w.pool, r.raw); }); }}});
  w.task.hook = &script;
  w.model->put_page(*w.pool, r.head);
  w.task.hook = nullptr;
  EXPECT_TRUE(script.done()) << "the forced interleaving did not happen";
  return r;
}

TEST(Hwpoison5596d9e8b553Test, ThePoisonMovesOnlyOnceTheMarkIsCleared) {
  PoolWorld w("v6.10", kHstate2M);
  const RacedPoison r = memory_failure_before_the_mark_is_cleared(w);
  EXPECT_EQ(ledger_state(w, r.raw), HwpoisonState::kRetired);
  EXPECT_EQ(w.pool->counters().nr_huge_pages, 0u);
  EXPECT_TRUE(w.checker->check_all_returned()) << first_violation(w);
  EXPECT_FALSE(w.machine.violations().any()) << first_violation(w);
}

// Reverted (6.5-6.9): the poison was moved before the mark was cleared, so
// the one memory_failure() recorded after the move stays on the head; the
// raw page reaches buddy unmarked.
TEST(Hwpoison5596d9e8b553Test, RevertedTheRawPageLeavesThePoolUnmarked) {
  PoolWorld w("v6.10", kHstate2M, PteAccess::kOnce, {"5596d9e8b553"});
  const RacedPoison r = memory_failure_before_the_mark_is_cleared(w);
  ASSERT_EQ(hwpoison_violations(w), 1u) << first_violation(w);
  const Violation v = w.machine.violations().snapshot().front();
  EXPECT_EQ(v.pfn, r.raw);
  EXPECT_EQ(count(w, ViolationKind::kInvariantBroken), 1u);
}

}  // namespace
}  // namespace hvo
