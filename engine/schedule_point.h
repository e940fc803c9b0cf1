// The one hook every shared access of the simulated machine calls.
//
// PTE loads and stores, struct page field accesses, lock acquire/release,
// atomics, RCU, buddy operations and TLB fills/flushes all call
// sched_point() before they touch shared state. With no hook installed (free
// mode: real threads) it costs a thread-local load, a counter increment and
// a predicted branch. The controlled scheduler installs a ScheduleHook on
// each simulated CPU's task and decides there who runs next, without any
// call site changing (folly's DeterministicSchedule::beforeSharedAccess).
#pragma once

#include <cstdint>
#include <string_view>

namespace hvo {

enum class SchedEvent : uint8_t {
  kPteLoad,
  kPteStore,
  kPageLoad,    // a struct page field read through the MMU
  kPageStore,   // a struct page field write through the MMU
  kPageRmw,     // an atomic read-modify-write of a struct page field
  kMemCopy,     // a page-sized copy (copy_page) through physical memory
  kLockAcquire,
  kLockRelease,
  kAtomic,      // any other atomic on shared simulator state
  kRcuReadLock,
  kRcuReadUnlock,
  kSynchronizeRcu,
  kBuddyAlloc,
  kBuddyFree,
  kTlbFill,
  kTlbFlush,
};

std::string_view to_string(SchedEvent e);

// What a schedule point is about: the event, the simulated address it
// touches (virtual or physical, 0 when none) and the value stored or
// loaded when there is one.
struct SchedulePoint {
  SchedEvent event;
  uint64_t address = 0;
  uint64_t value = 0;
};

class ScheduleHook {
 public:
  virtual ~ScheduleHook() = default;
  // Called before the access happens. May switch to another simulated CPU.
  virtual void point(const SchedulePoint& p) = 0;
  // Called when the current task cannot make progress (a lock is taken,
  // synchronize_rcu waits for a reader): a fair scheduler must run someone
  // else before coming back.
  virtual void blocked(const SchedulePoint& p) = 0;
};

}  // namespace hvo
