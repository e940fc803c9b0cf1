// The MMU's ordering under the weak memory model (engine/mmu.h, hw_read;
// scheduler.cc, flush_ordering), on litmus tests through the real page
// tables, MMU and TLB of a small machine:
//   - message passing through a PTE: CPU 0 fills a vmemmap frame, smp_wmb(),
//     points a PTE at it (vmemmap_restore_pte()); CPU 1 reads a struct page
//     through that PTE. The read is address-dependent on the walk's entry
//     load, so with the smp_wmb() it never sees the frame unfilled; without
//     it (the `restore-wmb` revert) it can.
//   - a TLB flush orders the CPUs after the flusher: CPU 0 remaps a vmemmap
//     page, flushes the TLBs, then frees the old frame; CPU 1, which cached
//     the old translation, walks again after the flush and must find the
//     new entry, never the old one (a use-after-free the kernel cannot do).
#include <gtest/gtest.h>

#include <atomic>

#include "engine/machine.h"
#include "engine/sched/scenario.h"
#include "engine/violation.h"

namespace hvo::sched {
namespace {

constexpr uint64_t kExecutions = 500;
constexpr Pfn kPfn{5000};  // whose struct page CPU 1 reads
constexpr uint64_t kOldStamp = 0xa11ce, kNewStamp = 0xb0b;

MachineConfig two_cpus() {
  MachineConfig config;
  config.memory_bytes = MachineConfig::kMinMemory;
  config.nr_cpus = 2;
  return config;
}

// The physical address of kPfn's page->private in `frame` (a copy of the
// vmemmap page that holds it).
PhysAddr private_word_in(Pfn frame) {
  return pfn_to_phys(frame) + pfn_to_page(kPfn).offset_in_page() + static_cast<uint64_t>(PageWord::kPrivate);
}

struct MpResult {
  uint64_t seen = 0;
};

// CPU 0: new_frame's page->private = kNewStamp; [smp_wmb()]; set the PTE to
// new_frame. CPU 1: page->private of kPfn through the MMU (a TLB miss: a
// walk). The old frame holds kOldStamp: CPU 1 reads either stamp, never the
// new frame's unfilled 0, unless the PTE store overtook the fill.
Scenario mp_through_pte(bool wmb) {
  return Scenario{"mp-through-pte", [wmb](Execution& e) {
                    struct State {
                      explicit State(const MachineConfig& c) : m(c) {}
                      Machine m;
                      uint64_t seen = 9;
                    };
                    auto& s = e.make<State>(two_cpus());
                    e.watch(s.m.violations());
                    const SoftWalk w = s.m.page_tables().walk(pfn_to_page(kPfn));
                    const Pfn fresh =
                        *s.m.buddy().alloc_pages(Gfp::kKernel | Gfp::kZero, Order(0), FrameState::kVmemmap);
                    s.m.mem().store<uint64_t>(private_word_in(w.frame), kOldStamp, std::memory_order_relaxed);
                    e.cpu([&s, w, fresh, wmb] {
                      sched_point(SchedEvent::kMemCopy, private_word_in(fresh).value());
                      s.m.mem().store<uint64_t>(private_word_in(fresh), kNewStamp, std::memory_order_relaxed);
                      if (wmb) smp_wmb();
                      s.m.page_tables().write_entry(w.entry, pfn_pte(fresh, kPageKernel));
                    });
                    e.cpu([&s] { s.seen = s.m.pages().load(kPfn, PageWord::kPrivate); });
                    e.check([&s] {
                      return s.seen == kOldStamp || s.seen == kNewStamp ? Verdict::kPass : Verdict::kViolation;
                    });
                  }};
}

uint64_t shown(const Scenario& s, MemoryModel m, StrategyKind k = StrategyKind::kRandom) {
  const Report r = explore(s, Options{.strategy = k, .executions = kExecutions, .memory_model = m});
  EXPECT_EQ(r.count(Verdict::kDiverged) + r.count(Verdict::kDeadlock) + r.count(Verdict::kStepBound), 0u);
  return r.count(Verdict::kViolation);
}

TEST(PteDependencyTest, WithoutSmpWmbAReaderSeesTheNewPteBeforeThePageContents) {
  EXPECT_GT(shown(mp_through_pte(false), MemoryModel::kWeak), 0u);
}

// Fails if the walk's entry loads were relaxed: CPU 1's read of the page
// could then be satisfied from its stale view (the fill's entry in its
// invalidation queue) although it read the new PTE.
TEST(PteDependencyTest, WithSmpWmbTheAddressDependencyOrdersTheRead) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct, StrategyKind::kBounded})
    EXPECT_EQ(shown(mp_through_pte(true), MemoryModel::kWeak, k), 0u) << to_string(k);
  EXPECT_EQ(shown(mp_through_pte(false), MemoryModel::kTso), 0u);
  EXPECT_EQ(shown(mp_through_pte(false), MemoryModel::kSc), 0u);
}

