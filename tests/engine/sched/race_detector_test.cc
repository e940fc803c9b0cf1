// The happens-before data-race detector (engine/sched/race_detector.h):
// unit checks of its happens-before rules, scenarios over sched::Shared
// under the controlled scheduler, and the engine's `plain` PTE accesses
// racing the hardware walk of another CPU's MMU.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/locks/lockdep.h"
#include "engine/locks/rwsem.h"
#include "engine/locks/spinlock.h"
#include "engine/machine.h"
#include "engine/sched/race_detector.h"
#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"
#include "engine/violation.h"

namespace hvo::sched {
namespace {

// --- the detector alone -------------------------------------------------

constexpr uint64_t kX = 0x1000;
constexpr uint64_t kFlag = 0x2000;

MemoryAccess acc(AccessKind k, uint64_t address, std::memory_order mo = std::memory_order_relaxed) {
  return MemoryAccess{k, mo, mo, 8, address, 0};
}

TEST(RaceDetectorTest, PlainWriteThenPlainReadOnAnotherCpuRaces) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
  const auto race = d.access(1, 2, acc(AccessKind::kPlainLoad, kX));
  ASSERT_TRUE(race);
  EXPECT_EQ(race->earlier.cpu, 0);
  EXPECT_EQ(race->earlier.step, 1u);
  EXPECT_EQ(race->later.cpu, 1);
  EXPECT_EQ(race->later.step, 2u);
  EXPECT_EQ(race->word, kX);
  EXPECT_NE(race->describe().find("plain 8-byte store of 0x1000 by CPU 0 at step 1"), std::string::npos)
      << race->describe();
}

TEST(RaceDetectorTest, ReadThenWriteRacesAndTheSameCpuNever) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainLoad, kX)));
  EXPECT_FALSE(d.access(0, 2, acc(AccessKind::kPlainStore, kX)));  // program order
  EXPECT_TRUE(d.access(1, 3, acc(AccessKind::kPlainStore, kX)));
}

TEST(RaceDetectorTest, PlainReadsNeverRaceWithEachOther) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainLoad, kX)));
  EXPECT_FALSE(d.access(1, 2, acc(AccessKind::kPlainLoad, kX)));
}

TEST(RaceDetectorTest, AtomicAgainstAtomicNeverRacesButAtomicAgainstPlainDoes) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kStore, kX)));
  EXPECT_FALSE(d.access(1, 2, acc(AccessKind::kLoad, kX)));
  EXPECT_FALSE(d.access(1, 3, acc(AccessKind::kRmw, kX)));
  EXPECT_TRUE(d.access(0, 4, acc(AccessKind::kPlainLoad, kX)));  // the RMW of CPU 1 is concurrent
}

TEST(RaceDetectorTest, HalvesOfOneWordAreOneLocation) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, MemoryAccess{AccessKind::kPlainStore, std::memory_order_relaxed,
                                           std::memory_order_relaxed, 4, kX + 4, 0}));
  EXPECT_TRUE(d.access(1, 2, acc(AccessKind::kLoad, kX)));  // the walk's 8-byte READ_ONCE
}

TEST(RaceDetectorTest, ReleaseAcquireOrdersButRelaxedDoesNot) {
  for (const bool release_acquire : {true, false}) {
    RaceDetector d;
    d.begin(2);
    const auto st = release_acquire ? std::memory_order_release : std::memory_order_relaxed;
    const auto ld = release_acquire ? std::memory_order_acquire : std::memory_order_relaxed;
    EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
    EXPECT_FALSE(d.access(0, 2, acc(AccessKind::kStore, kFlag, st)));
    EXPECT_FALSE(d.access(1, 3, acc(AccessKind::kLoad, kFlag, ld)));
    EXPECT_EQ(d.access(1, 4, acc(AccessKind::kPlainLoad, kX)).has_value(), !release_acquire);
  }
}

TEST(RaceDetectorTest, AccessesAfterAReleaseAreNotCoveredByIt) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kStore, kFlag, std::memory_order_release)));
  EXPECT_FALSE(d.access(0, 2, acc(AccessKind::kPlainStore, kX)));  // after the release
  EXPECT_FALSE(d.access(1, 3, acc(AccessKind::kLoad, kFlag, std::memory_order_acquire)));
  EXPECT_TRUE(d.access(1, 4, acc(AccessKind::kPlainLoad, kX)));
}

