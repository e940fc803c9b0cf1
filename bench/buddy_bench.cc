// Buddy allocator costs with the zone lock uncontended (one thread): the
// price of one alloc_pages() + free_pages() pair, which every simulated
// page-table, vmemmap and hugepage allocation pays.
//
//   BM_AllocFreeSplit/order    a pristine zone: each allocation splits an
//                              order-10 block (expand) and each free merges
//                              it back (__free_one_page): the worst case
//   BM_AllocFreeNoSplit        a free order-0 block is at hand and its buddy
//                              is allocated: no split, no merge
//   BM_AllocFreeGigantic       alloc_contig_pages() of a 1 GiB page and
//                              free_contig_range() in a 4 GiB machine
#include <benchmark/benchmark.h>

#include <optional>

#include "engine/alloc_failure.h"
#include "engine/buddy.h"
#include "engine/locks/lockdep.h"
#include "engine/phys_mem.h"
#include "engine/task.h"
#include "engine/violation.h"

namespace hvo {
namespace {

constexpr uint64_t kMemory = uint64_t{4} << 30;
constexpr uint64_t kReservedFrames = 4096;  // 16 MiB, as Machine reserves

// A booted 4 GiB zone, with a task bound for the benchmark's thread.
struct BenchZone {
  BenchZone() {
    mem.set_state(Pfn(0), kReservedFrames, FrameState::kBootReserved);
    buddy.free_boot_range(Pfn(kReservedFrames), mem.nr_frames() - kReservedFrames);
  }

  Task task{CpuId(0)};
  TaskScope scope{task};
  ViolationLog log;
  Lockdep lockdep{log};
  PhysMem mem{kMemory};
  AllocFailureInjector inject;
  BuddyAllocator buddy{mem, lockdep, lockdep.register_class("zone->lock", LockKind::kSpin), inject};
};

void alloc_free_loop(benchmark::State& state, BuddyAllocator& buddy, Gfp gfp, Order order) {
  for (auto _ : state) {
    std::optional<Pfn> pfn = buddy.alloc_pages(gfp, order, FrameState::kBuddy);
    benchmark::DoNotOptimize(pfn);
    buddy.free_pages(*pfn, order);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AllocFreeSplit(benchmark::State& state) {
  BenchZone zone;
  alloc_free_loop(state, zone.buddy, Gfp::kAtomic, Order(static_cast<uint8_t>(state.range(0))));
}
BENCHMARK(BM_AllocFreeSplit)->Arg(0)->Arg(9);

void BM_AllocFreeNoSplit(benchmark::State& state) {
  BenchZone zone;
  // Holding the lowest page leaves its buddy as a free order-0 block.
  const std::optional<Pfn> pinned = zone.buddy.alloc_pages(Gfp::kAtomic, Order(0), FrameState::kBuddy);
  alloc_free_loop(state, zone.buddy, Gfp::kAtomic, Order(0));
  zone.buddy.free_pages(*pinned, Order(0));
}
BENCHMARK(BM_AllocFreeNoSplit);

// GFP_KERNEL adds might_sleep() (a look at the task's preempt count).
void BM_AllocFreeKernelOrder0(benchmark::State& state) {
  BenchZone zone;
  alloc_free_loop(state, zone.buddy, Gfp::kKernel, Order(0));
}
BENCHMARK(BM_AllocFreeKernelOrder0);

void BM_AllocFreeGigantic(benchmark::State& state) {
  BenchZone zone;
  constexpr uint64_t kGigantic = uint64_t{1} << 18;
  for (auto _ : state) {
    std::optional<Pfn> pfn = zone.buddy.alloc_contig_pages(Gfp::kKernel, kGigantic, FrameState::kHugetlbData);
    benchmark::DoNotOptimize(pfn);
    zone.buddy.free_contig_range(*pfn, kGigantic);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllocFreeGigantic);

}  // namespace
}  // namespace hvo
