// Rcu: nesting, the grace-period guarantee (waits for readers that were
// inside when it started, not for later ones), publication safety under
// TSan, and the lock rules around it.
#include "engine/locks/rcu.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "engine/task.h"
#include "tests/engine/eventually.h"
#include "engine/violation.h"

namespace hvo {
namespace {

using testing::eventually;

// Counts the times a task reported itself waiting for a grace period.
class GraceWaitCounter final : public ScheduleHook {
 public:
  void point(const SchedulePoint&) override {}
  void blocked(const SchedulePoint& p) override {
    if (p.event == SchedEvent::kSynchronizeRcu) waits.fetch_add(1);
    std::this_thread::yield();
  }
  std::atomic<uint64_t> waits{0};
};

// Holds a task inside sched_blocked(kSynchronizeRcu) while the gate is
// closed: the test decides what happens between two polls of the grace
// period, as a controlled scheduler would.
class GraceWaitGate final : public ScheduleHook {
 public:
  void point(const SchedulePoint&) override {}
  void blocked(const SchedulePoint& p) override {
    if (p.event != SchedEvent::kSynchronizeRcu) return;
    waits.fetch_add(1);
    while (closed.load()) std::this_thread::yield();
  }
  std::atomic<uint64_t> waits{0};
  std::atomic<bool> closed{true};
};

class RcuTest : public ::testing::Test {
 protected:
  ViolationLog log_;
  Lockdep dep_{log_};
  Rcu rcu_{dep_, 4};
};

// Calls AssertReadHeld() in its own scope, so that the static analysis does
// not take the runtime check outside a read section as one in the caller.
void assert_read_held_at_runtime(const Rcu& rcu) { rcu.AssertReadHeld(); }

// Nested read sections happen across functions: a caller in a read section
// calls a helper that enters one too.
int nested_depth(Rcu& rcu) {
  RcuReadGuard inner(rcu);
  return current().rcu_read_depth;
}

TEST_F(RcuTest, ReadSectionsNest) {
  Task t{CpuId(0)};
  TaskScope s(t);
  EXPECT_FALSE(rcu_.read_lock_held());
  {
    RcuReadGuard outer(rcu_);
    EXPECT_EQ(nested_depth(rcu_), 2);
    EXPECT_EQ(t.rcu_read_depth, 1);
    EXPECT_TRUE(rcu_.read_lock_held());
    rcu_.AssertReadHeld();
  }
  EXPECT_EQ(t.rcu_read_depth, 0);
  EXPECT_EQ(log_.count(), 0U);
  assert_read_held_at_runtime(rcu_);
  EXPECT_EQ(log_.count(ViolationKind::kLockNotHeld), 1U);
}

// Deliberately unbalanced: the analysis would (rightly) reject it.
void unlock_without_lock(Rcu& rcu) NO_THREAD_SAFETY_ANALYSIS { rcu.rcu_read_unlock(); }

TEST_F(RcuTest, UnlockWithoutLockIsAnImbalance) {
  Task t{CpuId(0)};
  TaskScope s(t);
  unlock_without_lock(rcu_);
  EXPECT_EQ(log_.count(ViolationKind::kLockImbalance), 1U);
  EXPECT_EQ(t.rcu_read_depth, 0);
}

TEST_F(RcuTest, MightSleepInsideAReadSectionIsSleepInAtomic) {
  Task t{CpuId(0)};
  TaskScope s(t);
  dep_.might_sleep("schedule");
  EXPECT_EQ(log_.count(), 0U);
  {
    RcuReadGuard r(rcu_);
    dep_.might_sleep("schedule");
  }
  EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1U);
  const std::vector<Violation> v = log_.snapshot();
  EXPECT_NE(v.at(0).message.find("rcu_read_lock nesting 1"), std::string::npos) << v.at(0).message;
}

TEST_F(RcuTest, SynchronizeRcuCountsGracePeriods) {
  Task t{CpuId(0)};
  TaskScope s(t);
  EXPECT_EQ(rcu_.grace_periods(), 0U);
  rcu_.synchronize_rcu();
  rcu_.synchronize_rcu();
  EXPECT_EQ(rcu_.grace_periods(), 2U);
  EXPECT_EQ(log_.count(), 0U);
}

// A is inside a read section; B's synchronize_rcu() must not return until A
// leaves. C enters after B's grace period started; B must return while C is
// still inside.
TEST_F(RcuTest, GracePeriodWaitsForEarlierReadersOnly) {
  std::atomic<bool> a_in{false};
  std::atomic<bool> a_leave{false};
  std::atomic<bool> a_left{false};
  std::atomic<bool> b_returned{false};
  std::atomic<bool> c_in{false};
  std::atomic<bool> c_leave{false};
  GraceWaitCounter b_hook;

  std::thread a([&] {
    Task t{CpuId(0)};
    TaskScope s(t);
    {
      RcuReadGuard r(rcu_);
      a_in.store(true);
      while (!a_leave.load()) std::this_thread::yield();
    }
    a_left.store(true);
  });
  EXPECT_TRUE(eventually([&] { return a_in.load(); }));

  std::thread b([&] {
    Task t{CpuId(1)};
    t.hook = &b_hook;
    TaskScope s(t);
    rcu_.synchronize_rcu();
    b_returned.store(true);
  });
  // B's grace period has started and B is waiting (for A).
  EXPECT_TRUE(eventually([&] { return b_hook.waits.load() >= 3; }));
  EXPECT_FALSE(b_returned.load());

  std::thread c([&] {
    Task t{CpuId(2)};
    TaskScope s(t);
    RcuReadGuard r(rcu_);
    c_in.store(true);
    while (!c_leave.load()) std::this_thread::yield();
  });
  EXPECT_TRUE(eventually([&] { return c_in.load(); }));
  const uint64_t waits_before = b_hook.waits.load();
  EXPECT_TRUE(eventually([&] { return b_hook.waits.load() >= waits_before + 3; }));
  EXPECT_FALSE(b_returned.load()) << "synchronize_rcu returned while a pre-existing reader was inside";

  a_leave.store(true);
  // B returns although C is still inside.
  const bool returned_with_c_inside = eventually([&] { return b_returned.load(); });
  EXPECT_TRUE(returned_with_c_inside) << "synchronize_rcu waited for a reader that started after it";
  EXPECT_TRUE(a_left.load());
  EXPECT_TRUE(c_in.load());
  c_leave.store(true);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(rcu_.grace_periods(), 1U);
  EXPECT_EQ(log_.count(), 0U);
}

// Two tasks sharing one CPU id (as unbound boot tasks do): a reader that
// enters on the CPU after the grace period started changes the CPU's slot,
// but must not make synchronize_rcu() forget the earlier reader still there.
TEST_F(RcuTest, ALaterReaderOnTheSameCpuDoesNotHideAnEarlierOne) {
  std::atomic<bool> a_in{false};
  std::atomic<bool> a_leave{false};
  std::atomic<bool> c_in{false};
  std::atomic<bool> c_leave{false};
  std::atomic<bool> b_returned{false};
  GraceWaitCounter b_hook;
  auto reader = [&](std::atomic<bool>& in, std::atomic<bool>& leave) {
    Task t{CpuId(3)};
    TaskScope s(t);
    RcuReadGuard r(rcu_);
    in.store(true);
    while (!leave.load()) std::this_thread::yield();
  };
  std::thread a(reader, std::ref(a_in), std::ref(a_leave));
  EXPECT_TRUE(eventually([&] { return a_in.load(); }));
  std::thread b([&] {
    Task t{CpuId(1)};
    t.hook = &b_hook;
    TaskScope s(t);
    rcu_.synchronize_rcu();
    b_returned.store(true);
  });
  EXPECT_TRUE(eventually([&] { return b_hook.waits.load() >= 3; }));
  std::thread c(reader, std::ref(c_in), std::ref(c_leave));
  EXPECT_TRUE(eventually([&] { return c_in.load(); }));
  const uint64_t waits_before = b_hook.waits.load();
  EXPECT_TRUE(eventually([&] { return b_hook.waits.load() >= waits_before + 3; }));
  EXPECT_FALSE(b_returned.load()) << "synchronize_rcu returned while a pre-existing reader was inside";
  a_leave.store(true);
  c_leave.store(true);
  a.join();
  c.join();
  b.join();
  EXPECT_TRUE(b_returned.load());
  EXPECT_EQ(log_.count(), 0U);
}

// The earlier reader leaves and a later one enters on the same CPU while the
// grace period is not looking: the CPU passed through a quiescent state, so
// synchronize_rcu() must return although the CPU's count is not zero.
TEST_F(RcuTest, AReaderThatReplacesAnEarlierOneOnTheSameCpuIsNotWaitedFor) {
  std::atomic<bool> a_in{false};
  std::atomic<bool> a_leave{false};
  std::atomic<bool> a_left{false};
  std::atomic<bool> c_in{false};
  std::atomic<bool> c_leave{false};
  std::atomic<bool> b_returned{false};
  GraceWaitGate b_gate;
  std::thread a([&] {
    Task t{CpuId(3)};
    TaskScope s(t);
    {
      RcuReadGuard r(rcu_);
      a_in.store(true);
      while (!a_leave.load()) std::this_thread::yield();
    }
    a_left.store(true);
  });
  EXPECT_TRUE(eventually([&] { return a_in.load(); }));
  std::thread b([&] {
    Task t{CpuId(1)};
    t.hook = &b_gate;
    TaskScope s(t);
    rcu_.synchronize_rcu();
    b_returned.store(true);
  });
  EXPECT_TRUE(eventually([&] { return b_gate.waits.load() >= 1; }));  // B parked between polls
  a_leave.store(true);
  EXPECT_TRUE(eventually([&] { return a_left.load(); }));
  std::thread c([&] {
    Task t{CpuId(3)};
    TaskScope s(t);
    RcuReadGuard r(rcu_);
    c_in.store(true);
    while (!c_leave.load()) std::this_thread::yield();
  });
  EXPECT_TRUE(eventually([&] { return c_in.load(); }));
  b_gate.closed.store(false);
  const bool returned_with_c_inside = eventually([&] { return b_returned.load(); });
  EXPECT_TRUE(returned_with_c_inside) << "synchronize_rcu waited for a reader that started after it";
  c_leave.store(true);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(RcuTest, SynchronizeRcuInsideAReadSectionIsReportedAndDoesNotHang) {
  Task t{CpuId(0)};
  TaskScope s(t);
  RcuReadGuard r(rcu_);
  rcu_.synchronize_rcu();
  EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1U);
  EXPECT_EQ(rcu_.grace_periods(), 1U);
}

// The use RCU exists for: an updater unpublishes an object, waits for a
// grace period and frees it, while readers dereference whatever is
// published. Under TSan a broken grace period shows as a heap-use-after-free
// race; without it, as a read of the poisoned value.
TEST_F(RcuTest, ObjectsAreFreedOnlyAfterTheirReadersLeave) {
  struct Obj {
    int value = 42;
  };
  constexpr int kUpdates = 300;
  std::atomic<Obj*> published{new Obj};
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  auto reader = [&](unsigned cpu) {
    Task t{CpuId(cpu)};
    TaskScope s(t);
    while (!stop.load(std::memory_order_relaxed)) {
      RcuReadGuard r(rcu_);
      // rcu_dereference(): an acquire load (consume in the kernel).
      const Obj* o = published.load(std::memory_order_acquire);
      if (o->value != 42) bad_reads.fetch_add(1);
    }
  };
  std::thread r1(reader, 1U);
  std::thread r2(reader, 2U);
  {
    Task t{CpuId(0)};
    TaskScope s(t);
    for (int i = 0; i < kUpdates; ++i) {
      // rcu_assign_pointer(): a release store.
      Obj* old = published.exchange(new Obj, std::memory_order_acq_rel);
      rcu_.synchronize_rcu();
      old->value = -1;  // poison: a reader still holding `old` would see it
      delete old;
    }
  }
  stop.store(true);
  r1.join();
  r2.join();
  delete published.load();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(rcu_.grace_periods(), static_cast<uint64_t>(kUpdates));
}

}  // namespace
}  // namespace hvo
