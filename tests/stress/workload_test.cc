// Workloads and the targeted actors of the race catalogue's scenarios: each
// CPU of a workload with roles draws only its role's actors, and the actors
// do what the scenarios rely on (the order-0 user's pageblock is the next
// hugepage, the compaction scanner takes and drops a reference on every
// in-use page, the block walker reads a hugepage's struct pages through its
// CPU's TLB, the compound walker reports a tail that names another head,
// the grow-owner holds a hugepage across a second grow, the aligned-tail
// walker's references reach an optimized folio's fake heads, the compound
// walker reports a tail of a complete hugetlb folio that reads as a page of
// its own).
#include <gtest/gtest.h>

#include <set>

#include "engine/struct_page.h"
#include "stress/actors.h"
#include "stress/rng.h"
#include "stress/workload.h"
#include "tests/models/pool_fixture.h"

namespace hvo::stress {
namespace {

using hvo::testing::PoolWorld;

TEST(WorkloadTest, EveryRoleDrawsOnlyActorsItsWorkloadLists) {
  for (const Workload& w : all_workloads()) {
    unsigned total = 0;
    for (unsigned weight : w.weights) total += weight;
    EXPECT_GT(total, 0u) << w.name;
    for (const ActorWeights& role : w.cpu_weights) {
      unsigned role_total = 0;
      for (int i = 0; i < kNumActorKinds; ++i) {
        role_total += role[i];
        if (role[i] != 0) {
          EXPECT_NE(w.weights[i], 0u) << w.name << ": a role runs " << to_string(ActorKind(i));
        }
      }
      EXPECT_GT(role_total, 0u) << w.name;
    }
  }
}

std::set<ActorKind> picks_on_cpu(const Workload& w, unsigned cpu) {
  Task t{CpuId(cpu)};
  TaskScope scope(t);
  Rng rng(1, cpu);
  std::set<ActorKind> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(pick_actor(w, rng));
  return seen;
}

TEST(WorkloadTest, Order0ReuseGivesTheEvenCpusTheUserAndTheOddOnesTheScanner) {
  const Workload* w = find_workload("order0-reuse");
  ASSERT_NE(w, nullptr);
  const std::set<ActorKind> user = {ActorKind::kGrow, ActorKind::kOrder0User};
  const std::set<ActorKind> scanner = {ActorKind::kCompactionScan};
  EXPECT_EQ(picks_on_cpu(*w, 0), user);
  EXPECT_EQ(picks_on_cpu(*w, 1), scanner);
  EXPECT_EQ(picks_on_cpu(*w, 2), user);
}

TEST(WorkloadTest, RestoreWalkGivesTheEvenCpusTheResizerAndTheOddOnesTheCompoundWalker) {
  const Workload* w = find_workload("restore-walk");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(picks_on_cpu(*w, 0), std::set<ActorKind>{ActorKind::kResizer});
  EXPECT_EQ(picks_on_cpu(*w, 1), std::set<ActorKind>{ActorKind::kCompoundWalker});
  EXPECT_EQ(picks_on_cpu(*w, 2), std::set<ActorKind>{ActorKind::kResizer});
}

TEST(WorkloadTest, OwnerTailRefGivesTheEvenCpusTheGrowOwnerAndTheOddOnesTheAlignedTailWalker) {
  const Workload* w = find_workload("owner-tail-ref");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(picks_on_cpu(*w, 0), std::set<ActorKind>{ActorKind::kGrowOwner});
  EXPECT_EQ(picks_on_cpu(*w, 1), std::set<ActorKind>{ActorKind::kSpeculativeRefAlignedTail});
  EXPECT_EQ(picks_on_cpu(*w, 2), std::set<ActorKind>{ActorKind::kGrowOwner});
}

// Two writes to nr_hugepages cannot race (resize_lock): grow's second HVO
// comes from the odd CPUs' faults, which make surplus hugepages.
TEST(WorkloadTest, GrowGivesTheEvenCpusTheResizeAndTheOddOnesTheSurplusOwner) {
  const Workload* w = find_workload("grow");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->overcommit);
  EXPECT_EQ(picks_on_cpu(*w, 0), std::set<ActorKind>{ActorKind::kGrow});
  EXPECT_EQ(picks_on_cpu(*w, 1), std::set<ActorKind>{ActorKind::kSurplusOwner});
  EXPECT_EQ(picks_on_cpu(*w, 2), std::set<ActorKind>{ActorKind::kGrow});
}

TEST(WorkloadTest, WithoutRolesEveryCpuDrawsFromTheWholeWorkload) {
  const Workload* w = find_workload("walk-grow");
  ASSERT_NE(w, nullptr);
  const std::set<ActorKind> both = {ActorKind::kGrow, ActorKind::kOwner, ActorKind::kBlockWalker};
  EXPECT_EQ(picks_on_cpu(*w, 0), both);
  EXPECT_EQ(picks_on_cpu(*w, 1), both);
}

struct ActorsTest : ::testing::Test {
  PoolWorld w{"v6.10", kHstate2M};
  ActorWorld world{w.machine, *w.pool, *w.model, 4};
  Rng rng{7, 0};
  ActorCounters counters;
};

TEST_F(ActorsTest, AnOvercommittingWorkloadSetsNrOvercommitHugepagesToTheCeiling) {
  set_up_pool(*find_workload("resize"), world);
  EXPECT_EQ(w.pool->nr_overcommit_huge_pages(), 0u);
  set_up_pool(*find_workload("grow"), world);
  EXPECT_EQ(w.pool->nr_overcommit_huge_pages(), 4u);
}

// An owner on an empty, overcommitting pool: its fault makes and optimizes
// a surplus hugepage (alloc_surplus_hugetlb_folio()), its put restores and
// frees it (free_huge_folio()); no resize_lock either way.
TEST_F(ActorsTest, AnOwnerOnAnEmptyOvercommittingPoolFaultsASurplusHugepageAndItsPutFreesIt) {
  set_up_pool(*find_workload("grow"), world);
  run_actor(ActorKind::kOwner, world, rng, counters);
  EXPECT_EQ(counters.folios_owned, 1u);
  const VmemmapStats vs = w.pool->vmemmap_stats();
  EXPECT_EQ(vs.optimized, 1u);
  EXPECT_EQ(vs.restored, 1u);
  const PoolCounters c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 0u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_TRUE(w.checker->check_all_returned());
  EXPECT_FALSE(w.machine.violations().any());
}

// The surplus owner keeps its fault's hugepage past the operation: the HVO
// happens in the operation, the restore at its next one (the put of the
// folio it held) or when the campaign ends (release_held_folios()).
TEST_F(ActorsTest, ASurplusOwnerKeepsItsHugepageUntilItsNextFaultOrTheEnd) {
  set_up_pool(*find_workload("grow"), world);
  run_actor(ActorKind::kSurplusOwner, world, rng, counters);
  PoolCounters c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 1u);
  EXPECT_EQ(c.surplus_huge_pages, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().optimized, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 0u);
  // The next fault: the first folio put (restored, freed), a second made.
  run_actor(ActorKind::kSurplusOwner, world, rng, counters);
  c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 1u);
  EXPECT_EQ(c.surplus_huge_pages, 1u);
  EXPECT_EQ(w.pool->vmemmap_stats().optimized, 2u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 1u);
  release_held_folios(world);
  c = w.pool->counters();
  EXPECT_EQ(c.nr_huge_pages, 0u);
  EXPECT_EQ(c.surplus_huge_pages, 0u);
  EXPECT_EQ(w.pool->vmemmap_stats().restored, 2u);
  EXPECT_TRUE(w.checker->check_all_returned());
  EXPECT_FALSE(w.machine.violations().any());
}

