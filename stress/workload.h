// Workloads: which actors a campaign runs, in which proportions. Each
// operation of each thread draws its actor from the workload's weights.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hvo::stress {

enum class ActorKind : uint8_t {
  kResizer,         // writes nr_hugepages: grows or shrinks the pool
  kOwner,           // takes a hugepage, references and writes it, gives it back
  kPfnWalker,       // /proc/kpageflags-style reads of arbitrary pfns
  kSpeculativeRef,  // get_page_unless_zero() + put_page() on arbitrary pfns
  kMemoryFailure,   // memory_failure(pfn)
  kDissolve,        // dissolve_free_hugetlb_folio(pfn)
  // Targeted actors (the race catalogue's scenarios; no general workload uses them):
  kGrow,            // writes nr_hugepages = nr + 1: one fresh hugepage, under resize_lock
  kMemoryFailureHuge,  // memory_failure(pfn) on a tail of any hugepage-backed block, in the pool or not
                       // (being made or being torn down)
  kSpeculativeRefHead,  // get_page_unless_zero() + put_page() on the head of any hugepage-backed block
  kHvoSysctl,       // writes vm.hugetlb_optimize_vmemmap (mostly 0) where the model has it (6.x)
  kBlockWalker,     // reads the struct pages of random pfns of one hugepage-backed block, many times
  kOrder0User,      // allocates a pageblock's worth of order-0 pages, uses them, frees them all
  kCompactionScan,  // compaction's migrate scanner: speculative references over pfns holding order-0 pages
  kDemote,          // demotes a 1 GiB hugepage into 2 MiB ones, uses one, gives them back (stress/demote_actor.h)
  kCompoundWalker,  // reads compound_head() of the pfns of one hugepage-backed block and checks whom they name
  kGrowOwner,       // grows the pool by one hugepage, takes one as an owner and holds it while growing the pool again
  kSpeculativeRefAlignedTail,  // get_page_unless_zero() + put_page() on the PAGE_SIZE-aligned tails of a
                               // hugepage-backed block, repeatedly
  kSurplusOwner,    // faults a hugepage (a surplus one when none is free) and keeps it mapped: put at its next
                    // operation or when the campaign ends (stress/held_folios.h)
};
inline constexpr int kNumActorKinds = 18;

[[nodiscard]] std::string_view to_string(ActorKind k);

using ActorWeights = std::array<unsigned, kNumActorKinds>;  // relative; 0 = never

struct Workload {
  std::string_view name;
  std::string_view description;
  ActorWeights weights;  // every actor the workload runs (what `list workloads` prints)
  // Roles, for a targeted reproducer: when not empty, CPU i draws its
  // operations from cpu_weights[i % size] instead of `weights` (one CPU
  // frees memory and grows the pool while another scans, say).
  std::vector<ActorWeights> cpu_weights = {};
  // Whether the campaign writes nr_overcommit_hugepages (the pool's ceiling)
  // before the CPUs start, so that an owner's fault with no free hugepage
  // makes a surplus one (alloc_surplus_hugetlb_folio()): the kernel's way to
  // run HVO beside a resize, which holds resize_lock, or beside another
  // fault. 0 (false): faults with nothing free get nothing.
  bool overcommit = false;
  // The nr_overcommit_hugepages written when `overcommit`; 0: the resizer's
  // ceiling (max_pool_pages()), which a few owners holding one surplus
  // hugepage each never reach. A small one makes faults race for the last
  // surplus hugepage the limit allows.
  uint64_t overcommit_limit = 0;
};

[[nodiscard]] const std::vector<Workload>& all_workloads();
[[nodiscard]] const Workload* find_workload(std::string_view name);
inline constexpr std::string_view kDefaultWorkload = "mixed";

}  // namespace hvo::stress