// CPU 0: the PTE of kPfn's vmemmap page to a copy, smp_wmb() first (the
// fixed restore), flush_tlb_kernel_range(), then the old frame freed.
// CPU 1: reads kPfn's page->private twice; the first read may cache the old
// translation; the second, if after the flush, walks again. Any violation
// (a use-after-free of the old frame through a stale view of the PTE)
// fails the execution.
Scenario remap_flush_free() {
  return Scenario{"remap-flush-free", [](Execution& e) {
                    struct State {
                      explicit State(const MachineConfig& c) : m(c) {}
                      Machine m;
                    };
                    auto& s = e.make<State>(two_cpus());
                    e.watch(s.m.violations());
                    const SoftWalk w = s.m.page_tables().walk(pfn_to_page(kPfn));
                    const Pfn fresh = *s.m.buddy().alloc_pages(Gfp::kKernel, Order(0), FrameState::kVmemmap);
                    e.cpu([&s, w, fresh] {
                      sched_point(SchedEvent::kMemCopy, pfn_to_phys(fresh).value());
                      s.m.mem().copy_page(fresh, w.frame);
                      smp_wmb();
                      s.m.page_tables().write_entry(w.entry, pfn_pte(fresh, kPageKernel));
                      const VmemmapAddr start = pfn_to_page(kPfn).page_aligned();
                      s.m.mmu().flush_tlb_kernel_range(start, start + kPageSize);
                      s.m.buddy().free_pages(w.frame, Order(0));
                    });
                    e.cpu([&s] {
                      for (int i = 0; i < 2; ++i) (void)s.m.pages().load(kPfn, PageWord::kPrivate);
                    });
                  }};
}

// Fails if the flush did not order CPU 1 after CPU 0: its walk after the
// flush could read the PTE's old value from its stale view and reach the
// freed frame.
TEST(PteDependencyTest, AReaderAfterTheTlbFlushNeverUsesTheOldEntry) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct})
    EXPECT_EQ(shown(remap_flush_free(), MemoryModel::kWeak, k), 0u) << to_string(k);
}

// The reordering is a recorded choice: the failure replays exactly.
TEST(PteDependencyTest, TheReorderingReplaysExactly) {
  const Report r = explore(mp_through_pte(false), Options{.strategy = StrategyKind::kRandom,
                                                          .executions = kExecutions,
                                                          .memory_model = MemoryModel::kWeak,
                                                          .stop_at_first_failure = true});
  ASSERT_TRUE(r.first_failure.has_value());
  const ExecutionResult again =
      replay(mp_through_pte(false), r.first_failure->decisions, Options{}.max_steps, true, MemoryModel::kWeak);
  EXPECT_EQ(again.verdict, Verdict::kViolation);
  EXPECT_EQ(again.trace_hash, r.first_failure->trace_hash);
}

}  // namespace
}  // namespace hvo::sched
