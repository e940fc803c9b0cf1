// The store-buffer memory models (engine/sched/memory_model.h) on the
// classic litmus tests: MP (message passing) shows its reordering under
// weak without smp_wmb/smp_rmb and never with them, nor under sc or tso; SB
// (store buffering) shows r1 == r2 == 0 under tso and never under sc or
// with smp_mb. The drains are strategy choices: failures replay exactly.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/phys_mem.h"
#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"

namespace hvo::sched {
namespace {

constexpr uint64_t kExecutions = 1000;

// MP: CPU 0 data = 1; [smp_wmb]; flag = 1 / CPU 1 r1 = flag; [smp_rmb]; r2 = data.
// The execution "fails" when it shows r1 == 1 && r2 == 0.
Scenario mp(bool barriers) {
  return Scenario{"mp", [barriers](Execution& e) {
                    struct State {
                      Shared<int> data{0}, flag{0};
                      int r1 = -1, r2 = -1;
                    };
                    auto& s = e.make<State>();
                    e.cpu([&s, barriers] {
                      s.data.store(1, std::memory_order_relaxed);
                      if (barriers) smp_wmb();
                      s.flag.store(1, std::memory_order_relaxed);
                    });
                    e.cpu([&s, barriers] {
                      s.r1 = s.flag.load(std::memory_order_relaxed);
                      if (barriers) smp_rmb();
                      s.r2 = s.data.load(std::memory_order_relaxed);
                    });
                    e.check([&s] { return s.r1 == 1 && s.r2 == 0 ? Verdict::kViolation : Verdict::kPass; });
                  }};
}

// SB: CPU 0 x = 1; [smp_mb]; r1 = y / CPU 1 y = 1; [smp_mb]; r2 = x. "Fails" on r1 == r2 == 0.
Scenario sb(bool fences) {
  return Scenario{"sb", [fences](Execution& e) {
                    struct State {
                      Shared<int> x{0}, y{0};
                      int r1 = -1, r2 = -1;
                    };
                    auto& s = e.make<State>();
                    e.cpu([&s, fences] {
                      s.x.store(1, std::memory_order_relaxed);
                      if (fences) smp_mb();
                      s.r1 = s.y.load(std::memory_order_relaxed);
                    });
                    e.cpu([&s, fences] {
                      s.y.store(1, std::memory_order_relaxed);
                      if (fences) smp_mb();
                      s.r2 = s.x.load(std::memory_order_relaxed);
                    });
                    e.check([&s] { return s.r1 == 0 && s.r2 == 0 ? Verdict::kViolation : Verdict::kPass; });
                  }};
}

uint64_t shown(const Scenario& s, MemoryModel m, StrategyKind k = StrategyKind::kRandom) {
  const Report r = explore(s, Options{.strategy = k, .executions = kExecutions, .memory_model = m});
  EXPECT_EQ(r.count(Verdict::kDiverged) + r.count(Verdict::kDeadlock) + r.count(Verdict::kStepBound), 0u);
  return r.count(Verdict::kViolation);
}

TEST(MemoryModelTest, WeakShowsTheMessagePassingReorderingWithoutBarriers) {
  EXPECT_GT(shown(mp(false), MemoryModel::kWeak), 0u);
  EXPECT_GT(shown(mp(false), MemoryModel::kWeak, StrategyKind::kPct), 0u);
}

TEST(MemoryModelTest, MessagePassingNeverReordersWithSmpWmbAndSmpRmbNorUnderScOrTso) {
  for (const StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
    EXPECT_EQ(shown(mp(true), MemoryModel::kWeak, k), 0u) << to_string(k);
    EXPECT_EQ(shown(mp(false), MemoryModel::kTso, k), 0u) << to_string(k);
    EXPECT_EQ(shown(mp(false), MemoryModel::kSc, k), 0u) << to_string(k);
  }
  // Exhaustively, within 3 preemptions (drains included).
  const Report b = explore(mp(true), Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 3,
                                             .memory_model = MemoryModel::kWeak});
  EXPECT_TRUE(b.exhausted);
  EXPECT_EQ(b.count(Verdict::kPass), b.executions);
  const Report bw = explore(mp(false), Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 3,
                                               .memory_model = MemoryModel::kWeak});
  EXPECT_GT(bw.count(Verdict::kViolation), 0u);
}

