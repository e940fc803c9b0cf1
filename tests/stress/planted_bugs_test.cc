// Issue 19's bug classes, planted in the fixed models behind test-only
// knobs (Model::plant_for_test(), HugetlbPool::plant_for_test()): each must
// be found by a controlled campaign with allocation failure as a choice
// within a short, bounded budget, by the invariant that names its class.
// The same campaigns without the plant are clean (the fixed models pass).
#include "tests/stress/planted_bugs.h"

namespace hvo::stress::planted {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Issue19, PlantedBug,
    ::testing::Values(
        // memory_failure() lifts the poison it set when the dissolve fails.
        Plant{"poison-dropped-on-failed-dissolve", "v6.10", "hwpoison", 2, 4, 2, 0, false, 3, 400,
              Invariant::kHwpoisonConservation},
        Plant{"poison-dropped-on-failed-dissolve", "v5.18", "hwpoison", 2, 4, 2, 0, false, 3, 400,
              Invariant::kHwpoisonConservation},
        Plant{"poison-dropped-on-failed-dissolve", "v17", "hwpoison", 2, 4, 2, 0, false, 3, 400,
              Invariant::kHwpoisonConservation},
        // The fake-head static key decremented before a restore that then fails.
        Plant{"key-dec-before-failed-restore", "v5.18", "restore-walk", 2, 4, 2, 0, false, 2, 400,
              Invariant::kStaticKeyBalance},
        // rollback-one-pte-short (1 GiB pages, half a minute or more):
        // tests/stress/slow/planted_bugs_gigantic_test.cc.
        // The optimized mark set after the remap, before the batch's
        // deferred flush: the store goes through this CPU's stale
        // translation to the old head page and is freed with it.
        Plant{"flag-set-before-deferred-flush", "v6.10", "resize", 2, 2, 2, 0, false, 0, 20,
              Invariant::kStructPageContents},
        Plant{"flag-set-before-deferred-flush", "v7.1", "resize", 2, 2, 2, 0, false, 0, 20,
              Invariant::kNoRoWrite},
        // vmemmap_remap_range() omits its flush (the one-folio paths: a
        // surplus folio's optimization, a restore).
        Plant{"remap-without-flush", "v6.10", "walk-grow", 2, 2, 0, 64, false, 0, 60, Invariant::kTlbCoherence},
        Plant{"remap-without-flush", "v7.1", "walk-grow", 2, 2, 0, 64, false, 0, 60, Invariant::kTlbCoherence},
        // The walk ends one page early: the last tail vmemmap page keeps its
        // own page, writable: the shrink that takes the folio off the free
        // list sees a half-remapped vmemmap (or the quiescent shape check).
        Plant{"range-one-page-short", "v6.10", "resize", 2, 2, 2, 0, false, 0, 20, Invariant::kVmemmapShape},
        Plant{"range-one-page-short", "v7.1", "resize", 2, 2, 2, 0, false, 0, 20, Invariant::kVmemmapShape},
        Plant{"range-one-page-short", "v5.18", "resize", 2, 2, 2, 0, false, 0, 20, Invariant::kVmemmapShape},
        Plant{"range-one-page-short", "v6.10", "grow", 2, 1, 0, 64, false, 0, 20, Invariant::kVmemmapShape},
        // flush_tlb_kernel_range(start, end - PAGE_SIZE): a TLB keeps the
        // last tail's old translation (v17: of the freed page; v5.18: the
        // read-only one a restore replaced).
        Plant{"flush-range-missing-last-page", "v17", "walk-grow", 2, 2, 0, 64, false, 0, 60,
              Invariant::kNoFreedAccess},
        Plant{"flush-range-missing-last-page", "v5.18", "walk-grow", 2, 2, 0, 64, false, 0, 60,
              Invariant::kNoRoWrite},
        // The loser of the race to install the zone's shared tail page
        // keeps the page it allocated: a vmemmap frame nobody maps or owns.
        Plant{"shared-tail-leaked-by-cmpxchg-loser", "v7.1", "grow", 2, 1, 0, 64, false, 0, 200,
              Invariant::kFrameConservation},
        // Two faults race past alloc_surplus_hugetlb_folio()'s first check
        // and the re-check under hugetlb_lock is gone: one surplus
        // hugepage past nr_overcommit_hugepages = 1.
        Plant{"surplus-past-overcommit", "v6.10", "overcommit", 2, 1, 0, 64, false, 0, 100,
              Invariant::kOvercommitLimit},
        Plant{"surplus-past-overcommit", "v17", "overcommit", 2, 1, 0, 64, false, 0, 100,
              Invariant::kOvercommitLimit},
        // New folios enqueued before their batched HVO: an owner takes
        // one off the free list while its vmemmap is being remapped. PCT
        // puts the grower's walk and the owner's dequeue on either side of
        // a priority change; the random strategy rarely does.
        Plant{"enqueue-before-batched-hvo", "v6.10", "grow", 4, 4, 2, 0, false, 2, 300, Invariant::kVmemmapShape,
              true},
        Plant{"enqueue-before-batched-hvo", "v7.1", "grow", 4, 4, 2, 0, false, 2, 300, Invariant::kVmemmapShape,
              true}),
    plant_name);

}  // namespace
}  // namespace hvo::stress::planted
