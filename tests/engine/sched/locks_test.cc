// The engine's locks under the controlled scheduler: contention blocks and
// resumes without deadlock; a real ABBA deadlock is found and reported.
#include <gtest/gtest.h>

#include "engine/locks/lockdep.h"
#include "engine/locks/rcu.h"
#include "engine/locks/spinlock.h"
#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"
#include "engine/tsan_annotations.h"
#include "engine/violation.h"

#ifdef HVO_TSAN
// The ABBA scenarios below take two simulated locks in both orders on
// purpose, and TSan's own lock-order detector (which sees the locks through
// their __tsan_mutex annotations) would report exactly that. Here lockdep
// and the scheduler's deadlock detection are what is under test; TSan keeps
// checking data races and the fiber switches. Only this test binary.
extern "C" const char* __tsan_default_options() { return "detect_deadlocks=0"; }
#endif

namespace hvo::sched {
namespace {

struct LockState {
  ViolationLog log;
  Lockdep dep{log};
  LockClass& a_cls = dep.register_class("lock_a", LockKind::kSpin);
  LockClass& b_cls = dep.register_class("lock_b", LockKind::kSpin);
  SpinLock a{a_cls};
  SpinLock b{b_cls};
  int counter = 0;  // plain: the lock orders the increments
};

constexpr int kIncrements = 5;

Scenario contended_counter() {
  return Scenario{"spinlock-counter", [](Execution& e) {
                    auto& s = e.make<LockState>();
                    e.watch(s.log);
                    for (int c = 0; c < 2; ++c) {
                      e.cpu([&s] {
                        for (int i = 0; i < kIncrements; ++i) {
                          SpinLockGuard g(s.a);
                          const int v = s.counter;
                          sched_point(SchedEvent::kAtomic);  // a chance to be preempted inside
                          s.counter = v + 1;
                        }
                      });
                    }
                    e.check([&s] { return s.counter == 2 * kIncrements ? Verdict::kPass : Verdict::kViolation; });
                  }};
}

TEST(LocksTest, TwoCpusContendingOnASpinLockNeverDeadlockAndCountRight) {
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
    const Report r = explore(contended_counter(), Options{.strategy = k, .executions = 500, .max_steps = 100'000});
    EXPECT_EQ(r.count(Verdict::kPass), 500u) << to_string(k) << ": "
                                             << (r.first_failure ? r.first_failure->message : "");
  }
  const Report r = explore(contended_counter(),
                           Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 2});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kPass), r.executions) << (r.first_failure ? r.first_failure->message : "");
  std::printf("spinlock counter, bounded P=2: %llu schedules\n", static_cast<unsigned long long>(r.executions));
}

// The lock really excludes: without it the same increments lose updates,
// which the search finds (so the test above can fail).
TEST(LocksTest, WithoutTheLockTheSearchFindsALostUpdate) {
  Scenario racy{"no-lock-counter", [](Execution& e) {
                  auto& s = e.make<LockState>();
                  for (int c = 0; c < 2; ++c) {
                    e.cpu([&s] {
                      for (int i = 0; i < kIncrements; ++i) {
                        const int v = s.counter;
                        sched_point(SchedEvent::kAtomic);
                        s.counter = v + 1;
                      }
                    });
                  }
                  e.check([&s] { return s.counter == 2 * kIncrements ? Verdict::kPass : Verdict::kViolation; });
                }, Verdict::kViolation};
  EXPECT_TRUE(explore(racy, Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 1}).as_expected());
}

// CPU 0 takes A then B, CPU 1 takes B then A.
Scenario abba() {
  return Scenario{"abba",
                  [](Execution& e) {
                    auto& s = e.make<LockState>();
                    e.watch(s.log);
                    e.cpu([&s] {
                      SpinLockGuard ga(s.a);
                      SpinLockGuard gb(s.b);
                      ++s.counter;
                    });
                    e.cpu([&s] {
                      SpinLockGuard gb(s.b);
                      SpinLockGuard ga(s.a);
                      ++s.counter;
                    });
                  },
                  Verdict::kDeadlock};
}

