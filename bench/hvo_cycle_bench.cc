// One optimize+restore cycle of a hugepage's vmemmap on one thread:
// free_huge_page_vmemmap() (remap 6 tail pages read-only, flush, free 6
// frames) then alloc_huge_page_vmemmap() (allocate 6 frames, copy the reuse
// page into each, remap read-write, flush), with the cheap checks on (every
// entry and struct page access through the MMU and its checks).
//
// A restore copies 6 pages of 4 KiB; BM_CopyPages6 is that floor alone.
//
//   build/release/bench/hvo_cycle_bench
#include <benchmark/benchmark.h>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "engine/task.h"
#include "models/v17/v17_model.h"

namespace hvo {
namespace {

void BM_OptimizeRestoreCycle(benchmark::State& state) {
  const Hstate& h = state.range(0) == 0 ? kHstate2M : kHstate1G;
  MachineConfig c;
  c.memory_bytes = uint64_t{3} << 30;
  c.pte_access = state.range(1) == 0 ? PteAccess::kOnce : PteAccess::kPlain;
  c.nr_cpus = 2;
  Machine m(c);
  Task t{CpuId(0)};
  TaskScope scope(t);
  V17Model model(m, {});
  HugetlbPool pool(m, h, model);
  const Pfn head = *pool.alloc_fresh_folio_frames(Gfp::kKernel);
  for (auto _ : state) {
    model.free_huge_page_vmemmap(pool, head);
    benchmark::DoNotOptimize(model.alloc_huge_page_vmemmap(pool, head));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(h.size_name) + " " + std::string(to_string(c.pte_access)));
  if (m.violations().any()) state.SkipWithError("violation during the cycle");
}
BENCHMARK(BM_OptimizeRestoreCycle)->Args({0, 0})->Args({0, 1})->Args({1, 0});

void BM_CopyPages6(benchmark::State& state) {
  MachineConfig c;
  c.memory_bytes = uint64_t{256} << 20;
  Machine m(c);
  for (auto _ : state)
    for (uint64_t i = 0; i < 6; ++i) m.mem().copy_page(Pfn(0x1000 + i), Pfn(0x2000));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CopyPages6);

}  // namespace
}  // namespace hvo