TEST(MemoryModelTest, TsoShowsStoreBufferingAndScAndSmpMbNever) {
  EXPECT_GT(shown(sb(false), MemoryModel::kTso), 0u);
  EXPECT_GT(shown(sb(false), MemoryModel::kWeak), 0u);
  EXPECT_EQ(shown(sb(false), MemoryModel::kSc), 0u);
  EXPECT_EQ(shown(sb(true), MemoryModel::kTso), 0u);
  EXPECT_EQ(shown(sb(true), MemoryModel::kWeak), 0u);
}

TEST(MemoryModelTest, ALoadSeesItsOwnBufferedStore) {
  const Scenario s{"forward", [](Execution& e) {
                     struct State {
                       Shared<int> x{0};
                       int seen = -1;
                     };
                     auto& st = e.make<State>();
                     e.cpu([&st] {
                       st.x.store(7, std::memory_order_relaxed);
                       st.seen = st.x.load(std::memory_order_relaxed);
                     });
                     e.cpu([&st] { (void)st.x.load(std::memory_order_relaxed); });
                     e.check([&st] { return st.seen == 7 && st.x.peek() == 7 ? Verdict::kPass : Verdict::kViolation; });
                   }};
  for (const MemoryModel m : {MemoryModel::kTso, MemoryModel::kWeak}) {
    const Report r = explore(s, Options{.executions = 200, .memory_model = m});
    EXPECT_EQ(r.count(Verdict::kPass), 200u) << to_string(m);
  }
}

TEST(MemoryModelTest, AReorderingReplaysExactly) {
  const Report r = explore(mp(false), Options{.strategy = StrategyKind::kRandom, .executions = kExecutions,
                                              .memory_model = MemoryModel::kWeak, .stop_at_first_failure = true});
  ASSERT_TRUE(r.first_failure);
  for (int i = 0; i < 2; ++i) {
    const ExecutionResult again =
        replay(mp(false), r.first_failure->decisions, Options{}.max_steps, true, MemoryModel::kWeak);
    EXPECT_EQ(again.verdict, Verdict::kViolation);
    EXPECT_EQ(again.trace_hash, r.first_failure->trace_hash);
  }
}

// The engine's memory: PhysMem word stores are buffered too.
TEST(MemoryModelTest, PhysMemStoresReorderUnderWeak) {
  const Scenario s{"physmem-mp", [](Execution& e) {
                     struct State {
                       PhysMem mem{uint64_t{2} << 20};
                       uint64_t r1 = 9, r2 = 9;
                     };
                     auto& st = e.make<State>();
                     const PhysAddr data(0x1000), flag(0x2000);
                     // PhysMem makes no schedule point (its callers do, as
                     // KernelPageTables does): one before each access.
                     e.cpu([&st, data, flag] {
                       sched_point(SchedEvent::kPteStore, data.value());
                       st.mem.store<uint64_t>(data, 1, std::memory_order_relaxed);
                       sched_point(SchedEvent::kPteStore, flag.value());
                       st.mem.store<uint64_t>(flag, 1, std::memory_order_relaxed);
                     });
                     e.cpu([&st, data, flag] {
                       sched_point(SchedEvent::kPteLoad, flag.value());
                       st.r1 = st.mem.load<uint64_t>(flag, std::memory_order_relaxed);
                       sched_point(SchedEvent::kPteLoad, data.value());
                       st.r2 = st.mem.load<uint64_t>(data, std::memory_order_relaxed);
                     });
                     e.check([&st] { return st.r1 == 1 && st.r2 == 0 ? Verdict::kViolation : Verdict::kPass; });
                   }};
  EXPECT_GT(shown(s, MemoryModel::kWeak), 0u);
  EXPECT_EQ(shown(s, MemoryModel::kTso), 0u);
  EXPECT_EQ(shown(s, MemoryModel::kSc), 0u);
}

