// What a schedule point on simulated shared memory carries beyond
// hvo::SchedulePoint: the access kind and the C++ memory order. The
// scheduler hashes them into the trace and the vector-clock race detector
// (race_detector.h), the torn-PTE detector and the store buffers of the
// tso/weak memory models (memory_model.h) read them; PhysMem's word
// accesses carry the same record through hvo::MemoryHook.
#pragma once

#include <atomic>
#include <cstdint>

namespace hvo::sched {

enum class AccessKind : uint8_t {
  kLoad,        // an atomic load
  kStore,       // an atomic store
  kRmw,         // an atomic read-modify-write (exchange, fetch_add)
  kCas,         // a compare-exchange: an RMW with `order` or, failing, a load with `failure_order`
  kPlainLoad,   // a non-atomic read (may race)
  kPlainStore,  // a non-atomic write (may race)
};

struct MemoryAccess {
  AccessKind kind = AccessKind::kLoad;
  std::memory_order order = std::memory_order_seq_cst;
  std::memory_order failure_order = std::memory_order_seq_cst;  // kCas only
  uint8_t size = 8;       // bytes accessed
  uint64_t address = 0;   // the simulated address (stable across runs)
  uint64_t value = 0;     // the value stored or the RMW's operand; 0 for loads

  // Kind, orders and size packed above the SchedEvent's 8 bits, for the
  // trace hash: kind 3 bits at 8, order 3 bits at 11, failure order 3 bits
  // at 14, size (<= 8) 4 bits at 17.
  [[nodiscard]] uint32_t packed() const {
    return (uint32_t{static_cast<uint8_t>(kind)} << 8) | (static_cast<uint32_t>(order) << 11) |
           (static_cast<uint32_t>(failure_order) << 14) | (uint32_t{size} << 17);
  }
};

}  // namespace hvo::sched
