#include "stress/workload.h"

namespace hvo::stress {

std::string_view to_string(ActorKind k) {
  switch (k) {
    case ActorKind::kResizer: return "resizer";
    case ActorKind::kOwner: return "owner";
    case ActorKind::kPfnWalker: return "pfn-walker";
    case ActorKind::kSpeculativeRef: return "speculative-ref";
    case ActorKind::kMemoryFailure: return "memory-failure";
    case ActorKind::kDissolve: return "dissolve";
    case ActorKind::kGrow: return "grow";
    case ActorKind::kMemoryFailureHuge: return "memory-failure-huge";
    case ActorKind::kSpeculativeRefHead: return "speculative-ref-head";
    case ActorKind::kHvoSysctl: return "hvo-sysctl";
    case ActorKind::kBlockWalker: return "block-walker";
    case ActorKind::kOrder0User: return "order0-user";
    case ActorKind::kCompactionScan: return "compaction-scan";
    case ActorKind::kDemote: return "demote";
    case ActorKind::kCompoundWalker: return "compound-walker";
    case ActorKind::kGrowOwner: return "grow-owner";
    case ActorKind::kSpeculativeRefAlignedTail: return "speculative-ref-aligned-tail";
    case ActorKind::kSurplusOwner: return "surplus-owner";
  }
  return "?";
}

const std::vector<Workload>& all_workloads() {
  // The weights, by ActorKind in declaration order:
  //   resizer owner walker spec mf dissolve | grow mf-huge spec-head sysctl block-walker order0 compaction demote
  //   compound-walker grow-owner spec-aligned-tail surplus-owner
  // (trailing zeros may be left out)
  static const std::vector<Workload> workloads = {
      {"mixed",
       "every actor: pool resizing, owners (faulting surplus hugepages when none is free), PFN walkers, speculative "
       "references, memory_failure, dissolve",
       {20, 20, 25, 20, 10, 5, 0, 0, 0, 0, 0, 0, 0},
       {},
       true},
      {"resize", "pool growth and shrink against PFN walkers: optimize and restore all the time",
       {50, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
      {"hwpoison",
       "memory_failure and dissolve against pool resizing and owners (faulting surplus hugepages when none is free)",
       {30, 20, 0, 0, 40, 10, 0, 0, 0, 0, 0, 0, 0},
       {},
       true},
      {"speculative",
       "speculative references (compaction, PFN walkers) against pool resizing and owners (faulting surplus "
       "hugepages when none is free)",
       {35, 15, 15, 35, 0, 0, 0, 0, 0, 0, 0, 0, 0},
       {},
       true},
      // Targeted (the race catalogue's): few actors, aimed at one window.
      {"grow",
       "CPU 0 (and every other even CPU) writes nr_hugepages = nr + 1 (set_max_huge_pages(), under resize_lock); "
       "the odd CPUs fault hugepages and keep them mapped, with nr_overcommit_hugepages set, so with none free "
       "alloc_surplus_hugetlb_folio() makes and optimizes one without resize_lock (put, free_huge_folio() "
       "restoring and freeing it, at the CPU's next fault or when the campaign ends): concurrent first HVOs "
       "(and PMD splits)",
       {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
       {{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
       true},
      {"hwpoison-window",
       "memory_failure on tails of hugepages being made, optimized or torn down, against pool resizing "
       "(set_max_huge_pages(), under resize_lock) and owners faulting surplus hugepages "
       "(alloc_surplus_hugetlb_folio(), no resize_lock: made and optimized beside a resize)",
       {40, 20, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0},
       {},
       true},
      {"speculative-head",
       "speculative references on the heads of hugepages being made, against pool growth (set_max_huge_pages(), "
       "under resize_lock) and owners faulting surplus hugepages (alloc_surplus_hugetlb_folio(), no resize_lock)",
       {0, 20, 0, 0, 0, 0, 40, 0, 40, 0, 0, 0, 0},
       {},
       true},
      {"vm-scalability", "pool resizing and owners with vm.hugetlb_optimize_vmemmap mostly off: HVO rarely applies",
       {40, 50, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0}},
      {"walk-grow",
       "PFN walkers reading the struct pages of hugepages being made (their TLBs hold the vmemmap translations) "
       "against pool growth (set_max_huge_pages(), under resize_lock) and owners faulting surplus hugepages "
       "(alloc_surplus_hugetlb_folio(), no resize_lock): HVO remaps, flushes and frees under them",
       {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0},
       {},
       true},
      {"order0-reuse",
       "CPU 0 (and every other even CPU) uses and frees a pageblock of order-0 pages and grows the pool, which "
       "reuses that memory; the odd CPUs scan it as compaction does, with speculative references",
       {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1},
       {{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
      {"restore-walk",
       "CPU 0 (and every other even CPU) shrinks and grows the pool, so folios are restored (vmemmap_remap_alloc) "
       "and made again; the odd CPUs read compound_head() of the struct pages of hugepage-backed blocks, the "
       "ones being restored included, and check that every tail names its own block's head",
       {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
       {{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
      {"owner-tail-ref",
       "CPU 0 (and every other even CPU) grows the pool by one hugepage, takes it as an owner (unfrozen to 1) and "
       "holds it while growing the pool again; the odd CPUs take speculative references, get_page_unless_zero(), "
       "on the PAGE_SIZE-aligned tails (fake heads once optimized) of hugepage-backed blocks, the ones being made "
       "included",
       {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1},
       {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
      {"overcommit",
       "every CPU faults a hugepage with none free and holds it (giving the previous one back first), against "
       "nr_overcommit_hugepages = 1: faults race for the last surplus hugepage the limit allows "
       "(alloc_surplus_hugetlb_folio()'s check, then its re-check under hugetlb_lock once the folio is made)",
       {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
       {},
       true,
       1},
      {"demote", "1 GiB hugepages demoted into 2 MiB ones (batched HVO) against resizing, owners, walkers, speculative refs",
       {30, 15, 25, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15}},
  };
  return workloads;
}

const Workload* find_workload(std::string_view name) {
  for (const Workload& w : all_workloads())
    if (w.name == name) return &w;
  return nullptr;
}

}  // namespace hvo::stress
