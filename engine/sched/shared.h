// sched::Shared<T>: a shared variable of a scenario written over plain C++
// state (mp2, cas4). Every access first makes a schedule point carrying its
// kind and memory order, then performs the access: under the controlled
// scheduler each access is a place where another CPU may run.
//
// Under the sc memory model the access happens on the host right after the
// point, before any other CPU can run. Under tso/weak (memory_model.h) the
// scheduler may buffer a store or forward a load from the CPU's store
// buffer instead (AccessPoint::result). The orders are hashed into the trace
// and read by the race detector (race_detector.h) and the store buffers.
//
// On real threads (no scheduler) a Shared<T> is a std::atomic<T> used with
// the orders given, so the same algorithm runs in both worlds; the orders
// must therefore be valid for the operation, as for std::atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/sched/memory_access.h"
#include "engine/sched/scheduler.h"
#include "engine/task.h"

namespace hvo::sched {

namespace detail {

// Simulated addresses of Shared variables: bit 62 set (lock instances use
// bit 63, see LockClass::new_instance_address), then the variable's ordinal
// in its execution. Ordinals restart at each execution (explore() resets
// them before the scenario's setup), so a trace names the same variable by
// the same address in every run, whatever the host heap does.
inline thread_local uint64_t shared_ordinal = 0;
inline void reset_shared_addresses() { shared_ordinal = 0; }
inline uint64_t next_shared_address() { return (uint64_t{1} << 62) | (shared_ordinal++ << 3); }

// Makes the access's schedule point. True when the controlled scheduler
// runs this CPU: then every CPU is a fiber of this one OS thread and no
// other CPU runs until the next schedule point, so the access itself may be
// done with relaxed host operations (a load and a store for an RMW): the
// same result, without the locked instructions (~20 cycles each) that an
// x86 RMW or seq_cst store costs.
// Under a store-buffer memory model the scheduler may also have performed
// the access itself (MemoryResult::handled: a store buffered, a load
// forwarded from the CPU's buffer).
struct AccessPoint {
  bool controlled = false;
  MemoryResult result;
};
inline AccessPoint access_point(const MemoryAccess& a, void* host) {
  Task& t = current();
  ++t.schedule_points;
  if (t.hook == nullptr) return {};
  Scheduler* const s = active_scheduler;
  if (s != nullptr && t.hook == s) return {true, s->access(a, host)};
  t.hook->point(SchedulePoint{SchedEvent::kAtomic, a.address, a.value});
  return {};
}

// The failure order std::atomic derives from a single CAS order.
constexpr std::memory_order cas_failure_order(std::memory_order o) {
  return o == std::memory_order_acq_rel   ? std::memory_order_acquire
         : o == std::memory_order_release ? std::memory_order_relaxed
                                          : o;
}

}  // namespace detail

template <class T>
class Shared {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "a Shared<T> is one machine word or less");

 public:
  Shared() : Shared(T{}) {}
  explicit Shared(T init) : Shared(init, detail::next_shared_address()) {}
  // With an explicit simulated address (e.g. to name it like a kernel symbol).
  Shared(T init, uint64_t address) : address_(address), v_(init) {}
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  [[nodiscard]] uint64_t address() const { return address_; }

  // Under the scheduler (point() true) the host access is relaxed, see
  // detail::access_point(); elsewhere it is the std::atomic operation with
  // the order given.
  T load(std::memory_order mo = std::memory_order_seq_cst) const {
    const detail::AccessPoint p = point(AccessKind::kLoad, mo, mo, 0);
    if (p.result.handled) return from_bits(p.result.value);
    if (p.controlled) return v_.load(std::memory_order_relaxed);
    return v_.load(mo);
  }

  void store(T v, std::memory_order mo = std::memory_order_seq_cst) {
    const detail::AccessPoint p = point(AccessKind::kStore, mo, mo, bits(v));
    if (p.result.handled) return;
    if (p.controlled) return v_.store(v, std::memory_order_relaxed);
    v_.store(v, mo);
  }

  T exchange(T v, std::memory_order mo = std::memory_order_seq_cst) {
    if (point(AccessKind::kRmw, mo, mo, bits(v)).controlled) {
      const T old = v_.load(std::memory_order_relaxed);
      v_.store(v, std::memory_order_relaxed);
      return old;
    }
    return v_.exchange(v, mo);
  }

  // Strong and weak alike never fail spuriously here: a spurious failure
  // would be a nondeterministic choice the strategy does not make (yet).
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure) {
    if (point(AccessKind::kCas, success, failure, bits(desired)).controlled) {
      const T old = v_.load(std::memory_order_relaxed);
      if (bits(old) != bits(expected)) {  // compared as bytes, like std::atomic
        expected = old;
        return false;
      }
      v_.store(desired, std::memory_order_relaxed);
      return true;
    }
    return v_.compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order mo = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, mo, detail::cas_failure_order(mo));
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) {
    return compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order mo = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, mo, detail::cas_failure_order(mo));
  }

  T fetch_add(T d, std::memory_order mo = std::memory_order_seq_cst)
    requires std::is_integral_v<T>
  {
    if (point(AccessKind::kRmw, mo, mo, bits(d)).controlled) {
      const T old = v_.load(std::memory_order_relaxed);
      v_.store(static_cast<T>(old + d), std::memory_order_relaxed);
      return old;
    }
    return v_.fetch_add(d, mo);
  }
  T fetch_sub(T d, std::memory_order mo = std::memory_order_seq_cst)
    requires std::is_integral_v<T>
  {
    if (point(AccessKind::kRmw, mo, mo, bits(d)).controlled) {
      const T old = v_.load(std::memory_order_relaxed);
      v_.store(static_cast<T>(old - d), std::memory_order_relaxed);
      return old;
    }
    return v_.fetch_sub(d, mo);
  }

  // Plain (non-atomic) accesses in the simulated program: the race
  // detector (race_detector.h) reports them when concurrent with a write. The host access stays
  // atomic (relaxed) so that the tool itself has no data race.
  T load_plain() const {
    const detail::AccessPoint p = point(AccessKind::kPlainLoad, std::memory_order_relaxed, std::memory_order_relaxed, 0);
    if (p.result.handled) return from_bits(p.result.value);
    return v_.load(std::memory_order_relaxed);
  }
  void store_plain(T v) {
    const detail::AccessPoint p =
        point(AccessKind::kPlainStore, std::memory_order_relaxed, std::memory_order_relaxed, bits(v));
    if (p.result.handled) return;
    v_.store(v, std::memory_order_relaxed);
  }

  // The value without a schedule point: for end checks and setup only.
  [[nodiscard]] T peek() const { return v_.load(std::memory_order_relaxed); }

 private:
  static uint64_t bits(T v) {
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
  }
  static T from_bits(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));  // little-endian: the low sizeof(T) bytes
    return v;
  }
  // The host word's address, for a buffered store to drain into. A
  // std::atomic<T> of a trivially copyable T <= 8 bytes is lock-free and
  // holds exactly a T (checked below), so it is written as a T.
  detail::AccessPoint point(AccessKind kind, std::memory_order mo, std::memory_order failure, uint64_t value) const {
    static_assert(sizeof(std::atomic<T>) == sizeof(T) && std::atomic<T>::is_always_lock_free);
    return detail::access_point(MemoryAccess{kind, mo, failure, static_cast<uint8_t>(sizeof(T)), address_, value},
                                const_cast<std::atomic<T>*>(&v_));
  }

  const uint64_t address_;
  std::atomic<T> v_;
};

}  // namespace hvo::sched