TEST_F(ActorsTest, TheOrder0UsersPageblockIsTheNextHugepage) {
  // The block buddy hands out next (the lowest free one), given back at once.
  const Pfn lowest = *w.machine.page_alloc().alloc_pages(Gfp::kKernel, kHstate2M.order, FrameState::kBuddy);
  w.machine.page_alloc().free_pages(lowest, kHstate2M.order);
  const uint64_t free_before = w.machine.summary().free_frames;
  run_actor(ActorKind::kOrder0User, world, rng, counters);
  EXPECT_EQ(w.machine.summary().free_frames, free_before);  // every page back, merged
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  EXPECT_EQ(w.pool->folios().at(0).head, lowest);
  EXPECT_FALSE(w.machine.violations().any());
}

TEST_F(ActorsTest, TheCompactionScannerReferencesEveryInUsePageOfThePageblockAndDropsIt) {
  // A pageblock of order-0 pages in use (split_page()), as the order-0 user holds them.
  const Pfn block = *w.machine.page_alloc().alloc_pages(Gfp::kKernel, kHstate2M.order, FrameState::kBuddy);
  for (uint64_t i = 1; i < kHstate2M.nr_pages(); ++i) w.machine.pages().store32(block + i, PageWord32::kRefcount, 1);
  run_actor(ActorKind::kCompactionScan, world, rng, counters);
  EXPECT_EQ(counters.speculative_refs, kHstate2M.nr_pages());
  for (uint64_t i = 0; i < kHstate2M.nr_pages(); ++i) EXPECT_EQ(w.machine.pages().page_ref_count(block + i), 1) << i;
  EXPECT_FALSE(w.machine.violations().any());
}