TEST(RaceDetectorTest, FencesOrderRelaxedAccessesLikeSmpWmbAndSmpRmb) {
  for (const bool fences : {true, false}) {
    RaceDetector d;
    d.begin(2);
    EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
    if (fences) d.fence(0, std::memory_order_release);  // smp_wmb()
    EXPECT_FALSE(d.access(0, 2, acc(AccessKind::kStore, kFlag)));
    EXPECT_FALSE(d.access(1, 3, acc(AccessKind::kLoad, kFlag)));
    if (fences) d.fence(1, std::memory_order_acquire);  // smp_rmb()
    EXPECT_EQ(d.access(1, 4, acc(AccessKind::kPlainLoad, kX)).has_value(), !fences);
  }
}

TEST(RaceDetectorTest, ARelaxedStoreEndsTheReleaseSequenceAndARelaxedRmwContinuesIt) {
  for (const bool rmw : {true, false}) {
    RaceDetector d;
    d.begin(3);
    EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
    EXPECT_FALSE(d.access(0, 2, acc(AccessKind::kStore, kFlag, std::memory_order_release)));
    EXPECT_FALSE(d.access(2, 3, acc(rmw ? AccessKind::kRmw : AccessKind::kStore, kFlag)));
    EXPECT_FALSE(d.access(1, 4, acc(AccessKind::kLoad, kFlag, std::memory_order_acquire)));
    EXPECT_EQ(d.access(1, 5, acc(AccessKind::kPlainLoad, kX)).has_value(), !rmw);
  }
}

TEST(RaceDetectorTest, LockReleaseThenAcquireOrders) {
  int lock = 0;
  RaceDetector d;
  d.begin(2);
  d.acquire(0, &lock);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
  d.release(0, &lock);
  d.acquire(1, &lock);
  EXPECT_FALSE(d.access(1, 2, acc(AccessKind::kPlainStore, kX)));
  d.release(1, &lock);
}

TEST(RaceDetectorTest, TheTlbFlushIpiSynchronizesTheFlusherWithEveryCpu) {
  RaceDetector d;
  d.begin(3);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
  EXPECT_FALSE(d.access(2, 2, acc(AccessKind::kPlainLoad, kX + 64)));
  d.ipi_all(0);
  EXPECT_FALSE(d.access(1, 3, acc(AccessKind::kPlainLoad, kX)));       // after the flusher's write
  EXPECT_FALSE(d.access(0, 4, acc(AccessKind::kPlainStore, kX + 64)));  // the flusher waited for CPU 2
}

TEST(RaceDetectorTest, EachWordReportsOncePerExecutionAndBeginForgets) {
  RaceDetector d;
  d.begin(2);
  EXPECT_FALSE(d.access(0, 1, acc(AccessKind::kPlainStore, kX)));
  EXPECT_TRUE(d.access(1, 2, acc(AccessKind::kPlainStore, kX)));
  EXPECT_FALSE(d.access(0, 3, acc(AccessKind::kPlainStore, kX)));
  d.begin(2);
  EXPECT_FALSE(d.access(1, 1, acc(AccessKind::kPlainStore, kX)));
}

// --- scenarios over sched::Shared ----------------------------------------

enum class Sync { kNone, kReleaseAcquire, kFences, kLock };

// CPU 0 writes the data plainly and raises a flag; CPU 1 reads the data
// plainly once it sees the flag. Only a run where CPU 1 sees the flag makes
// the two plain accesses, so a search has to find that order.
Scenario message_passing(Sync sync) {
  return Scenario{"plain-mp", [sync](Execution& e) {
                    struct State {
                      ViolationLog log;
                      Lockdep dep{log};
                      LockClass& cls = dep.register_class("mp_lock", LockKind::kSpin);
                      SpinLock lock{cls};
                      Shared<int> data{0};
                      Shared<int> flag{0};
                    };
                    auto& s = e.make<State>();
                    e.watch(s.log);
                    e.cpu([&s, sync] {
                      if (sync == Sync::kLock) {
                        SpinLockGuard g(s.lock);
                        s.data.store_plain(42);
                        s.flag.store(1, std::memory_order_relaxed);
                        return;
                      }
                      s.data.store_plain(42);
                      if (sync == Sync::kFences) smp_wmb();
                      s.flag.store(1, sync == Sync::kReleaseAcquire ? std::memory_order_release
                                                                    : std::memory_order_relaxed);
                    });
                    e.cpu([&s, sync] {
                      if (sync == Sync::kLock) {
                        SpinLockGuard g(s.lock);
                        if (s.flag.load(std::memory_order_relaxed) == 1) (void)s.data.load_plain();
                        return;
                      }
                      const int f = s.flag.load(sync == Sync::kReleaseAcquire ? std::memory_order_acquire
                                                                              : std::memory_order_relaxed);
                      if (sync == Sync::kFences) smp_rmb();
                      if (f == 1) (void)s.data.load_plain();
                    });
                  }};
}

