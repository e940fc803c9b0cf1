// The scheduler's mechanics: CPUs as tasks, priming, early ends (step bound,
// violation, exception), per-execution state, reuse across executions.
#include "engine/sched/scheduler.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"
#include "engine/task.h"
#include "engine/violation.h"

namespace hvo::sched {
namespace {

TEST(SchedulerTest, EachCpuRunsAsItsOwnTaskWithTheSchedulerAsHook) {
  std::vector<unsigned> seen_cpu;
  bool hooked = true;
  Scenario s{"who", [&](Execution& e) {
               for (unsigned i = 0; i < 3; ++i) {
                 e.cpu([&, i] {
                   hooked = hooked && current().hook != nullptr;
                   seen_cpu.push_back(current().cpu.value() * 10 + i);
                 });
               }
             }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kRandom, .executions = 1});
  EXPECT_EQ(r.count(Verdict::kPass), 1u);
  EXPECT_TRUE(hooked);
  // Body i runs as CPU i (current().cpu == i).
  ASSERT_EQ(seen_cpu.size(), 3u);
  for (unsigned v : seen_cpu) EXPECT_EQ(v / 10, v % 10);
  // Outside an execution the thread's own task is back, with no hook.
  EXPECT_EQ(current().hook, nullptr);
}

TEST(SchedulerTest, EveryInterleavingOfTwoByTwoStepsIsReachableByRandom) {
  std::set<std::string> orders;
  Scenario s{"orders", [&](Execution& e) {
               struct State {
                 Shared<int> x{0};
                 std::string order;
               };
               auto& st = e.make<State>();
               e.cpu([&st] {
                 st.x.store(1);
                 st.order += 'a';
                 st.x.store(2);
                 st.order += 'a';
               });
               e.cpu([&st] {
                 st.x.store(3);
                 st.order += 'b';
                 st.x.store(4);
                 st.order += 'b';
               });
               e.check([&st, &orders] {
                 orders.insert(st.order);
                 return Verdict::kPass;
               });
             }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kRandom, .seed = 7, .executions = 200});
  EXPECT_EQ(r.count(Verdict::kPass), 200u);
  // C(4, 2) = 6 interleavings of two sequences of two accesses.
  EXPECT_EQ(orders, (std::set<std::string>{"aabb", "abab", "abba", "baab", "baba", "bbaa"}));
}

struct DtorCounter {
  explicit DtorCounter(int& n) : n_(n) {}
  ~DtorCounter() { ++n_; }
  int& n_;
};

TEST(SchedulerTest, StepBoundEndsALongExecutionAndUnwindsEveryCpu) {
  int unwound = 0;
  Scenario s{"spin", [&](Execution& e) {
               auto& flag = e.make<Shared<int>>(0);
               for (int i = 0; i < 2; ++i) {
                 e.cpu([&] {
                   DtorCounter d(unwound);      // runs when the CPU is unwound
                   while (flag.load() == 0) {  // nobody ever sets it
                   }
                 });
               }
             }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kRandom, .executions = 3, .max_steps = 500});
  EXPECT_EQ(r.count(Verdict::kStepBound), 3u);
  EXPECT_EQ(r.last.message, "step bound reached");
  EXPECT_EQ(r.last.failure_step, 501u);
  EXPECT_FALSE(r.first_failure.has_value()) << "a step bound is not a finding";
  EXPECT_EQ(unwound, 6) << "both CPUs of each execution were unwound";
  EXPECT_TRUE(r.as_expected());
}

TEST(SchedulerTest, ObjectsOfAnExecutionAreFreshAndDestroyedAfterIt) {
  int destroyed = 0;
  int constructed = 0;
  Scenario s{"fresh", [&](Execution& e) {
               ++constructed;
               auto& x = e.make<Shared<int>>(0);
               e.make<DtorCounter>(destroyed);
               e.cpu([&x] { x.fetch_add(1); });
               e.cpu([&x] { x.fetch_add(1); });
               e.check([&x] { return x.peek() == 2 ? Verdict::kPass : Verdict::kViolation; });
             }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kPct, .executions = 50});
  EXPECT_EQ(r.count(Verdict::kPass), 50u);
  EXPECT_EQ(constructed, 50);
  EXPECT_EQ(destroyed, 50);
}

TEST(SchedulerTest, ARecordedViolationStopsTheExecutionAtItsStep) {
  Scenario s{"record", [](Execution& e) {
               struct State {
                 ViolationLog log;
                 Shared<int> x{0};
                 int after = 0;  // steps CPU 0 made after recording
               };
               auto& st = e.make<State>();
               e.watch(st.log);
               e.cpu([&st] {
                 st.x.store(1);
                 st.log.record(make_violation(ViolationKind::kBugOn, "BUG_ON(x == 1)"));
                 st.x.store(2);  // the scheduler stops the execution here
                 ++st.after;
                 st.x.store(3);
                 ++st.after;
               });
               e.check([&st] { return st.after == 0 ? Verdict::kPass : Verdict::kViolation; });
             }};
  const Report r = explore(s, Options{.executions = 1});
  ASSERT_TRUE(r.first_failure.has_value());
  EXPECT_EQ(r.first_failure->verdict, Verdict::kViolation);
  // Steps: 1 = the first store's point (priming), 2 = the second store's
  // point, where the scheduler sees the new violation.
  EXPECT_EQ(r.first_failure->failure_step, 2u);
  EXPECT_EQ(r.first_failure->failure_cpu, 0);
  EXPECT_NE(r.first_failure->message.find("BUG_ON(x == 1)"), std::string::npos) << r.first_failure->message;
  EXPECT_EQ(r.first_failure->steps, 2u);
}