TEST_F(ActorsTest, TheBlockWalkerReadsAHugepagesStructPagesThroughItsTlb) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Tlb& tlb = w.machine.mmu().tlb(CpuId(0));
  const uint64_t before = tlb.hits() + tlb.misses();
  run_actor(ActorKind::kBlockWalker, world, rng, counters);
  // 64 struct page reads, most of them TLB hits (8 vmemmap pages or fewer).
  EXPECT_GE(tlb.hits() + tlb.misses() - before, 64u);
  EXPECT_GE(tlb.hits(), 56u);
  EXPECT_FALSE(w.machine.violations().any());
}

TEST_F(ActorsTest, TheCompoundWalkerPassesAnOptimizedFolio) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  for (int i = 0; i < 20; ++i) run_actor(ActorKind::kCompoundWalker, world, rng, counters);
  EXPECT_FALSE(w.machine.violations().any());
}

// Every tail word of the folio's head vmemmap page (which its other vmemmap
// pages alias once optimized) made to name another block, as a reused
// frame's old contents would: the walker's first read reports it.
TEST_F(ActorsTest, TheCompoundWalkerReportsATailNamingAnotherHead) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = w.pool->folios().at(0).head;
  const Pfn other = head + kHstate2M.nr_pages();
  const Pfn frame = w.machine.page_tables().walk(pfn_to_page(head)).frame;
  for (uint64_t i = 1; i < kPageSize / kStructPageSize; ++i)
    w.machine.mem().store<uint64_t>(
        pfn_to_phys(frame) + i * kStructPageSize + static_cast<uint64_t>(PageWord::kCompoundHead),
        compound_head_value(other), std::memory_order_relaxed);
  run_actor(ActorKind::kCompoundWalker, world, rng, counters);
  ASSERT_EQ(w.machine.violations().count(ViolationKind::kInvariantBroken), 1u);
  EXPECT_NE(w.machine.violations().snapshot().at(0).message.find("a compound page that does not cover it"),
            std::string::npos)
      << w.machine.violations().snapshot().at(0).message;
}

// One operation from an empty pool: two folios made, one taken and given
// back, both free in the pool at the end.
TEST_F(ActorsTest, TheGrowOwnerGrowsTwiceAndGivesBackTheFolioItTook) {
  run_actor(ActorKind::kGrowOwner, world, rng, counters);
  EXPECT_EQ(counters.folios_owned, 1u);
  const PoolCounters pool = w.pool->counters();
  EXPECT_EQ(pool.nr_huge_pages, 2u);
  EXPECT_EQ(pool.free_huge_pages, 2u);
  for (const FolioSnapshot& f : w.pool->folios()) EXPECT_EQ(w.machine.pages().page_ref_count(f.head), 0) << f.head.value();
  EXPECT_TRUE(w.checker->check_quiescent()) << w.machine.violations().snapshot().size();
  EXPECT_FALSE(w.machine.violations().any());
}

// An optimized folio held by an owner: v6.10's page_ref_add_unless() turns
// the walker away from every fake head (no reference, no write, the head's
// count as the owner left it).
TEST_F(ActorsTest, TheAlignedTailWalkerGetsNoReferenceOnAHeldOptimizedFolioInV610) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const std::optional<Pfn> head = w.pool->alloc_hugetlb_folio();
  ASSERT_TRUE(head.has_value());
  run_actor(ActorKind::kSpeculativeRefAlignedTail, world, rng, counters);
  EXPECT_EQ(counters.speculative_refs, 0u);
  EXPECT_EQ(w.machine.pages().page_ref_count(*head), 1);
  EXPECT_FALSE(w.machine.violations().any());
}