// Load->load reordering (the invalidation queue, store_buffer.h): MP with
// smp_wmb() on the writer, so the stores reach memory in order, and the
// reader's two loads ordered by nothing, by smp_rmb(), or by an acquire
// load of the flag.
enum class ReaderOrder : uint8_t { kNone, kSmpRmb, kAcquire };
Scenario mp_wmb(ReaderOrder reader) {
  return Scenario{"mp-wmb", [reader](Execution& e) {
                    struct State {
                      Shared<int> data{0}, flag{0};
                      int r1 = -1, r2 = -1;
                    };
                    auto& s = e.make<State>();
                    e.cpu([&s] {
                      s.data.store(1, std::memory_order_relaxed);
                      smp_wmb();
                      s.flag.store(1, std::memory_order_relaxed);
                    });
                    e.cpu([&s, reader] {
                      s.r1 = s.flag.load(reader == ReaderOrder::kAcquire ? std::memory_order_acquire
                                                                         : std::memory_order_relaxed);
                      if (reader == ReaderOrder::kSmpRmb) smp_rmb();
                      s.r2 = s.data.load(std::memory_order_relaxed);
                    });
                    e.check([&s] { return s.r1 == 1 && s.r2 == 0 ? Verdict::kViolation : Verdict::kPass; });
                  }};
}

TEST(MemoryModelTest, WeakReordersLoadsWithoutSmpRmb) {
  EXPECT_GT(shown(mp_wmb(ReaderOrder::kNone), MemoryModel::kWeak), 0u);
  EXPECT_GT(shown(mp_wmb(ReaderOrder::kNone), MemoryModel::kWeak, StrategyKind::kPct), 0u);
  const Report bw = explore(mp_wmb(ReaderOrder::kNone),
                            Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 3,
                                    .memory_model = MemoryModel::kWeak});
  EXPECT_GT(bw.count(Verdict::kViolation), 0u);
}

TEST(MemoryModelTest, LoadsNeverReorderWithSmpRmbOrAcquireNorUnderScOrTso) {
  for (const StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
    EXPECT_EQ(shown(mp_wmb(ReaderOrder::kSmpRmb), MemoryModel::kWeak, k), 0u) << to_string(k);
    EXPECT_EQ(shown(mp_wmb(ReaderOrder::kAcquire), MemoryModel::kWeak, k), 0u) << to_string(k);
    EXPECT_EQ(shown(mp_wmb(ReaderOrder::kNone), MemoryModel::kTso, k), 0u) << to_string(k);
    EXPECT_EQ(shown(mp_wmb(ReaderOrder::kNone), MemoryModel::kSc, k), 0u) << to_string(k);
  }
  for (const ReaderOrder r : {ReaderOrder::kSmpRmb, ReaderOrder::kAcquire}) {
    const Report b = explore(mp_wmb(r), Options{.strategy = StrategyKind::kBounded, .executions = 0,
                                                .preemptions = 3, .memory_model = MemoryModel::kWeak});
    EXPECT_TRUE(b.exhausted);
    EXPECT_EQ(b.count(Verdict::kPass), b.executions);
  }
}

TEST(MemoryModelTest, ALoadReorderingReplaysExactly) {
  const Report r = explore(mp_wmb(ReaderOrder::kNone),
                           Options{.strategy = StrategyKind::kRandom, .executions = kExecutions,
                                   .memory_model = MemoryModel::kWeak, .stop_at_first_failure = true});
  ASSERT_TRUE(r.first_failure);
  for (int i = 0; i < 2; ++i) {
    const ExecutionResult again =
        replay(mp_wmb(ReaderOrder::kNone), r.first_failure->decisions, Options{}.max_steps, true, MemoryModel::kWeak);
    EXPECT_EQ(again.verdict, Verdict::kViolation);
    EXPECT_EQ(again.trace_hash, r.first_failure->trace_hash);
  }
}

