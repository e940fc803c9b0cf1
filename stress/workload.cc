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
  }
  return "?";
}

const std::vector<Workload>& all_workloads() {
  //                       resizer owner walker spec  mf  dissolve
  static const std::vector<Workload> workloads = {
      {"mixed", "every actor: pool resizing, owners, PFN walkers, speculative references, memory_failure, dissolve",
       {20, 20, 25, 20, 10, 5}},
      {"resize", "pool growth and shrink against PFN walkers: optimize and restore all the time", {50, 0, 50, 0, 0, 0}},
      {"hwpoison", "memory_failure and dissolve against pool resizing and owners", {30, 20, 0, 0, 40, 10}},
      {"speculative", "speculative references (compaction, PFN walkers) against pool resizing", {35, 15, 15, 35, 0, 0}},
  };
  return workloads;
}

const Workload* find_workload(std::string_view name) {
  for (const Workload& w : all_workloads())
    if (w.name == name) return &w;
  return nullptr;
}

}  // namespace hvo::stress
