// The pool's own checks: a put of the last reference of a folio the pool
// holds as free is a finding (the kernel would enqueue it twice), never an
// internal error of the tool.
#include "engine/hugetlb/hugetlb_pool.h"

#include <gtest/gtest.h>

#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page.h"
#include "tests/engine/no_hvo_ops.h"
#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::NoHvoOps;

TEST(HugetlbPool, FreeHugeFolioOfAFreeFolioIsABadPageStateFindingAndLeavesThePoolAlone) {
  Machine machine(testing::small_config());
  Task task(CpuId(0));
  TaskScope scope(task);
  NoHvoOps ops;
  HugetlbPool pool(machine, kHstate2M, ops);
  ASSERT_EQ(pool.set_max_huge_pages(1), 1u);
  const Pfn head = pool.folios().front().head;
  ASSERT_EQ(pool.folios().front().state, FolioState::kFree);

  pool.free_huge_folio(head);  // as a lost speculative reference's put_page() would

  const auto found = machine.violations().snapshot();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, ViolationKind::kBadPageState);
  EXPECT_NE(found[0].message.find("holds as free"), std::string::npos) << found[0].message;
  EXPECT_EQ(pool.counters().free_huge_pages, 1u);  // not enqueued twice
  EXPECT_TRUE(pool.check_counters());
  EXPECT_EQ(pool.set_max_huge_pages(0), 0u);
}

}  // namespace
}  // namespace hvo