TEST(SchedulerTest, WithoutStopOnViolationTheExecutionRunsToItsEnd) {
  Scenario s{"record", [](Execution& e) {
               struct State {
                 ViolationLog log;
                 Shared<int> x{0};
               };
               auto& st = e.make<State>();
               e.watch(st.log);
               e.cpu([&st] {
                 st.x.store(1);
                 st.log.record(make_violation(ViolationKind::kBugOn, "first"));
                 st.x.store(2);
                 st.x.store(3);
               });
             }};
  const Report r = explore(s, Options{.executions = 1, .stop_on_violation = false});
  ASSERT_TRUE(r.first_failure.has_value());
  EXPECT_EQ(r.first_failure->verdict, Verdict::kViolation);
  EXPECT_EQ(r.first_failure->failure_step, 2u);
  EXPECT_EQ(r.first_failure->steps, 4u);  // 3 points and the finish
}

TEST(SchedulerTest, AnExceptionFromABodyReachesTheCallerAndTheSchedulerStaysUsable) {
  int unwound = 0;
  Scenario bad{"throws", [&](Execution& e) {
                 auto& x = e.make<Shared<int>>(0);
                 e.cpu([&] {
                   DtorCounter d(unwound);
                   x.store(1);  // primed up to here, then unwound: it never finishes
                   x.store(2);
                 });
                 e.cpu([] { throw std::runtime_error("scenario bug"); });
               }};
  EXPECT_THROW((void)explore(bad, Options{.strategy = StrategyKind::kBounded, .preemptions = 0}),
               std::runtime_error);
  EXPECT_EQ(unwound, 1) << "the other CPU was unwound before the exception left explore()";
  EXPECT_EQ(current().hook, nullptr);
  // And a fresh exploration on this thread works.
  Scenario good{"ok", [](Execution& e) {
                  auto& x = e.make<Shared<int>>(0);
                  e.cpu([&x] { x.store(1); });
                  e.cpu([&x] { x.store(2); });
                }};
  EXPECT_EQ(explore(good, Options{.executions = 10}).count(Verdict::kPass), 10u);
}

TEST(SchedulerTest, ACpuThatOnlyEverBlocksIsADeadlock) {
  Scenario s{"wait-forever", [](Execution& e) {
               struct State {
                 ViolationLog log;
                 Shared<int> go{0};
               };
               auto& st = e.make<State>();
               e.watch(st.log);
               // A wait loop the way the engine writes them: check, then
               // sched_blocked(); nobody ever sets go.
               e.cpu([&st] {
                 while (st.go.load(std::memory_order_acquire) == 0) sched_blocked(SchedEvent::kAtomic);
               });
               e.cpu([&st] { (void)st.go.load(); });
             }};
  const Report r = explore(s, Options{.strategy = StrategyKind::kBounded, .preemptions = 2});
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.count(Verdict::kDeadlock), r.executions);
  ASSERT_TRUE(r.first_failure.has_value());
  EXPECT_EQ(r.first_failure->message, "deadlock: every CPU is blocked");
}

TEST(SchedulerTest, ABlockedCpuIsPickedAgainOnlyAfterAnotherMadeProgress) {
  // CPU 0 waits for CPU 1's flag; CPU 1 makes 20 steps first. Whatever the
  // strategy, the waiter retries at most once per step of CPU 1 (+1), so it
  // cannot starve CPU 1 (livelock) and the execution ends long before the
  // step bound.
  Scenario s{"waiter", [](Execution& e) {
               struct State {
                 Shared<int> flag{0};
                 Shared<int> work{0};
                 int retries = 0;
               };
               auto& st = e.make<State>();
               e.cpu([&st] {
                 while (st.flag.load(std::memory_order_acquire) == 0) {
                   ++st.retries;
                   sched_blocked(SchedEvent::kAtomic, st.flag.address());
                 }
               });
               e.cpu([&st] {
                 for (int i = 0; i < 20; ++i) st.work.fetch_add(1);
                 st.flag.store(1, std::memory_order_release);
               });
               e.check([&st] { return st.retries <= 22 ? Verdict::kPass : Verdict::kViolation; });
             }};
  for (StrategyKind k : {StrategyKind::kRandom, StrategyKind::kPct}) {
    const Report r = explore(s, Options{.strategy = k, .executions = 300, .max_steps = 10'000});
    EXPECT_EQ(r.count(Verdict::kPass), 300u) << to_string(k);
  }
}

}  // namespace
}  // namespace hvo::sched