constexpr uint64_t kExecutions = 200;

TEST(RaceDetectorScenarioTest, RandomSearchReportsAnUnorderedPlainWriteAndRead) {
  const Report r = explore(message_passing(Sync::kNone), Options{.strategy = StrategyKind::kRandom,
                                                                  .executions = kExecutions});
  ASSERT_GT(r.count(Verdict::kViolation), 0u);
  ASSERT_TRUE(r.first_failure);
  EXPECT_NE(r.first_failure->message.find("data-race"), std::string::npos) << r.first_failure->message;
  EXPECT_NE(r.first_failure->message.find("plain 4-byte store"), std::string::npos) << r.first_failure->message;
  EXPECT_NE(r.first_failure->message.find("by CPU 1"), std::string::npos) << r.first_failure->message;
  // The report is part of the execution: its replay reports it again, at the same step.
  const ExecutionResult again = replay(message_passing(Sync::kNone), r.first_failure->decisions);
  EXPECT_EQ(again.verdict, Verdict::kViolation);
  EXPECT_EQ(again.failure_step, r.first_failure->failure_step);
  EXPECT_EQ(again.message, r.first_failure->message);
}

TEST(RaceDetectorScenarioTest, NothingIsReportedWhenReleaseAcquireFencesOrALockOrderThem) {
  for (const Sync sync : {Sync::kReleaseAcquire, Sync::kFences, Sync::kLock}) {
    for (const StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
      const Report r = explore(message_passing(sync), Options{.strategy = k, .executions = kExecutions});
      EXPECT_EQ(r.count(Verdict::kPass), kExecutions)
          << static_cast<int>(sync) << " " << to_string(k) << ": " << (r.first_failure ? r.first_failure->message : "");
    }
  }
  const Report b = explore(message_passing(Sync::kReleaseAcquire),
                           Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 3});
  EXPECT_TRUE(b.exhausted);
  EXPECT_EQ(b.count(Verdict::kPass), b.executions);
}

TEST(RaceDetectorScenarioTest, DetectionCanBeTurnedOff) {
  const Report r = explore(message_passing(Sync::kNone),
                           Options{.strategy = StrategyKind::kRandom, .executions = kExecutions, .detect_races = false});
  EXPECT_EQ(r.count(Verdict::kPass), kExecutions);
}

TEST(RaceDetectorScenarioTest, WithoutAWatchedLogTheRaceIsTheVerdict) {
  const Scenario s{"plain-pair", [](Execution& e) {
                     auto& x = e.make<Shared<int>>(0);
                     e.cpu([&x] { x.store_plain(1); });
                     e.cpu([&x] { (void)x.load_plain(); });
                   }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kRandom, .executions = 20});
  EXPECT_EQ(r.count(Verdict::kViolation), 20u);  // unordered in either order
  ASSERT_TRUE(r.first_failure);
  EXPECT_NE(r.first_failure->message.find("data race"), std::string::npos) << r.first_failure->message;
}

// --- the engine: a `plain` PTE write against another CPU's hardware walk --

// CPU 0 rewrites the PTE mapping a struct page (the same value: nothing
// tears, only the access is at stake) with the machine's PTE policy; CPU 1
// reads a field of that struct page, a TLB miss, so its MMU walks the page
// tables with single-copy-atomic loads, consume-ordered (the address
// dependency of each level on the last: engine/mmu.h, hw_read).
Scenario pte_write_vs_walk(PteAccess policy) {
  return Scenario{"pte-write-vs-walk", [policy](Execution& e) {
                    MachineConfig config;
                    config.memory_bytes = MachineConfig::kMinMemory;
                    config.nr_cpus = 2;
                    config.pte_access = policy;
                    auto& m = e.make<Machine>(config);
                    e.watch(m.violations());
                    const Pfn pfn(5000);
                    e.cpu([&m, pfn, policy] {
                      const SoftWalk w = m.page_tables().walk(pfn_to_page(pfn));
                      m.page_tables().write_entry(w.entry, w.value, policy);
                    });
                    e.cpu([&m, pfn] { (void)m.pages().load(pfn, PageWord::kFlags); });
                  }};
}

