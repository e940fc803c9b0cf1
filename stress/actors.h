// The actors of a campaign: one operation each, run by a simulated CPU
// (a thread in free mode). Every choice comes from the caller's Rng.
//
//   resizer          set_max_huge_pages(nr ± a few): optimize and restore run all the time
//   owner            alloc_hugetlb_folio, get_page, the writes an owner makes (head
//                    flags, compound mapcount, metadata in the first tails), put_page x2
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
// again) and speculative-ref-aligned-tail (get_page_unless_zero() on the
// fake heads of a hugepage-backed block).
#pragma once

#include <array>
#include <cstdint>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "models/model.h"
#include "stress/rng.h"
#include "stress/workload.h"

namespace hvo::stress {

struct ActorWorld {
  Machine& machine;
  HugetlbPool& pool;
  Model& model;
  uint64_t max_pool_pages;  // the resizer keeps nr_hugepages within [0, this]
};

struct ActorCounters {
  std::array<uint64_t, kNumActorKinds> ops{};
  uint64_t folios_owned = 0;       // owner operations that got a hugepage
  uint64_t speculative_refs = 0;   // get_page_unless_zero() that succeeded
  uint64_t kpageflags_checked = 0; // walker reads of a stable pool folio, checked

  ActorCounters& operator+=(const ActorCounters& o);
};

// Runs one operation of `kind` on the current task's CPU.
void run_actor(ActorKind kind, ActorWorld& world, Rng& rng, ActorCounters& counters);

// Draws an actor from the workload's weights (the current CPU's, when the
// workload gives each CPU a role).
[[nodiscard]] ActorKind pick_actor(const Workload& w, Rng& rng);

}  // namespace hvo::stress
