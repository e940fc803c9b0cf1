// SpinLock: mutual exclusion on real threads, lockdep assertions, trylock,
// atomic context, and the schedule points a controlled scheduler relies on.
#include "engine/locks/spinlock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/task.h"
#include "tests/engine/eventually.h"
#include "engine/violation.h"

namespace hvo {
namespace {

using testing::eventually;

// Records what a task's schedule points and waits are about.
class RecordingHook final : public ScheduleHook {
 public:
  void point(const SchedulePoint& p) override {
    if (points.size() < 64) points.push_back(p);
  }
  void blocked(const SchedulePoint& p) override {
    if (p.event == SchedEvent::kLockAcquire) lock_waits.fetch_add(1);
    std::this_thread::yield();
  }
  std::vector<SchedulePoint> points;  // read by the owning thread only
  std::atomic<uint64_t> lock_waits{0};
};

class SpinLockTest : public ::testing::Test {
 protected:
  ViolationLog log_;
  Lockdep dep_{log_};
  LockClass& cls_ = dep_.register_class("zone->lock", LockKind::kSpin);
  SpinLock lock_{cls_};
};

TEST_F(SpinLockTest, TwoThreadsIncrementACounterUnderTheLock) {
  constexpr int kIters = 50000;
  int counter = 0;  // plain: TSan checks that the lock orders the increments
  auto work = [&](unsigned cpu) {
    Task t{CpuId(cpu)};
    TaskScope s(t);
    for (int i = 0; i < kIters; ++i) {
      SpinLockGuard g(lock_);
      ++counter;
    }
  };
  std::thread t1(work, 0U);
  std::thread t2(work, 1U);
  t1.join();
  t2.join();
  EXPECT_EQ(counter, 2 * kIters);
  EXPECT_EQ(log_.count(), 0U);
}

// Calls AssertHeld() in its own scope, so that the static analysis does not
// take the runtime check of an unheld lock as a hold in the caller.
void assert_held_at_runtime(const SpinLock& l) { l.AssertHeld(); }

TEST_F(SpinLockTest, AssertHeldRecordsOnlyWhenNotHeld) {
  Task t{CpuId(0)};
  TaskScope s(t);
  assert_held_at_runtime(lock_);
  EXPECT_EQ(log_.count(ViolationKind::kLockNotHeld), 1U);
  {
    SpinLockGuard g(lock_);
    lock_.AssertHeld();
  }
  EXPECT_EQ(log_.count(), 1U);
  const std::vector<Violation> v = log_.snapshot();
  EXPECT_NE(v.at(0).message.find("lockdep_assert_held(\"zone->lock\")"), std::string::npos) << v.at(0).message;
}

TEST_F(SpinLockTest, AssertHeldRecordsWhenAnotherTaskHoldsIt) {
  std::atomic<bool> locked{false};
  std::atomic<bool> done{false};
  std::thread holder([&] {
    Task t{CpuId(1)};
    TaskScope s(t);
    SpinLockGuard g(lock_);
    locked.store(true);
    while (!done.load()) std::this_thread::yield();
  });
  EXPECT_TRUE(eventually([&] { return locked.load(); }));
  Task t{CpuId(0)};
  TaskScope s(t);
  assert_held_at_runtime(lock_);
  done.store(true);
  holder.join();
  EXPECT_EQ(log_.count(ViolationKind::kLockNotHeld), 1U);
}

TEST_F(SpinLockTest, AssertNotHeldRecordsOnlyWhenHeld) {
  Task t{CpuId(0)};
  TaskScope s(t);
  lock_.AssertNotHeld();
  EXPECT_EQ(log_.count(), 0U);
  {
    SpinLockGuard g(lock_);
    lock_.AssertNotHeld();
  }
  EXPECT_EQ(log_.count(ViolationKind::kLockHeld), 1U);
  EXPECT_EQ(log_.count(), 1U);
}

TEST_F(SpinLockTest, HoldingItIsAtomicContext) {
  Task t{CpuId(0)};
  TaskScope s(t);
  {
    SpinLockGuard g(lock_);
    EXPECT_EQ(t.preempt_count, 1);
    EXPECT_EQ(t.nr_held, 1);
    EXPECT_EQ(t.held[0].cls, &cls_);
    dep_.might_sleep("schedule");
  }
  EXPECT_EQ(t.preempt_count, 0);
  EXPECT_EQ(t.nr_held, 0);
  EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1U);
  dep_.might_sleep("schedule");
  EXPECT_EQ(log_.count(), 1U);
}

TEST_F(SpinLockTest, TryLockFailsWhileAnotherTaskHoldsIt) {
  std::atomic<bool> locked{false};
  std::atomic<bool> done{false};
  std::thread holder([&] {
    Task t{CpuId(1)};
    TaskScope s(t);
    SpinLockGuard g(lock_);
    locked.store(true);
    while (!done.load()) std::this_thread::yield();
  });
  EXPECT_TRUE(eventually([&] { return locked.load(); }));
  Task t{CpuId(0)};
  TaskScope s(t);
  const bool taken_while_held = lock_.try_lock();
  if (taken_while_held) lock_.unlock();
  EXPECT_FALSE(taken_while_held);
  done.store(true);
  holder.join();
  const bool taken_when_free = lock_.try_lock();
  if (taken_when_free) lock_.unlock();
  EXPECT_TRUE(taken_when_free);
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(SpinLockTest, AcquireAndReleaseAreSchedulePointsAtAStableAddress) {
  RecordingHook hook;
  Task t{CpuId(0)};
  t.hook = &hook;
  TaskScope s(t);
  { SpinLockGuard g(lock_); }
  ASSERT_EQ(hook.points.size(), 2U);
  EXPECT_EQ(hook.points[0].event, SchedEvent::kLockAcquire);
  EXPECT_EQ(hook.points[1].event, SchedEvent::kLockRelease);
  EXPECT_EQ(hook.points[0].address, lock_.sched_address());
  EXPECT_EQ(hook.points[1].address, lock_.sched_address());
  SpinLock second(cls_);
  EXPECT_NE(second.sched_address(), lock_.sched_address());
}

TEST_F(SpinLockTest, AWaiterYieldsToTheSchedulerUntilTheHolderUnlocks) {
  std::atomic<bool> entered{false};
  RecordingHook waiter_hook;
  Task holder{CpuId(0)};
  TaskScope s(holder);
  lock_.lock();
  std::thread waiter([&] {
    Task t{CpuId(1)};
    t.hook = &waiter_hook;
    TaskScope ws(t);
    SpinLockGuard g(lock_);
    entered.store(true);
  });
  // The waiter reports itself blocked rather than spinning silently.
  EXPECT_TRUE(eventually([&] { return waiter_hook.lock_waits.load() >= 3; }));
  EXPECT_FALSE(entered.load());
  lock_.unlock();
  waiter.join();
  EXPECT_TRUE(entered.load());
  EXPECT_EQ(log_.count(), 0U);
}

}  // namespace
}  // namespace hvo