// A plain store exists only with plain-torn (32-bit page tables): with
// --pte-access plain, set_pte_at() is one WRITE_ONCE() store.
TEST(RaceDetectorEngineTest, APlainPteWriteRacingAnotherCpusTlbMissWalkIsReported) {
  const Report r = explore(pte_write_vs_walk(PteAccess::kPlainTorn),
                           Options{.strategy = StrategyKind::kRandom, .executions = 20});
  EXPECT_EQ(r.count(Verdict::kViolation), 20u);  // concurrent in every order
  ASSERT_TRUE(r.first_failure);
  const std::string& msg = r.first_failure->message;
  EXPECT_NE(msg.find("data-race"), std::string::npos) << msg;
  EXPECT_NE(msg.find("plain 4-byte store"), std::string::npos) << msg;
  EXPECT_NE(msg.find("consume 8-byte atomic load"), std::string::npos) << msg;
}

TEST(RaceDetectorEngineTest, NothingIsReportedForOnce) {
  const Report r = explore(pte_write_vs_walk(PteAccess::kOnce),
                           Options{.strategy = StrategyKind::kRandom, .executions = 20});
  EXPECT_EQ(r.count(Verdict::kPass), 20u) << (r.first_failure ? r.first_failure->message : "");
}

// Two CPUs rewrite and read the same PTE with plain accesses (software
// walkers, as set_pte_at() and a *ptep read), under init_mm's locks or not.
enum class PteLock { kNone, kPageTableLock, kMmapLockWriteAndRead };

Scenario plain_pte_writer_and_reader(PteLock lock) {
  return Scenario{"plain-pte-writer-reader", [lock](Execution& e) {
                    MachineConfig config;
                    config.memory_bytes = MachineConfig::kMinMemory;
                    config.nr_cpus = 2;
                    config.pte_access = PteAccess::kPlainTorn;
                    auto& m = e.make<Machine>(config);
                    e.watch(m.violations());
                    const PhysAddr pte = m.page_tables().walk(pfn_to_page(Pfn(5000))).entry;
                    InitMm& mm = m.page_tables().init_mm();
                    e.cpu([&m, &mm, pte, lock] {
                      const PteValue v = m.page_tables().walk(pfn_to_page(Pfn(5000))).value;
                      if (lock == PteLock::kPageTableLock) {
                        SpinLockGuard g(mm.page_table_lock);
                        m.page_tables().write_entry(pte, v, PteAccess::kPlainTorn);
                      } else if (lock == PteLock::kMmapLockWriteAndRead) {
                        WriteGuard g(mm.mmap_lock);
                        m.page_tables().write_entry(pte, v, PteAccess::kPlainTorn);
                      } else {
                        m.page_tables().write_entry(pte, v, PteAccess::kPlainTorn);
                      }
                    });
                    e.cpu([&m, &mm, pte, lock] {
                      if (lock == PteLock::kPageTableLock) {
                        SpinLockGuard g(mm.page_table_lock);
                        (void)m.page_tables().read_entry(pte, PteAccess::kPlainTorn);
                      } else if (lock == PteLock::kMmapLockWriteAndRead) {
                        ReadGuard g(mm.mmap_lock);
                        (void)m.page_tables().read_entry(pte, PteAccess::kPlainTorn);
                      } else {
                        (void)m.page_tables().read_entry(pte, PteAccess::kPlainTorn);
                      }
                    });
                  }};
}

TEST(RaceDetectorEngineTest, PlainPteAccessesRaceUnlessInitMmsLocksOrderThem) {
  const Report racy = explore(plain_pte_writer_and_reader(PteLock::kNone),
                              Options{.strategy = StrategyKind::kRandom, .executions = 20});
  EXPECT_EQ(racy.count(Verdict::kViolation), 20u);
  for (const PteLock lock : {PteLock::kPageTableLock, PteLock::kMmapLockWriteAndRead}) {
    const Report r = explore(plain_pte_writer_and_reader(lock), Options{.strategy = StrategyKind::kRandom,
                                                                        .executions = 50});
    EXPECT_EQ(r.count(Verdict::kPass), 50u) << static_cast<int>(lock) << ": "
                                            << (r.first_failure ? r.first_failure->message : "");
  }
}

TEST(RaceDetectorEngineTest, DetectionDoesNotChangeTheTrace) {
  for (const bool detect : {true, false}) {
    const Report a = explore(pte_write_vs_walk(PteAccess::kOnce),
                             Options{.strategy = StrategyKind::kRandom, .seed = 7, .executions = 1, .detect_races = detect});
    const Report b = explore(pte_write_vs_walk(PteAccess::kOnce),
                             Options{.strategy = StrategyKind::kRandom, .seed = 7, .executions = 1, .detect_races = !detect});
    EXPECT_EQ(a.last.trace_hash, b.last.trace_hash);
  }
}

}  // namespace
}  // namespace hvo::sched
