// The pool's demote machinery without any HVO generation: demote_store()'s
// batches off the free list, the compound page destroyed and rebuilt in
// place as the kernel writes it, the per-folio demote_free_hugetlb_folio()
// loop of HugetlbDemoteOps, and the put-back of sources that could not be
// restored. The vmemmap steps are a fake that keeps every folio's vmemmap
// whole (as with vm.hugetlb_optimize_vmemmap off) and can refuse a restore.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "engine/hugetlb/compound_page.h"
#include "engine/hugetlb/hugetlb_demote.h"
#include "engine/hugetlb/hugetlb_demote_ops.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/struct_page.h"
#include "tests/engine/no_hvo_ops.h"
#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::NoHvoOps;

struct DemoteWorld {
  DemoteWorld() : machine(config()), task(CpuId(0)), scope(task), pool(machine, kHstate1G, ops) {}
  static MachineConfig config() {
    MachineConfig c = testing::small_config();
    c.memory_bytes = uint64_t{4} << 30;  // three naturally aligned free GiBs
    return c;
  }
  std::vector<Pfn> free_heads() {
    std::vector<Pfn> heads;
    for (const FolioSnapshot& f : pool.folios())
      if (f.state == FolioState::kFree) heads.push_back(f.head);
    return heads;
  }
  Machine machine;
  Task task;
  TaskScope scope;
  NoHvoOps ops;
  HugetlbPool pool;
};

constexpr uint64_t k2MPages = 512;

// What prep_compound_page() of order 9 and set_page_private(page, 0) leave,
// with the fake's hugetlb mark and frozen refcounts.
void expect_2m_folio(StructPageAccess& pages, Pfn head) {
  EXPECT_TRUE(pages.test_flag(head, PG_head)) << head.value();
  EXPECT_TRUE(pages.test_flag(head, PG_hugetlb)) << head.value();
  EXPECT_EQ(pages.load(head, PageWord::kPrivate), 0u);
  EXPECT_EQ(pages.page_ref_count(head), 0);
  EXPECT_EQ(compound_order_of(pages.load(head + 1, PageWord::kCompoundInfo)).value(), 9);
  EXPECT_EQ(pages.load32(head + 1, PageWord32::kMapcount), -1);
  for (uint64_t i = 1; i < k2MPages; ++i) {
    ASSERT_EQ(pages.load(head + i, PageWord::kCompoundHead), compound_head_value(head)) << i;
    ASSERT_EQ(pages.page_ref_count(head + i), 0) << i;
    ASSERT_FALSE(pages.test_flag(head + i, PG_head)) << i;
  }
}

TEST(HugetlbPoolDemote, OneGiganticBecomes512FoliosOfTheTargetInPlaceAndTheCountersFollow) {
  DemoteWorld w;
  ASSERT_EQ(w.pool.set_max_huge_pages(2), 2u);
  HugetlbPool* dst = w.pool.demote_pool();
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(&dst->hugetlb_lock(), &w.pool.hugetlb_lock()) << "every hstate shares hugetlb_lock";
  const Pfn last_freed = w.free_heads().back();
  const DemoteOutcome out = w.pool.demote(1);
  EXPECT_EQ(out.demoted, 1u);
  EXPECT_EQ(out.status, DemoteStatus::kOk);
  EXPECT_EQ(w.ops.restores, 1u);
  EXPECT_EQ(w.ops.preps, k2MPages);
  EXPECT_EQ(w.pool.counters().nr_huge_pages, 1u);
  EXPECT_EQ(w.pool.counters().free_huge_pages, 1u);
  EXPECT_EQ(w.pool.vmemmap_stats().demoted, 1u);
  EXPECT_EQ(dst->counters().nr_huge_pages, k2MPages);
  EXPECT_EQ(dst->counters().free_huge_pages, k2MPages);
  EXPECT_TRUE(w.pool.check_counters());
  EXPECT_TRUE(dst->check_counters());
  std::vector<Pfn> heads;
  for (const FolioSnapshot& f : dst->folios()) heads.push_back(f.head);
  ASSERT_EQ(heads.size(), k2MPages);
  // The first source is the one the free list gives first (LIFO).
  for (uint64_t i = 0; i < k2MPages; ++i) ASSERT_EQ(heads[i], last_freed + i * k2MPages) << i;
  for (Pfn h : heads) expect_2m_folio(w.machine.pages(), h);
  // Each 2 MiB folio goes back to buddy whole, its checks clean.
  EXPECT_EQ(dst->set_max_huge_pages(0), 0u);
  EXPECT_EQ(w.pool.set_max_huge_pages(0), 0u);
  EXPECT_FALSE(w.machine.violations().any()) << w.machine.violations().snapshot().front().to_string();
}

