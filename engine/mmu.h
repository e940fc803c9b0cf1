// The MMU: translates vmemmap addresses for one CPU, through its TLB or by
// walking the kernel page tables as hardware does, and classifies faults.
//
// A fault is recorded in the ViolationLog and the access is not performed:
//   ro-tail-write             a write through a present read-only entry
//   not-present               an entry on the way is none, or points outside memory
//   use-after-free            the walk reached a frame (table or target) that
//                             is free or not in the state it must be in
//   stale-tlb-use-after-free  a TLB hit whose frame was freed or reused since
//                             the entry was filled (its generation moved on)
// Not performing the faulting access keeps one bug from corrupting the
// simulator's own state; the first violation is the finding.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/page_table.h"
#include "engine/phys_mem.h"
#include "engine/tlb.h"
#include "engine/violation.h"

namespace hvo {

enum class AccessType : uint8_t { kRead, kWrite };

struct Translation {
  bool ok = false;
  PhysAddr phys{0};
  Pfn frame{0};
  std::optional<ViolationKind> fault;  // set when !ok
};

class Mmu {
 public:
  // One instruction's access to the vmemmap: its translation (TLB lookup or
  // walk) and the load or store through it, as a TLB flush's IPI sees it.
  // x86's flush_tlb_kernel_range() runs do_kernel_range_flush() on every
  // other CPU with on_each_cpu(..., wait=1): an interrupt is taken between
  // instructions, and the flusher returns only after every CPU has run it.
  // (arm64's TLBI + DSB ISH likewise completes only once every access using
  // the old translation has.) So once the flush returns, no CPU is still
  // half-way through an access that found the old translation, and the
  // caller may free the frame. Hold one around translate() and the access.
  class Instruction {
   public:
    Instruction(Mmu& mmu, CpuId cpu);
    ~Instruction();
    Instruction(const Instruction&) = delete;
    Instruction& operator=(const Instruction&) = delete;

   private:
    std::atomic<uint32_t>& in_flight_;
  };

  Mmu(PhysMem& mem, KernelPageTables& tables, ViolationLog& log, unsigned nr_cpus, unsigned tlb_entries);

  // translate(cpu, address, read|write). `cpu` must be the calling task's CPU:
  // only a CPU uses its own TLB.
  [[nodiscard]] Translation translate(CpuId cpu, VmemmapAddr addr, AccessType type);

  // flush_tlb_kernel_range(start, end): on return, no CPU will use a cached
  // translation of [start, end), nor is any still inside an Instruction that
  // began before the flush. flush_tlb_all(): the same for everything.
  void flush_tlb_kernel_range(VmemmapAddr start, VmemmapAddr end);
  void flush_tlb_all();

  [[nodiscard]] Tlb& tlb(CpuId cpu) { return *tlbs_.at(cpu.value()); }
  [[nodiscard]] unsigned nr_cpus() const { return static_cast<unsigned>(tlbs_.size()); }
  [[nodiscard]] uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }

  // A struct page access through `addr` (translated to `frame`) read
  // PAGE_POISON: memory nobody initialised was reachable (page_poison.h).
  // Recorded as uninitialised-read; the access itself went through.
  void report_uninitialised_read(VmemmapAddr addr, Pfn frame);

 private:
  Translation fault(ViolationKind kind, VmemmapAddr addr, std::optional<Pfn> frame, std::string message);
  Translation walk_and_fill(Tlb& tlb, VmemmapAddr addr, AccessType type);
  // csd_lock_wait() for every other CPU: returns once each one has left the
  // Instruction it was in when the flush was posted.
  void wait_for_flush_ipis();
  // Hardware reads an entry in one 64-bit access, whatever the kernel's
  // policy for its own accesses. Consume: the next level's entry and the
  // access through the translation are address-dependent on this load, and
  // every architecture Linux runs on except Alpha orders a load after the
  // load that produced its address (arm64's table walks too: the kernel
  // relies on it with one smp_wmb() before set_pte_at() in
  // vmemmap_restore_pte() and before pmd_populate_kernel() in the split,
  // and no barrier on the reader's side). Under the weak memory model the
  // walking CPU's later loads may then not be satisfied from before this
  // one (memory_model.h); the race detector orders them after a release
  // (or smp_wmb()-then-store) this load reads from, as the LKMM orders an
  // access address-dependent on a READ_ONCE() (rcu_dereference()).
  [[nodiscard]] PteValue hw_read(PhysAddr entry) const {
    return PteValue(mem_.load<uint64_t>(entry, std::memory_order_consume));
  }

  PhysMem& mem_;
  KernelPageTables& tables_;
  ViolationLog& log_;
  std::vector<std::unique_ptr<Tlb>> tlbs_;
  // Per CPU: odd while the CPU is inside an Instruction (bumped on entry and
  // on exit; wrapping keeps the parity), each on its own cache line: a
  // flusher reads it once per flush, the owner writes it on every access.
  struct alignas(64) InFlight {
    std::atomic<uint32_t> seq{0};
  };
  std::unique_ptr<InFlight[]> in_flight_;
  std::atomic<uint64_t> flushes_{0};
};

}  // namespace hvo
