// dissolve_free_hugetlb_folio() and the pool's counters in each
// generation: h->max_huge_pages one off per dissolve and back when the
// folio's vmemmap cannot be restored; a free surplus folio taken out and put
// back as surplus ("mm/hugetlb: fix surplus pages in
// dissolve_free_huge_page()", 2025, which every model carries).
#include <gtest/gtest.h>

#include <string>

#include "tests/models/pool_fixture.h"

namespace hvo {
namespace {

using testing::PoolWorld;

class DissolveSurplusTest : public ::testing::TestWithParam<std::string> {};

Pfn free_folio(PoolWorld& w) {
  for (const FolioSnapshot& f : w.pool->folios())
    if (f.state == FolioState::kFree) return f.head;
  ADD_FAILURE() << "no free folio";
  return Pfn(0);
}

TEST_P(DissolveSurplusTest, MaxHugePagesIsOneOffPerDissolveAndBackWhenTheRestoreFails) {
  PoolWorld w(GetParam(), kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(3), 3u);
  EXPECT_EQ(w.pool->counters().max_huge_pages, 3u);
  EXPECT_EQ(w.pool->dissolve_free_hugetlb_folio(free_folio(w) + 7), DissolveResult::kDissolved);
  EXPECT_EQ(w.pool->counters().max_huge_pages, 2u);
  // The restore's vmemmap allocation fails: "add_hugetlb_folio(h, folio,
  // adjust_surplus); h->max_huge_pages++;", a persistent folio back as one.
  w.machine.alloc_failure().fail_every_from(1);
  EXPECT_EQ(w.pool->dissolve_free_hugetlb_folio(free_folio(w) + 7), DissolveResult::kRestoreFailed);
  w.machine.alloc_failure().disable();
  const PoolCounters c = w.pool->counters();
  EXPECT_EQ(c.max_huge_pages, 2u);
  EXPECT_EQ(c.nr_huge_pages, 2u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_EQ(c.free_huge_pages, 2u);
}

// A free surplus folio: one the shrink could not restore comes back as
// surplus (__update_and_free_hugetlb_folio(): "treat as surplus").
// Dissolved, it takes the surplus count with it.
TEST_P(DissolveSurplusTest, AFreeSurplusFolioTakesItsSurplusCountWithIt) {
  PoolWorld w(GetParam(), kHstate2M);
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  w.machine.alloc_failure().fail_every_from(1);
  (void)w.pool->set_max_huge_pages(0);
  PoolCounters c = w.pool->counters();
  ASSERT_EQ(c.nr_huge_pages, 1u);
  ASSERT_EQ(c.surplus_huge_pages, 1u);
  ASSERT_EQ(c.max_huge_pages, 0u);
  // Still failing: back as it left, max_huge_pages back where it was.
  EXPECT_EQ(w.pool->dissolve_free_hugetlb_folio(free_folio(w) + 7), DissolveResult::kRestoreFailed);
  w.machine.alloc_failure().disable();
  c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 1u);
  EXPECT_EQ(c.surplus_huge_pages, 1u);
  EXPECT_EQ(c.max_huge_pages, 0u);
  EXPECT_EQ(w.pool->dissolve_free_hugetlb_folio(free_folio(w) + 7), DissolveResult::kDissolved);
  c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 0u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  // "h->max_huge_pages--" of an unsigned long at 0: it wraps, as the
  // kernel's does.
  EXPECT_EQ(c.max_huge_pages, ~uint64_t{0});
}

INSTANTIATE_TEST_SUITE_P(Generations, DissolveSurplusTest,
                         ::testing::Values("v17", "v5.18", "v6.10", "v7.1"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '.') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace hvo
