// Lockdep: class registry, lock order (circular dependencies, reported
// once, naming the cycle), recursion, balance, might_sleep.
#include "engine/locks/lockdep.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "engine/check.h"
#include "engine/locks/mutex.h"
#include "engine/locks/spinlock.h"
#include "engine/task.h"
#include "engine/violation.h"

namespace hvo {
namespace {

class LockdepTest : public ::testing::Test {
 protected:
  [[nodiscard]] std::string only_message(ViolationKind kind) const {
    const std::vector<Violation> v = log_.snapshot();
    EXPECT_EQ(v.size(), 1U);
    return v.empty() || v[0].kind != kind ? std::string() : v[0].message;
  }

  ViolationLog log_;
  Lockdep dep_{log_};
  LockClass& a_cls_ = dep_.register_class("zone->lock", LockKind::kSpin);
  LockClass& b_cls_ = dep_.register_class("hugetlb_lock", LockKind::kSpin);
  LockClass& c_cls_ = dep_.register_class("init_mm.page_table_lock", LockKind::kSpin);
  SpinLock a_{a_cls_};
  SpinLock b_{b_cls_};
  SpinLock c_{c_cls_};
  // Other instances of the same classes, taken in the opposite order:
  // lockdep reasons about classes and still sees the inversion, while
  // ThreadSanitizer's deadlock detector reasons about instances and stays
  // quiet (the suite runs TSan-clean).
  SpinLock a2_{a_cls_};
  SpinLock b2_{b_cls_};
  SpinLock c2_{c_cls_};
  Task task_{CpuId(0)};
  TaskScope scope_{task_};
};

TEST_F(LockdepTest, RegisteringANameTwiceReturnsTheSameClass) {
  LockClass& again = dep_.register_class("zone->lock", LockKind::kSpin);
  EXPECT_EQ(&again, &a_cls_);
  EXPECT_EQ(again.name(), "zone->lock");
  EXPECT_EQ(again.kind(), LockKind::kSpin);
  EXPECT_NE(a_cls_.id(), b_cls_.id());
  EXPECT_EQ(dep_.nr_classes(), 3U);
  EXPECT_EQ(&a_cls_.lockdep(), &dep_);
}

TEST_F(LockdepTest, ANameKeepsItsKind) {
  EXPECT_THROW(dep_.register_class("zone->lock", LockKind::kMutex), InternalError);
}

TEST_F(LockdepTest, AtMost64Classes) {
  for (unsigned i = dep_.nr_classes(); i < kMaxLockClasses; ++i)
    dep_.register_class("class " + std::to_string(i), LockKind::kMutex);
  EXPECT_EQ(dep_.nr_classes(), kMaxLockClasses);
  EXPECT_THROW(dep_.register_class("one too many", LockKind::kMutex), InternalError);
}

TEST_F(LockdepTest, InversionInOneTaskIsReportedOnceNamingBothClasses) {
  for (int round = 0; round < 3; ++round) {
    {
      SpinLockGuard ga(a_);
      SpinLockGuard gb(b_);
    }
    {
      SpinLockGuard gb(b2_);
      SpinLockGuard ga(a2_);
    }
  }
  EXPECT_EQ(log_.count(ViolationKind::kLockOrderInversion), 1U);
  const std::string msg = only_message(ViolationKind::kLockOrderInversion);
  EXPECT_NE(msg.find("possible circular locking dependency detected"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"zone->lock\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"hugetlb_lock\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("cycle: \"hugetlb_lock\" -> \"zone->lock\" -> \"hugetlb_lock\""), std::string::npos) << msg;
}

TEST_F(LockdepTest, ConsistentOrderIsNotReported) {
  for (int round = 0; round < 3; ++round) {
    {
      SpinLockGuard ga(a_);
      SpinLockGuard gb(b_);
      SpinLockGuard gc(c_);
    }
    {
      SpinLockGuard ga(a_);
      SpinLockGuard gc(c_);
    }
    {
      SpinLockGuard gb(b_);
      SpinLockGuard gc(c_);
    }
    SpinLockGuard gc(c_);
  }
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(LockdepTest, ThreeClassCycleNamesTheWholeChain) {
  {
    SpinLockGuard ga(a_);
    SpinLockGuard gb(b_);
  }
  {
    SpinLockGuard gb(b_);
    SpinLockGuard gc(c_);
  }
  EXPECT_EQ(log_.count(), 0U);
  {
    SpinLockGuard gc(c2_);
    SpinLockGuard ga(a2_);
  }
  const std::string msg = only_message(ViolationKind::kLockOrderInversion);
  EXPECT_NE(msg.find("\"init_mm.page_table_lock\" -> \"zone->lock\" -> \"hugetlb_lock\" -> "
                     "\"init_mm.page_table_lock\""),
            std::string::npos)
      << msg;
}

TEST_F(LockdepTest, InversionAcrossTasksIsReported) {
  std::thread first([&] {
    Task t(CpuId(1));
    TaskScope s(t);
    SpinLockGuard ga(a_);
    SpinLockGuard gb(b_);
  });
  first.join();
  std::thread second([&] {
    Task t(CpuId(2));
    TaskScope s(t);
    SpinLockGuard gb(b2_);
    SpinLockGuard ga(a2_);
  });
  second.join();
  EXPECT_EQ(log_.count(ViolationKind::kLockOrderInversion), 1U);
  EXPECT_EQ(log_.snapshot().at(0).cpu, CpuId(2));
}

TEST_F(LockdepTest, TrylockTeachesNoEdge) {
  {
    SpinLockGuard gb(b_);
    const bool taken = a_.try_lock();
    if (taken) a_.unlock();
    EXPECT_TRUE(taken);
  }
  {
    SpinLockGuard ga(a_);
    SpinLockGuard gb(b_);
  }
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(LockdepTest, OutOfOrderReleaseIsAllowed) {
  a_.lock();
  b_.lock();
  a_.unlock();
  EXPECT_TRUE(dep_.held_by_current(&b_));
  EXPECT_FALSE(dep_.held_by_current(&a_));
  b_.unlock();
  EXPECT_EQ(task_.nr_held, 0);
  EXPECT_EQ(task_.preempt_count, 0);
  EXPECT_EQ(log_.count(), 0U);
}

TEST_F(LockdepTest, RecursiveClassIsReportedOnce) {
  for (int round = 0; round < 2; ++round) {
    SpinLockGuard ga(a_);
    SpinLockGuard ga2(a2_);
  }
  const std::string msg = only_message(ViolationKind::kLockOrderInversion);
  EXPECT_NE(msg.find("possible recursive locking detected"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"zone->lock\""), std::string::npos) << msg;
}

// Deliberately retakes a held lock: the analysis would (rightly) reject it.
void lock_again(SpinLock& l) NO_THREAD_SAFETY_ANALYSIS { l.lock(); }

TEST_F(LockdepTest, RetakingAHeldInstanceIsASelfDeadlock) {
  SpinLockGuard ga(a_);
  EXPECT_THROW(lock_again(a_), SelfDeadlock);
  EXPECT_EQ(log_.count(ViolationKind::kLockOrderInversion), 1U);
  EXPECT_EQ(task_.nr_held, 1);
}

// Deliberately unbalanced: the analysis would (rightly) reject it.
void unlock_unheld(SpinLock& l) NO_THREAD_SAFETY_ANALYSIS { l.unlock(); }

TEST_F(LockdepTest, UnlockOfALockNotHeldIsAnImbalance) {
  unlock_unheld(a_);
  EXPECT_EQ(log_.count(ViolationKind::kLockImbalance), 1U);
  EXPECT_EQ(log_.count(), 1U);
  EXPECT_EQ(task_.preempt_count, 0);
}

TEST_F(LockdepTest, UnlockOfAnotherTasksLockIsAnImbalanceAndLeavesItLocked) {
  std::atomic<bool> locked{false};
  std::atomic<bool> done{false};
  std::thread holder([&] {
    Task t(CpuId(1));
    TaskScope s(t);
    SpinLockGuard g(a_);
    locked.store(true);
    while (!done.load()) std::this_thread::yield();
  });
  while (!locked.load()) std::this_thread::yield();
  unlock_unheld(a_);
  EXPECT_TRUE(a_.is_locked());
  EXPECT_FALSE(a_.try_lock());
  done.store(true);
  holder.join();
  EXPECT_EQ(log_.count(ViolationKind::kLockImbalance), 1U);
  EXPECT_FALSE(a_.is_locked());
}

TEST_F(LockdepTest, MightSleepOnlyInAtomicContext) {
  dep_.might_sleep("test sleep");
  EXPECT_EQ(log_.count(), 0U);
  {
    SpinLockGuard ga(a_);
    dep_.might_sleep("test sleep");
  }
  const std::string msg = only_message(ViolationKind::kSleepInAtomic);
  EXPECT_NE(msg.find("BUG: sleeping function called from invalid context: test sleep"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"zone->lock\""), std::string::npos) << msg;
  dep_.might_sleep("test sleep");
  EXPECT_EQ(log_.count(), 1U);
}

TEST_F(LockdepTest, LocksOfAnotherMachineDoNotMix) {
  ViolationLog other_log;
  Lockdep other(other_log);
  LockClass& x_cls = other.register_class("zone->lock", LockKind::kSpin);
  LockClass& y_cls = other.register_class("hugetlb_lock", LockKind::kSpin);
  SpinLock x(x_cls);
  SpinLock y(y_cls);
  {
    SpinLockGuard ga(a_);
    SpinLockGuard gy(y);
  }
  {
    SpinLockGuard gb(b_);
    SpinLockGuard gx(x);
  }
  {
    SpinLockGuard gy(y);
    SpinLockGuard gx(x);
  }
  EXPECT_EQ(log_.count(), 0U);
  EXPECT_EQ(other_log.count(), 0U);
}

}  // namespace
}  // namespace hvo
