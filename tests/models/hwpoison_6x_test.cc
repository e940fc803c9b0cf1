// memory_failure() on hugetlb folios that are not free, as 6.10 and 7.1
// handle it (mm/memory-failure.c: get_huge_page_for_hwpoison() under
// hugetlb_lock, folio_set_hugetlb_hwpoison() and the raw_hwp_page list):
// the folio keeps the poison until it is freed, and its free moves it to
// the raw page (__update_and_free_hugetlb_folio()'s
// folio_clear_hugetlb_hwpoison()).
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

using testing::first_violation;
using testing::PoolWorld;

constexpr uint64_t kRawPage = 64 + 5;  // a tail in a read-only vmemmap page while optimized

std::optional<HwpoisonState> ledger_state(PoolWorld& w, Pfn raw) {
  const std::map<Pfn, HwpoisonState> e = w.pool->hwpoison().entries();
  auto it = e.find(raw);
  if (it == e.end()) return std::nullopt;
  return it->second;
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

}  // namespace
}  // namespace hvo
