// The pool's resize (set_max_huge_pages()): a shrink hands the whole
// gathered list to update_and_free_pages_bulk() in one call, with
// hugetlb_lock dropped; a model that grows in batches gets one
// prep_and_add_allocated_folios() of every fresh folio, also without it.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/struct_page.h"
#include "engine/task.h"
#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

// No HVO; records what the pool's bulk entry points were handed and
// whether hugetlb_lock was held when they were (it must not be: they may
// sleep).
class RecordingOps final : public HugetlbVmemmapOps {
 public:
  explicit RecordingOps(bool batches) : batches_(batches) {}

  bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    ++single_preps;
    pool.pages().set_flag(head, PG_hugetlb);
    return pool.pages().add_return32(head, PageWord32::kRefcount, -1).value == 0;
  }
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    ++single_frees;
    pool.pages().clear_flag(head, PG_hugetlb);
    pool.pages().store32(head, PageWord32::kRefcount, 1);
    pool.free_folio_frames(head);
    return true;
  }
  void update_and_free_pages_bulk(HugetlbPool& pool, std::vector<Pfn>& folio_list) override {
    bulk_frees.push_back(folio_list.size());
    pool.hugetlb_lock().AssertNotHeld();
    HugetlbVmemmapOps::update_and_free_pages_bulk(pool, folio_list);
  }
  [[nodiscard]] bool pool_allocates_in_batches() const override { return batches_; }
  void prep_and_add_allocated_folios(HugetlbPool& pool, const std::vector<Pfn>& folio_list) override {
    bulk_preps.push_back(folio_list.size());
    pool.hugetlb_lock().AssertNotHeld();
    for (Pfn head : folio_list) {
      pool.pages().set_flag(head, PG_hugetlb);
      pool.pages().store32(head, PageWord32::kRefcount, 0);
    }
    pool.add_allocated_folios(folio_list);
  }

  std::vector<size_t> bulk_frees, bulk_preps;
  unsigned single_preps = 0, single_frees = 0;

 private:
  const bool batches_;
};

std::string first_violation(Machine& m) {
  const std::vector<Violation> v = m.violations().snapshot();
  return v.empty() ? "" : v.front().to_string();
}

TEST(HugetlbPoolResize, AShrinkHandsEveryGatheredFolioToUpdateAndFreePagesBulkInOneCall) {
  Machine machine(testing::small_config());
  Task task(CpuId(0));
  TaskScope scope(task);
  RecordingOps ops(/*batches=*/false);
  HugetlbPool pool(machine, kHstate2M, ops);
  ASSERT_EQ(pool.set_max_huge_pages(6), 6u);
  EXPECT_EQ(ops.single_preps, 6u);  // grown one folio at a time
  EXPECT_TRUE(ops.bulk_preps.empty());

  EXPECT_EQ(pool.set_max_huge_pages(2), 2u);
  EXPECT_EQ(pool.set_max_huge_pages(0), 0u);
  // Two shrinks, two lists: 4 folios, then 2; each freed by the default
  // per-folio loop (the kernels before 6.7).
  EXPECT_EQ(ops.bulk_frees, (std::vector<size_t>{4, 2}));
  EXPECT_EQ(ops.single_frees, 6u);
  EXPECT_TRUE(pool.check_counters());
  EXPECT_FALSE(machine.violations().any()) << first_violation(machine);
}

TEST(HugetlbPoolResize, AModelThatAllocatesInBatchesGetsOnePrepAndAddOfEveryFreshFolio) {
  Machine machine(testing::small_config());
  Task task(CpuId(0));
  TaskScope scope(task);
  RecordingOps ops(/*batches=*/true);
  HugetlbPool pool(machine, kHstate2M, ops);
  ASSERT_EQ(pool.set_max_huge_pages(5), 5u);
  EXPECT_EQ(ops.bulk_preps, (std::vector<size_t>{5}));
  EXPECT_EQ(ops.single_preps, 0u);
  EXPECT_EQ(pool.counters().free_huge_pages, 5u);
  // An allocation failure mid-grow: what was allocated still joins the pool.
  machine.alloc_failure().fail_nth(3);
  EXPECT_EQ(pool.set_max_huge_pages(9), 7u);
  EXPECT_EQ(ops.bulk_preps, (std::vector<size_t>{5, 2}));
  EXPECT_EQ(pool.set_max_huge_pages(0), 0u);
  EXPECT_TRUE(pool.check_counters());
  EXPECT_FALSE(machine.violations().any()) << first_violation(machine);
}

}  // namespace
}  // namespace hvo