TEST(HugetlbPoolDemote, PerFolioLoopStopsAtTheFirstRestoreFailureAndThePoolPutsTheRestBack) {
  DemoteWorld w;
  ASSERT_EQ(w.pool.set_max_huge_pages(3), 3u);
  // Grown in address order, so the free list (LIFO) gives the highest first:
  // demote_pool_huge_page() takes [high, mid, low]. The middle one refuses:
  // the high one is demoted, the middle and low ones go back (demote_store()
  // stops at the error).
  const std::vector<Pfn> by_address = w.free_heads();
  ASSERT_EQ(by_address.size(), 3u);
  const Pfn low = by_address[0], mid = by_address[1], high = by_address[2];
  w.ops.refuse.insert(mid);
  const DemoteOutcome out = w.pool.demote(3);
  EXPECT_EQ(out.status, DemoteStatus::kNoMemory);
  EXPECT_EQ(out.demoted, 1u);
  EXPECT_EQ(w.ops.restores, 2u);
  EXPECT_EQ(w.pool.vmemmap_stats().restore_failures, 1u);
  const PoolCounters c = w.pool.counters();
  EXPECT_EQ(c.nr_huge_pages, 2u);
  EXPECT_EQ(c.free_huge_pages, 2u);
  EXPECT_EQ(c.surplus_huge_pages, 0u) << "demote puts sources back as persistent pages";
  EXPECT_TRUE(w.pool.check_counters());
  EXPECT_FALSE(w.pool.folio_of(high));
  ASSERT_TRUE(w.pool.folio_of(mid));
  ASSERT_TRUE(w.pool.folio_of(low));
  EXPECT_EQ(w.pool.folio_of(mid)->state, FolioState::kFree);
  EXPECT_EQ(w.pool.folio_of(low)->state, FolioState::kFree);
  EXPECT_EQ(w.pool.demote_pool()->counters().nr_huge_pages, k2MPages);
  EXPECT_EQ(w.pool.demote_pool()->folios().front().head, high);
  (void)w.pool.demote_pool()->set_max_huge_pages(0);
  (void)w.pool.set_max_huge_pages(0);
  EXPECT_FALSE(w.machine.violations().any()) << w.machine.violations().snapshot().front().to_string();
}

TEST(HugetlbPoolDemote, DestroyForDemoteClearsEveryTailAndTheHeadButSetsNoRefcount) {
  DemoteWorld w;
  ASSERT_EQ(w.pool.set_max_huge_pages(1), 1u);
  const Pfn head = w.free_heads().front();
  StructPageAccess& pages = w.machine.pages();
  destroy_compound_hugetlb_folio_for_demote(pages, head, kHstate1G.order);
  EXPECT_FALSE(pages.test_flag(head, PG_head));
  EXPECT_EQ(pages.load32(head + 1, PageWord32::kMapcount), 0);
  for (uint64_t i = 1; i < kHstate1G.nr_pages(); i += 4097) {
    EXPECT_EQ(pages.load(head + i, PageWord::kCompoundHead), 0u) << i;
    EXPECT_EQ(pages.load(head + i, PageWord::kMapping), 0u) << i;
    EXPECT_EQ(pages.page_ref_count(head + i), 0) << i;
  }
  // Rebuilt so that the pool can give it back.
  prep_compound_page(pages, head, kHstate1G.order);
  EXPECT_EQ(w.pool.set_max_huge_pages(0), 0u);
}

TEST(HugetlbPoolDemote, APoolWithoutATargetOrAModelWithoutDemoteRefuses) {
  Machine m(testing::small_config());
  Task task{CpuId(0)};
  TaskScope scope(task);
  NoHvoOps ops;
  HugetlbPool pool(m, kHstate2M, ops);
  EXPECT_EQ(pool.demote_pool(), nullptr);
  ASSERT_EQ(pool.set_max_huge_pages(1), 1u);
  EXPECT_EQ(pool.demote(1).status, DemoteStatus::kNotSupported);
  EXPECT_EQ(pool.counters().free_huge_pages, 1u);
  EXPECT_EQ(pool.set_max_huge_pages(0), 0u);
}

}  // namespace
}  // namespace hvo
