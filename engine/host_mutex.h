// A mutex for the simulator's own bookkeeping (the violation log, the lock
// graph, TLB flush queues): state of the tool, not of the simulated kernel.
//
// It is not a simulated lock: it makes no schedule point, is not seen by
// lockdep and never shows in a trace. std::mutex carries no capability
// attribute, so the thread-safety analysis would silently ignore it; this
// wrapper is one.
#pragma once

#include <mutex>

#include "engine/thread_annotations.h"

namespace hvo {

class CAPABILITY("mutex") HostMutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }

 private:
  std::mutex m_;
};

class SCOPED_CAPABILITY HostLockGuard {
 public:
  explicit HostLockGuard(HostMutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
  ~HostLockGuard() RELEASE() { m_.unlock(); }
  HostLockGuard(const HostLockGuard&) = delete;
  HostLockGuard& operator=(const HostLockGuard&) = delete;

 private:
  HostMutex& m_;
};

}  // namespace hvo
