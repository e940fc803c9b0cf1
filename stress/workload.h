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
  kGrow,            // writes nr_hugepages = nr + 1: every CPU makes fresh hugepages
  kMemoryFailureHuge,  // memory_failure(pfn) on a tail of any hugepage-backed block, in the pool or not
                       // (being made or being torn down)
  kSpeculativeRefHead,  // get_page_unless_zero() + put_page() on the head of any hugepage-backed block
  kHvoSysctl,       // writes vm.hugetlb_optimize_vmemmap (mostly 0) where the model has it (6.x)
};
inline constexpr int kNumActorKinds = 10;

[[nodiscard]] std::string_view to_string(ActorKind k);

struct Workload {
  std::string_view name;
  std::string_view description;
  std::array<unsigned, kNumActorKinds> weights;  // relative; 0 = never
};

[[nodiscard]] const std::vector<Workload>& all_workloads();
[[nodiscard]] const Workload* find_workload(std::string_view name);
inline constexpr std::string_view kDefaultWorkload = "mixed";

}  // namespace hvo::stress