TEST(LocksTest, BoundedSearchReportsTheAbbaDeadlock) {
  const Report r = explore(abba(), Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 1});
  EXPECT_TRUE(r.exhausted);
  EXPECT_TRUE(r.as_expected());
  EXPECT_GT(r.count(Verdict::kDeadlock), 0u);
  // The schedules that do not deadlock run the two orders one after the
  // other, and lockdep reports the inversion: every schedule fails.
  EXPECT_EQ(r.count(Verdict::kDeadlock) + r.count(Verdict::kViolation), r.executions);
  EXPECT_EQ(r.count(Verdict::kPass), 0u);
  ASSERT_TRUE(r.first_failure.has_value());
  std::printf("abba, bounded P=1: %llu schedules, %llu deadlocks, %llu lock-order violations\n",
              static_cast<unsigned long long>(r.executions),
              static_cast<unsigned long long>(r.count(Verdict::kDeadlock)),
              static_cast<unsigned long long>(r.count(Verdict::kViolation)));
}

TEST(LocksTest, WithoutPreemptionsTheAbbaScheduleCannotDeadlock) {
  // P = 0 runs each CPU to its end: no deadlock, only lockdep's report.
  const Report r = explore(abba(), Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 0});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kDeadlock), 0u);
  EXPECT_FALSE(r.as_expected());
}

TEST(LocksTest, TheDeadlockIsRecordedInTheScenariosLog) {
  // Each lock in its own lockdep domain, so that lockdep cannot see the
  // inversion: the schedules that do not deadlock pass, and the first
  // failure is the deadlock.
  struct TwoDomains {
    ViolationLog log;
    Lockdep dep_a{log};
    Lockdep dep_b{log};
    SpinLock a{dep_a.register_class("lock_a", LockKind::kSpin)};
    SpinLock b{dep_b.register_class("lock_b", LockKind::kSpin)};
  };
  ViolationKind kind = ViolationKind::kLeak;
  std::string message;
  auto build = [](Execution& e) -> TwoDomains& {
    auto& st = e.make<TwoDomains>();
    e.watch(st.log);
    e.cpu([&st] {
      SpinLockGuard ga(st.a);
      SpinLockGuard gb(st.b);
    });
    e.cpu([&st] {
      SpinLockGuard gb(st.b);
      SpinLockGuard ga(st.a);
    });
    return st;
  };
  Scenario s{"abba-two-domains", [&](Execution& e) { build(e); }, Verdict::kDeadlock};
  const Report r = explore(s, Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 1});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kDeadlock) + r.count(Verdict::kPass), r.executions);
  ASSERT_TRUE(r.first_failure.has_value());
  ASSERT_EQ(r.first_failure->verdict, Verdict::kDeadlock);
  EXPECT_EQ(r.first_failure->message, "deadlock: every CPU is blocked");

  // Replay it, reading the log as the execution is torn down.
  struct Reader {
    ViolationLog* log;
    ViolationKind* kind;
    std::string* message;
    ~Reader() {
      const auto v = log->snapshot();
      if (!v.empty()) {
        *kind = v.back().kind;
        *message = v.back().message;
      }
    }
  };
  Scenario probe{"abba-two-domains-probe", [&](Execution& e) {
                   TwoDomains& st = build(e);
                   e.make<Reader>(&st.log, &kind, &message);
                 }};
  const ExecutionResult again = replay(probe, r.first_failure->decisions);
  EXPECT_EQ(again.verdict, Verdict::kDeadlock);
  EXPECT_EQ(again.trace_hash, r.first_failure->trace_hash);
  EXPECT_EQ(kind, ViolationKind::kDeadlock);
  EXPECT_EQ(message, "deadlock: every CPU is blocked");
}

TEST(LocksTest, SynchronizeRcuWaitsForAReaderUnderEverySchedule) {
  Scenario s{"rcu", [](Execution& e) {
               struct State {
                 ViolationLog log;
                 Lockdep dep{log};
                 Rcu rcu{dep, 2};
                 Shared<int> published{1};
                 bool reader_saw_freed = false;
                 bool freed = false;
               };
               auto& st = e.make<State>();
               e.watch(st.log);
               e.cpu([&st] {  // reader
                 st.rcu.rcu_read_lock();
                 if (st.published.load(std::memory_order_acquire) == 1) {
                   sched_point(SchedEvent::kAtomic);  // use the object a while
                   if (st.freed) st.reader_saw_freed = true;
                 }
                 st.rcu.rcu_read_unlock();
               });
               e.cpu([&st] {  // updater
                 st.published.store(0, std::memory_order_release);
                 st.rcu.synchronize_rcu();
                 st.freed = true;
               });
               e.check([&st] { return st.reader_saw_freed ? Verdict::kViolation : Verdict::kPass; });
             }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kBounded, .executions = 0, .preemptions = 3});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kPass), r.executions) << (r.first_failure ? r.first_failure->message : "");
  EXPECT_EQ(r.count(Verdict::kDeadlock), 0u);
}

}  // namespace
}  // namespace hvo::sched