// Coherence (CoRR): two relaxed loads of one word never see it go back.
TEST(MemoryModelTest, StaleLoadsStayCoherent) {
  const Scenario s{"corr", [](Execution& e) {
                     struct State {
                       Shared<int> x{0};
                       int r1 = -1, r2 = -1;
                     };
                     auto& st = e.make<State>();
                     e.cpu([&st] {
                       st.x.store(1, std::memory_order_relaxed);
                       st.x.store(2, std::memory_order_relaxed);
                     });
                     e.cpu([&st] {
                       st.r1 = st.x.load(std::memory_order_relaxed);
                       st.r2 = st.x.load(std::memory_order_relaxed);
                     });
                     e.check([&st] { return st.r2 < st.r1 ? Verdict::kViolation : Verdict::kPass; });
                   }};
  EXPECT_EQ(shown(s, MemoryModel::kWeak), 0u);
}

// copy_page() is seen by the memory model (512 buffered word stores): the
// v5.18/v6.10 restore bug. CPU 0 copies a stamped struct page frame into a
// fresh frame, [smp_wmb()], and points the PTE at the copy (set_pte_at, a
// WRITE_ONCE); CPU 1 reads the PTE and, if it maps the copy, reads the
// stamp through it. Without the smp_wmb() the PTE store may reach memory
// before the copy's stores: CPU 1 sees the new frame unstamped. CPU 1's PTE
// load is memory_order_consume: the MMU walk's address dependency orders
// the read through it on arm64 (the simulator treats consume as acquire).
Scenario restore_copy(bool wmb) {
  return Scenario{"restore-wmb", [wmb](Execution& e) {
                    static constexpr uint64_t kStamp = 0x5eedf00dULL, kStampOffset = 64;
                    static constexpr Pfn kOld{1}, kNew{2}, kTable{3};
                    struct State {
                      PhysMem mem{uint64_t{2} << 20};
                      uint64_t pte = 9, stamp = 9;
                    };
                    auto& st = e.make<State>();
                    const PhysAddr pte = pfn_to_phys(kTable);
                    st.mem.store<uint64_t>(pfn_to_phys(kOld) + kStampOffset, kStamp, std::memory_order_relaxed);
                    st.mem.store<uint64_t>(pte, kOld.value(), std::memory_order_relaxed);
                    e.cpu([&st, pte, wmb] {
                      sched_point(SchedEvent::kMemCopy, pfn_to_phys(kNew).value());
                      st.mem.copy_page(kNew, kOld);
                      if (wmb) smp_wmb();
                      sched_point(SchedEvent::kPteStore, pte.value());
                      st.mem.store<uint64_t>(pte, kNew.value(), std::memory_order_relaxed);
                    });
                    e.cpu([&st, pte] {
                      sched_point(SchedEvent::kPteLoad, pte.value());
                      st.pte = st.mem.load<uint64_t>(pte, std::memory_order_consume);
                      const PhysAddr page = pfn_to_phys(Pfn(st.pte)) + kStampOffset;
                      sched_point(SchedEvent::kPageLoad, page.value());
                      st.stamp = st.mem.load<uint64_t>(page, std::memory_order_relaxed);
                    });
                    e.check([&st] {
                      return st.pte == kNew.value() && st.stamp != kStamp ? Verdict::kViolation : Verdict::kPass;
                    });
                  }};
}

TEST(MemoryModelTest, CopyPageWithoutSmpWmbIsSeenStaleUnderWeak) {
  EXPECT_GT(shown(restore_copy(false), MemoryModel::kWeak), 0u);
  EXPECT_EQ(shown(restore_copy(true), MemoryModel::kWeak), 0u);
  EXPECT_EQ(shown(restore_copy(false), MemoryModel::kTso), 0u);
  EXPECT_EQ(shown(restore_copy(false), MemoryModel::kSc), 0u);
  EXPECT_EQ(shown(restore_copy(true), MemoryModel::kWeak, StrategyKind::kPct), 0u);
}

}  // namespace
}  // namespace hvo::sched
