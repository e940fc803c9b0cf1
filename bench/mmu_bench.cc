// Engine hot paths: a struct page access that hits the TLB, one that misses
// (a 4-level walk), and page-table entry loads and stores per access policy.
//
//   bash ci/bench.sh   (or build/release/bench/mmu_bench)
#include <benchmark/benchmark.h>

#include "engine/machine.h"
#include "engine/task.h"

namespace hvo {
namespace {

MachineConfig bench_config(PteAccess access = PteAccess::kOnce) {
  MachineConfig c;
  c.memory_bytes = uint64_t{1} << 30;
  c.pte_access = access;
  c.nr_cpus = 2;
  return c;
}

void BM_TranslateTlbHit(benchmark::State& state) {
  Machine m(bench_config());
  Task t{CpuId(1)};
  TaskScope s(t);
  const VmemmapAddr addr = pfn_to_page(Pfn(0x10000));
  (void)m.mmu().translate(CpuId(1), addr, AccessType::kRead);
  for (auto _ : state) benchmark::DoNotOptimize(m.mmu().translate(CpuId(1), addr, AccessType::kRead));
}
BENCHMARK(BM_TranslateTlbHit);

void BM_TranslateTlbMiss(benchmark::State& state) {
  Machine m(bench_config());
  Task t{CpuId(1)};
  TaskScope s(t);
  // Two addresses in the same TLB set evict each other: every lookup walks.
  const VmemmapAddr a = pfn_to_page(Pfn(0x10000));
  const VmemmapAddr b = a + m.config().tlb_entries * kPageSize;
  bool flip = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.mmu().translate(CpuId(1), flip ? a : b, AccessType::kRead));
    flip = !flip;
  }
}
BENCHMARK(BM_TranslateTlbMiss);

void BM_StructPageLoad(benchmark::State& state) {
  Machine m(bench_config());
  Task t{CpuId(1)};
  TaskScope s(t);
  for (auto _ : state) benchmark::DoNotOptimize(m.pages().load(Pfn(0x10000), PageWord::kFlags));
}
BENCHMARK(BM_StructPageLoad);

void BM_PteLoad(benchmark::State& state) {
  const auto policy = static_cast<PteAccess>(state.range(0));
  Machine m(bench_config(policy));
  const PhysAddr entry = m.page_tables().walk(pfn_to_page(Pfn(0x10000))).entry;
  for (auto _ : state) benchmark::DoNotOptimize(m.page_tables().read_entry(entry));
  state.SetLabel(std::string(to_string(policy)));
}
BENCHMARK(BM_PteLoad)->Arg(static_cast<int>(PteAccess::kOnce))->Arg(static_cast<int>(PteAccess::kPlain));

void BM_PteStore(benchmark::State& state) {
  const auto policy = static_cast<PteAccess>(state.range(0));
  Machine m(bench_config(policy));
  const SoftWalk w = m.page_tables().walk(pfn_to_page(Pfn(0x10000)));
  for (auto _ : state) m.page_tables().write_entry(w.entry, w.value);
  state.SetLabel(std::string(to_string(policy)));
}
BENCHMARK(BM_PteStore)->Arg(static_cast<int>(PteAccess::kOnce))->Arg(static_cast<int>(PteAccess::kPlain));

}  // namespace
}  // namespace hvo
