// Reads and writes of struct page fields, always through the MMU at
// vmemmap_base + pfn * 64, on the calling task's CPU.
//
// Each access makes its schedule point, translates (TLB or walk) and then
// touches the frame's bytes with the memory order the caller names. A
// faulting access (see mmu.h) is recorded and not performed: loads return 0,
// stores and read-modify-writes report false / return 0.
//
// All accesses are atomics of the given order: struct page fields are
// shared between CPUs in the kernel too (flags via atomic bitops, _refcount
// via atomic_t, compound_head via READ_ONCE), so this is the kernel's own
// discipline, and it keeps TSan's reports to the accesses that matter (the
// page-table entries under the `plain` policy).
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/mmu.h"
#include "engine/phys_mem.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo {

// The outcome of a read-modify-write, or !ok on a fault.
template <class T>
struct RmwResult {
  T value = 0;  // the old value (fetch_or/fetch_and) or the new one (add_return32)
  bool ok = false;
};

enum class CasOutcome : uint8_t { kExchanged, kMismatch, kFault };

class StructPageAccess {
 public:
  StructPageAccess(Mmu& mmu, PhysMem& mem) : mmu_(mmu), mem_(mem) {}

  [[nodiscard]] uint64_t load(Pfn pfn, PageWord w, std::memory_order mo = std::memory_order_relaxed);
  bool store(Pfn pfn, PageWord w, uint64_t v, std::memory_order mo = std::memory_order_relaxed);
  // set_bit()/clear_bit() style RMWs, fully ordered unless told otherwise.
  RmwResult<uint64_t> fetch_or(Pfn pfn, PageWord w, uint64_t bits, std::memory_order mo = std::memory_order_seq_cst);
  RmwResult<uint64_t> fetch_and(Pfn pfn, PageWord w, uint64_t bits, std::memory_order mo = std::memory_order_seq_cst);

  [[nodiscard]] int32_t load32(Pfn pfn, PageWord32 w, std::memory_order mo = std::memory_order_relaxed);
  bool store32(Pfn pfn, PageWord32 w, int32_t v, std::memory_order mo = std::memory_order_relaxed);
  // atomic_try_cmpxchg(): kExchanged if it installed desired; kMismatch
  // with expected updated to the current value; kFault (expected
  // unchanged) when the access faulted.
  CasOutcome cmpxchg32(Pfn pfn, PageWord32 w, int32_t& expected, int32_t desired,
                       std::memory_order mo = std::memory_order_seq_cst);
  // atomic_add_return(): the new value.
  RmwResult<int32_t> add_return32(Pfn pfn, PageWord32 w, int32_t delta,
                                  std::memory_order mo = std::memory_order_seq_cst);

  // Names the kernel uses.
  [[nodiscard]] uint64_t flags(Pfn pfn) { return load(pfn, PageWord::kFlags); }
  [[nodiscard]] bool test_flag(Pfn pfn, PageFlagBit b) { return (flags(pfn) & page_flag(b)) != 0; }
  bool set_flag(Pfn pfn, PageFlagBit b) { return fetch_or(pfn, PageWord::kFlags, page_flag(b)).ok; }
  bool clear_flag(Pfn pfn, PageFlagBit b) { return fetch_and(pfn, PageWord::kFlags, ~page_flag(b)).ok; }
  [[nodiscard]] int32_t page_ref_count(Pfn pfn) { return load32(pfn, PageWord32::kRefcount); }

  // Accesses that faulted (each is also a recorded violation).
  [[nodiscard]] uint64_t faults() const { return faults_.load(std::memory_order_relaxed); }

 private:
  // Makes the schedule point and translates the field's address.
  // The caller holds `insn` until its access through the translation is
  // made: a TLB flush on another CPU waits for it (Mmu::Instruction).
  Translation translate(const Mmu::Instruction& insn, Pfn pfn, unsigned offset, AccessType type, SchedEvent event,
                        uint64_t value);
  // A word read (or the old value of a read-modify-write) was PAGE_POISON:
  // the struct page was reachable before it was initialised.
  void uninitialised(Pfn pfn, unsigned offset, const Translation& t);

  Mmu& mmu_;
  PhysMem& mem_;
  std::atomic<uint64_t> faults_{0};
};

}  // namespace hvo
