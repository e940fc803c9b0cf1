// Mutex: mutual exclusion on real threads, a sleeping waiter, might_sleep() in mutex_lock(),
// lockdep assertions.
#include "engine/locks/mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/locks/rcu.h"
#include "engine/locks/spinlock.h"
#include "engine/task.h"
#include "engine/violation.h"

namespace hvo {
namespace {

class MutexTest : public ::testing::Test {
 protected:
  ViolationLog log_;
  Lockdep dep_{log_};
  LockClass& mutex_cls_ = dep_.register_class("hugetlb_fault_mutex", LockKind::kMutex);
  LockClass& spin_cls_ = dep_.register_class("hugetlb_lock", LockKind::kSpin);
  Mutex mutex_{mutex_cls_};
  SpinLock spin_{spin_cls_};
};

TEST_F(MutexTest, TwoThreadsIncrementACounterUnderTheMutex) {
  constexpr int kIters = 50000;
  int counter = 0;  // plain: TSan checks that the mutex orders the increments
  auto work = [&](unsigned cpu) {
    Task t{CpuId(cpu)};
    TaskScope s(t);
    for (int i = 0; i < kIters; ++i) {
      MutexGuard g(mutex_);
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

// In free mode a waiter sleeps on the word until the holder's unlock wakes
// it (mutex_lock() schedules), instead of yielding in a loop on its core:
// it counts one blocked point per sleep, where the old loop counted one per
// yield, thousands while the holder holds the mutex for 50 ms.
TEST_F(MutexTest, AFreeModeWaiterSleepsUntilTheUnlockWakesIt) {
  Task holder{CpuId(0)};
  TaskScope hs(holder);
  std::atomic<bool> arrived{false}, acquired{false};
  uint64_t waiter_points = 0;
  mutex_.lock();
  std::thread waiter([&] {
    Task t{CpuId(1)};
    TaskScope s(t);
    arrived.store(true);
    mutex_.lock();
    acquired.store(true);
    waiter_points = t.schedule_points;
    mutex_.unlock();
  });
  while (!arrived.load()) std::this_thread::yield();
  // Not a timing assertion: the sleep only gives the waiter time to block.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(acquired.load());
  mutex_.unlock();
  waiter.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_LT(waiter_points, 10U) << "the waiter spun instead of sleeping";
  EXPECT_FALSE(mutex_.is_locked());
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(MutexTest, MutexLockUnderASpinlockIsSleepInAtomic) {
  Task t{CpuId(0)};
  TaskScope s(t);
  {
    SpinLockGuard g(spin_);
    MutexGuard m(mutex_);
  }
  EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1U);
  const std::vector<Violation> v = log_.snapshot();
  EXPECT_NE(v.at(0).message.find("mutex_lock"), std::string::npos) << v.at(0).message;
}

TEST_F(MutexTest, MutexLockAloneOrBeforeASpinlockIsFine) {
  Task t{CpuId(0)};
  TaskScope s(t);
  {
    MutexGuard m(mutex_);
    EXPECT_EQ(t.preempt_count, 0);  // holding a mutex is not atomic context
    SpinLockGuard g(spin_);
  }
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(MutexTest, MutexLockInsideRcuReadSectionIsSleepInAtomic) {
  Rcu rcu(dep_, 1);
  Task t{CpuId(0)};
  TaskScope s(t);
  {
    RcuReadGuard r(rcu);
    MutexGuard m(mutex_);
  }
  EXPECT_EQ(log_.count(ViolationKind::kSleepInAtomic), 1U);
}

TEST_F(MutexTest, TryLockNeverSleepsSoIsFineUnderASpinlock) {
  Task t{CpuId(0)};
  TaskScope s(t);
  SpinLockGuard g(spin_);
  const bool taken = mutex_.try_lock();
  if (taken) mutex_.unlock();
  EXPECT_TRUE(taken);
  EXPECT_EQ(log_.count(), 0U);
}

// Calls AssertHeld() in its own scope, so that the static analysis does not
// take the runtime check of an unheld mutex as a hold in the caller.
void assert_held_at_runtime(const Mutex& m) { m.AssertHeld(); }

TEST_F(MutexTest, AssertHeldAndAssertNotHeld) {
  Task t{CpuId(0)};
  TaskScope s(t);
  mutex_.AssertNotHeld();
  {
    MutexGuard m(mutex_);
    mutex_.AssertHeld();
  }
  EXPECT_EQ(log_.count(), 0U);
  assert_held_at_runtime(mutex_);
  EXPECT_EQ(log_.count(ViolationKind::kLockNotHeld), 1U);
  {
    MutexGuard m(mutex_);
    mutex_.AssertNotHeld();
  }
  EXPECT_EQ(log_.count(ViolationKind::kLockHeld), 1U);
  EXPECT_EQ(log_.count(), 2U);
}

}  // namespace
}  // namespace hvo
