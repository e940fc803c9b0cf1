// One test body run over every registered model: what every HVO generation
// must do the same, whatever its mechanism. Grow, check, use, dissolve, a
// failed restore, shrink, and all of it with no violation, for both hugepage
// sizes and both PTE access policies.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "engine/struct_page.h"
#include "tests/models/pool_fixture.h"

namespace hvo {
namespace {

using testing::PoolWorld;

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ModelInfo* m : all_models()) names.emplace_back(m->name);
  return names;
}

class ModelConformanceTest : public ::testing::TestWithParam<std::tuple<std::string, Hstate, PteAccess>> {
 protected:
  ModelConformanceTest() : w_(std::get<0>(GetParam()), std::get<1>(GetParam()), std::get<2>(GetParam())) {}

  const Hstate& h() const { return w_.pool->hstate(); }
  std::string_view model() const { return w_.model->info().name; }
  uint64_t count() const { return h().gigantic() ? 2 : 16; }
  uint64_t savings_per_folio() const { return kernel_savings_per_folio(model(), h()); }
  std::string first_violation() {
    const std::vector<Violation> v = w_.machine.violations().snapshot();
    return v.empty() ? "" : v.front().to_string();
  }
  Pfn first_free_folio() const {
    for (const FolioSnapshot& f : w_.pool->folios())
      if (f.state == FolioState::kFree) return f.head;
    ADD_FAILURE() << "no free folio";
    return Pfn(0);
  }

  // What /proc/kpageflags must say of an optimized folio (the 5.18
  // selftest hugepage-vmemmap): the head is a compound head and huge, every
  // other page a tail of it and huge, never a head. Every page aliasing a
  // vmemmap page boundary is checked, and the first and last few.
  void expect_kpageflags(Pfn head) {
    Model& m = *w_.model;
    EXPECT_TRUE(m.page_head(head)) << "head " << head.value();
    EXPECT_TRUE(m.page_huge(head));
    EXPECT_EQ(m.compound_head(head), head);
    for (uint64_t i = 1; i < h().nr_pages(); ++i) {
      if (i % kStructPagesPerPage > 2 && i > 3 && i + 3 < h().nr_pages()) continue;
      const Pfn tail = head + i;
      ASSERT_EQ(m.compound_head(tail), head) << "tail " << i;
      ASSERT_FALSE(m.page_head(tail)) << "tail " << i;
      ASSERT_TRUE(m.page_huge(tail)) << "tail " << i;
    }
  }

  PoolWorld w_;
};

TEST_P(ModelConformanceTest, GrowUseDissolveFailARestoreAndShrink) {
  // Grow: every folio optimized, as much saved as the kernel says.
  ASSERT_EQ(w_.pool->set_max_huge_pages(count()), count()) << first_violation();
  EXPECT_TRUE(w_.checker->check_quiescent()) << first_violation();
  EXPECT_EQ(w_.model->vmemmap_pages_freed_per_folio(h()), savings_per_folio());
  const VmemmapStats grown = w_.pool->vmemmap_stats();
  EXPECT_EQ(grown.optimized, count());
  EXPECT_EQ(grown.pages_freed, count() * savings_per_folio());
  EXPECT_EQ(grown.pages_saved_now, count() * savings_per_folio());
  for (const FolioSnapshot& f : w_.pool->folios()) {
    EXPECT_TRUE(w_.model->vmemmap_optimized(f.head));
    expect_kpageflags(f.head);
  }

  // An owner takes a folio, uses it within the rules, and gives it back.
  const std::optional<Pfn> owned = w_.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(owned.has_value());
  StructPageAccess& pages = w_.machine.pages();
  EXPECT_EQ(pages.page_ref_count(*owned), 1);
  EXPECT_EQ(w_.pool->counters().free_huge_pages, count() - 1);
  pages.add_return32(*owned, PageWord32::kRefcount, 1);          // get_page() on the head
  EXPECT_TRUE(pages.store(*owned + 1, PageWord::kPrivate, 0));   // hugetlb_set_page_subpool()
  EXPECT_TRUE(pages.store(*owned + 2, PageWord::kPrivate, 0));   // set_hugetlb_cgroup()
  EXPECT_TRUE(w_.checker->check_quiescent()) << first_violation();
  w_.model->put_page(*w_.pool, *owned + 5);  // put_page() through a tail finds the head
  EXPECT_EQ(pages.page_ref_count(*owned), 1);
  w_.model->put_page(*w_.pool, *owned);      // the last reference: back into the pool
  EXPECT_EQ(w_.pool->counters().free_huge_pages, count());

  // A free folio is dissolved (memory_failure, offlining); its vmemmap is
  // restored and everything goes back to buddy.
  const Pfn victim = first_free_folio();
  EXPECT_EQ(w_.pool->dissolve_free_hugetlb_folio(victim + 7), DissolveResult::kDissolved);
  EXPECT_EQ(w_.pool->counters().nr_huge_pages, count() - 1);
  EXPECT_EQ(w_.machine.mem().state(victim), FrameState::kFree);
  EXPECT_TRUE(w_.checker->check_quiescent()) << first_violation();

  // Every vmemmap page allocation of the shrink fails: each folio stays
  // whole (still optimized) and comes back as a surplus page, from
  // update_and_free_hugetlb_folio() or, where the restore is batched (6.7+),
  // from update_and_free_pages_bulk()'s bulk_vmemmap_restore_error() trying
  // folio by folio after the batch failed.
  const uint64_t left = w_.pool->counters().nr_huge_pages;
  ASSERT_GE(left, 1u);
  w_.machine.alloc_failure().fail_every_from(1);
  EXPECT_EQ(w_.pool->set_max_huge_pages(0), left);
  w_.machine.alloc_failure().disable();
  const PoolCounters c = w_.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, left);
  EXPECT_EQ(c.surplus_huge_pages, left);
  EXPECT_EQ(c.free_huge_pages, left);
  EXPECT_EQ(w_.pool->vmemmap_stats().restore_failures, left);
  ASSERT_EQ(w_.pool->folios().size(), left);
  for (const FolioSnapshot& f : w_.pool->folios()) EXPECT_TRUE(w_.model->vmemmap_optimized(f.head));
  EXPECT_EQ(w_.pool->vmemmap_stats().pages_saved_now, left * savings_per_folio());
  EXPECT_TRUE(w_.checker->check_quiescent()) << first_violation();

  // With memory to be had again, the rest goes, and the machine is as booted.
  EXPECT_EQ(w_.pool->set_max_huge_pages(0), 0u);
  EXPECT_EQ(w_.pool->vmemmap_stats().pages_saved_now, 0u);
  EXPECT_TRUE(w_.checker->check_all_returned()) << first_violation();
  EXPECT_FALSE(w_.machine.violations().any()) << first_violation();
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelConformanceTest,
                         ::testing::Combine(::testing::ValuesIn(model_names()),
                                            ::testing::Values(kHstate2M, kHstate1G),
                                            ::testing::Values(PteAccess::kOnce, PteAccess::kPlain)),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param);
                           for (char& ch : name)
                             if (ch == '.') ch = '_';
                           return name + "_" + std::string(std::get<1>(info.param).size_name) + "_" +
                                  std::string(to_string(std::get<2>(info.param)));
                         });

}  // namespace
}  // namespace hvo
