// The actors of a campaign: one operation each, run by a simulated CPU
// (a thread in free mode). Every choice comes from the caller's Rng.
//
//   resizer          set_max_huge_pages(nr ± a few): optimize and restore run all the time
//   owner            alloc_hugetlb_folio (a free hugepage, or, with none free and the
//                    workload overcommitting, alloc_surplus_hugetlb_folio: a fresh one
//                    made and optimized without resize_lock), get_page, the writes an
//                    owner makes (head flags, compound mapcount, metadata in the first
//                    tails), put_page x2 (a surplus one is restored and freed)
//   pfn-walker       stable_page_flags() of a pfn (/proc/kpageflags) and the
//                    hugepage-vmemmap selftest's check on it
//   speculative-ref  get_page_unless_zero() + put_page() on an arbitrary pfn
//   memory-failure   memory_failure(pfn)
//   dissolve         dissolve_free_hugetlb_folio(pfn)
// and the targeted ones of the race catalogue's scenarios (actors.cc says
// which window each aims at): grow, memory-failure-huge,
// speculative-ref-head, hvo-sysctl, block-walker (reads of one hugepage's
// struct pages through the TLB), order0-user (a pageblock of order-0 pages
// allocated and freed), compaction-scan (speculative references over
// such pages) and compound-walker (compound_head() of the pfns of one
// hugepage-backed block, checked against the block: restores under it),
// grow-owner (grows the pool and holds a hugepage it takes while growing it
// again), speculative-ref-aligned-tail (get_page_unless_zero() on the
// fake heads of a hugepage-backed block) and surplus-owner (faults a
// hugepage, a surplus one when none is free, and keeps it mapped until its
// next operation or the end of the campaign: the fault's HVO without the
// restore that the owner's put would run at once).
#pragma once

#include <array>
#include <cstdint>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "models/model.h"
#include "stress/held_folios.h"
#include "stress/rng.h"
#include "stress/workload.h"

namespace hvo::stress {

struct ActorWorld {
  Machine& machine;
  HugetlbPool& pool;
  Model& model;
  uint64_t max_pool_pages;  // the resizer keeps nr_hugepages within [0, this]
  HeldFolios held{};        // what surplus owners keep mapped across operations
};

struct ActorCounters {
  std::array<uint64_t, kNumActorKinds> ops{};
  uint64_t folios_owned = 0;       // owner operations that got a hugepage
  uint64_t speculative_refs = 0;   // get_page_unless_zero() that succeeded
  uint64_t kpageflags_checked = 0; // walker reads of a stable pool folio, checked

  ActorCounters& operator+=(const ActorCounters& o);
};

// What the campaign writes to the pool's sysctls before its CPUs start:
// nr_overcommit_hugepages = max_pool_pages when the workload overcommits.
void set_up_pool(const Workload& w, ActorWorld& world);

// The end of the campaign, once its CPUs stopped: the owners' processes exit
// and put every hugepage still held (free_huge_folio(): a surplus one is
// restored and freed).
void release_held_folios(ActorWorld& world);

// Runs one operation of `kind` on the current task's CPU.
void run_actor(ActorKind kind, ActorWorld& world, Rng& rng, ActorCounters& counters);

// Draws an actor from the workload's weights (the current CPU's, when the
// workload gives each CPU a role).
[[nodiscard]] ActorKind pick_actor(const Workload& w, Rng& rng);

}  // namespace hvo::stress