// 5.18's get_page_unless_zero() has no fake-head check: the walker's
// references go to the aligned tails, whose _refcount is the held head's,
// and the cmpxchg writes the read-only alias (what bd225530a4c7 and fix 9
// later closed).
TEST(ActorsV5_18Test, TheAlignedTailWalkerWritesTheFakeHeadsOfAHeldFolio) {
  PoolWorld w("v5.18", kHstate2M);
  ActorWorld world{w.machine, *w.pool, *w.model, 4};
  Rng rng{7, 0};
  ActorCounters counters;
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  ASSERT_TRUE(w.pool->alloc_hugetlb_folio().has_value());
  run_actor(ActorKind::kSpeculativeRefAlignedTail, world, rng, counters);
  ASSERT_GE(w.machine.violations().count(ViolationKind::kRoTailWrite), 1u);
  const Violation v = w.machine.violations().snapshot().at(0);
  EXPECT_EQ(v.kind, ViolationKind::kRoTailWrite);
  EXPECT_EQ((*v.pfn - w.pool->folios().at(0).head) % (kPageSize / kStructPageSize), 0u) << v.pfn->value();
}

// 7.1: every tail of an order is the same struct page (the order's mask),
// so a stale restored page shows either identical tails or zeroes; the
// walker tells zeroes apart from a page of its own by the folio's phase.
struct V71CompoundWalkerTest : ::testing::Test {
  PoolWorld w{"v7.1", kHstate2M};
  ActorWorld world{w.machine, *w.pool, *w.model, 4};
  Rng rng{7, 0};
  ActorCounters counters;

  // Zeroes the compound_info word of every struct page in the vmemmap
  // frame `frame` but the first (a head, in the head's vmemmap page):
  // what a restored page reads before its copies reach memory.
  void zero_tail_words(Pfn frame, uint64_t from) {
    for (uint64_t i = from; i < kPageSize / kStructPageSize; ++i)
      w.machine.mem().store<uint64_t>(
          pfn_to_phys(frame) + i * kStructPageSize + static_cast<uint64_t>(PageWord::kCompoundHead), 0,
          std::memory_order_relaxed);
  }
  // Every tail of the one pool folio made to read as a page of its own:
  // its head's vmemmap page and the shared tail page the others map.
  Pfn zero_every_tail_of_the_pool_folio() {
    const Pfn head = w.pool->folios().at(0).head;
    zero_tail_words(w.machine.page_tables().walk(pfn_to_page(head)).frame, 1);
    zero_tail_words(*w.model->shared_tail_page(kHstate2M), 0);
    return head;
  }
};

TEST_F(V71CompoundWalkerTest, PassesAnOptimizedFolio) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  for (int i = 0; i < 20; ++i) run_actor(ActorKind::kCompoundWalker, world, rng, counters);
  EXPECT_FALSE(w.machine.violations().any());
}

TEST_F(V71CompoundWalkerTest, ReportsATailOfAPoolFolioReadingAsAPageOfItsOwn) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = zero_every_tail_of_the_pool_folio();
  ASSERT_TRUE(w.machine.pages().test_flag(head, PG_hugetlb));
  run_actor(ActorKind::kCompoundWalker, world, rng, counters);
  ASSERT_EQ(w.machine.violations().count(ViolationKind::kInvariantBroken), 1u);
  EXPECT_NE(w.machine.violations().snapshot().at(0).message.find("as a page of its own while the block is a hugetlb folio"),
            std::string::npos)
      << w.machine.violations().snapshot().at(0).message;
}

// The same tails once the folio is no longer hugetlb (PG_hugetlb cleared
// after the restore, as __update_and_free_hugetlb_folio() does before the
// frames go back to buddy): pages of their own, legitimately.
TEST_F(V71CompoundWalkerTest, PassesTheTailsOfAFolioNoLongerHugetlb) {
  ASSERT_EQ(w.pool->set_max_huge_pages(1), 1u);
  const Pfn head = zero_every_tail_of_the_pool_folio();
  w.machine.pages().clear_flag(head, PG_hugetlb);
  for (int i = 0; i < 20; ++i) run_actor(ActorKind::kCompoundWalker, world, rng, counters);
  EXPECT_FALSE(w.machine.violations().any());
}

// A block being made, never in the pool yet: PG_hugetlb may be seen before
// its tails' preparation, so its tails reading as pages of their own pass.
TEST_F(V71CompoundWalkerTest, PassesTheUnpreparedTailsOfAFolioNotYetInThePool) {
  const std::optional<Pfn> head = w.pool->alloc_fresh_folio_frames(Gfp::kKernel);
  ASSERT_TRUE(head.has_value());
  w.machine.pages().set_flag(*head, PG_hugetlb);
  for (uint64_t i = 1; i < kHstate2M.nr_pages(); ++i) w.machine.pages().store(*head + i, PageWord::kCompoundHead, 0);
  for (int i = 0; i < 20; ++i) run_actor(ActorKind::kCompoundWalker, world, rng, counters);
  EXPECT_FALSE(w.machine.violations().any());
}

}  // namespace
}  // namespace hvo::stress
