#include "engine/mmu.h"

#include <fmt/format.h>

#include "engine/asymmetric_fence.h"
#include "engine/task.h"

namespace hvo {

Mmu::Mmu(PhysMem& mem, KernelPageTables& tables, ViolationLog& log, unsigned nr_cpus, unsigned tlb_entries)
    : mem_(mem), tables_(tables), log_(log), in_flight_(std::make_unique<InFlight[]>(nr_cpus)) {
  asymmetric_fence_init();  // before any CPU's thread starts
  for (unsigned i = 0; i < nr_cpus; ++i) tlbs_.push_back(std::make_unique<Tlb>(tlb_entries));
}

namespace {
// How long a flusher spins on a CPU still inside an instruction before it
// yields its host thread (a few microseconds).
constexpr int kFlushIpiSpins = 4096;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}
}  // namespace

Mmu::Instruction::Instruction(Mmu& mmu, CpuId cpu) : in_flight_(mmu.in_flight_[cpu.value()].seq) {
  // Odd: inside. Only the owning CPU writes its counter.
  in_flight_.store(in_flight_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // Store->load: the store above before the TLB's posted-flush load in
  // translate(). With the flusher's heavy fence between its post and its
  // load of this counter (wait_for_flush_ipis()), either the flusher sees
  // this CPU inside and waits for it, or this CPU sees the flush and drains
  // it before its lookup (Dekker's pattern). The light side of an
  // asymmetric pair: this runs on every access, the heavy side per flush.
  asymmetric_light_fence();
}

Mmu::Instruction::~Instruction() {
  // release: the access made inside happens before a flusher that sees the
  // CPU outside frees the frame.
  in_flight_.store(in_flight_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void Mmu::wait_for_flush_ipis() {
  // Under the controlled scheduler only one CPU runs at a time and an
  // instruction has no schedule point between its walk and its access: a
  // CPU switched out inside one (at its kTlbFill point, before the walk)
  // walks the new tables when it resumes. Waiting there would add blocked
  // points to every trace for nothing.
  if (current().hook != nullptr) return;
  // Pairs with the light fence in Instruction's constructor (see there).
  asymmetric_heavy_fence();
  const CpuId self = current().cpu;
  for (unsigned i = 0; i < tlbs_.size(); ++i) {
    if (CpuId(i) == self) continue;
    std::atomic<uint32_t>& seq = in_flight_[i].seq;
    // acquire: that CPU's access happens before what the flusher does next
    // (typically freeing the frame it used).
    const uint32_t s = seq.load(std::memory_order_acquire);
    if ((s & 1) == 0) continue;  // outside: its next instruction drains the flush first
    // An instruction running on another core ends within a few hundred
    // nanoseconds: spin (csd_lock_wait()'s cpu_relax()) before giving the
    // core away. Only a CPU whose host thread was preempted inside one
    // (a vCPU preempted under a hypervisor, in kernel terms) costs more.
    for (int spins = 0; spins < kFlushIpiSpins && seq.load(std::memory_order_acquire) == s; ++spins) cpu_relax();
    while (seq.load(std::memory_order_acquire) == s) sched_blocked(SchedEvent::kTlbFlush, i);
  }
}

Translation Mmu::fault(ViolationKind kind, VmemmapAddr addr, std::optional<Pfn> frame, std::string message) {
  Violation v = make_violation(kind, std::move(message));
  v.address = addr.value();
  if (addr.value() >= kVmemmapBase) v.pfn = page_to_pfn(addr);
  v.frame = frame;
  log_.record(std::move(v));
  return Translation{false, PhysAddr(0), frame.value_or(Pfn(0)), kind};
}

void Mmu::report_uninitialised_read(VmemmapAddr addr, Pfn frame) {
  (void)fault(ViolationKind::kUninitialisedRead, addr, frame,
              fmt::format("a struct page read through {:#x} returned PAGE_POISON: page {:#x} was reachable before it "
                          "was initialised",
                          addr.value(), frame.value()));
}

Translation Mmu::translate(CpuId cpu, VmemmapAddr addr, AccessType type) {
  HVO_DCHECK(cpu == current().cpu, "a CPU may only use its own TLB");
  Tlb& tlb = *tlbs_[cpu.value()];
  tlb.drain_remote_flushes();
  if (const TlbEntry* e = tlb.lookup(addr)) {
    tlb.count_hit();
    // Permissions are cached with the translation, as on real hardware.
    if (type == AccessType::kWrite && !e->writable)
      return fault(ViolationKind::kRoTailWrite, addr, e->frame, "write through a read-only entry (TLB)");
    const uint32_t shadow = mem_.shadow(e->frame);
    if (FrameShadow::state(shadow) != FrameState::kVmemmap || FrameShadow::generation(shadow) != e->generation)
      return fault(ViolationKind::kStaleTlbUseAfterFree, addr, e->frame,
                   fmt::format("TLB entry filled at generation {} used after the frame became {} at generation {}",
                               e->generation, to_string(FrameShadow::state(shadow)),
                               FrameShadow::generation(shadow)));
    return Translation{true, pfn_to_phys(e->frame) + addr.offset_in_page(), e->frame, std::nullopt};
  }
  tlb.count_miss();
  return walk_and_fill(tlb, addr, type);
}

Translation Mmu::walk_and_fill(Tlb& tlb, VmemmapAddr addr, AccessType type) {
  sched_point(SchedEvent::kTlbFill, addr.value());
  static constexpr const char* kLevelNames[] = {"pgd", "pud", "pmd", "pte"};
  PhysAddr entry = tables_.pgd_offset_k(addr);
  const unsigned indices[] = {pud_index(addr.value()), pmd_index(addr.value()), pte_index(addr.value())};
  for (int level = 0;; ++level) {
    const PteValue e = hw_read(entry);
    if (!pte_present(e))
      return fault(ViolationKind::kNotPresent, addr, std::nullopt,
                   fmt::format("{} entry {:#x} is not present", kLevelNames[level], e.value()));
    const bool leaf = level == 3 || (level == 2 && pmd_leaf(e));
    const Pfn target = leaf && level == 2 ? pte_pfn(e) + pte_index(addr.value()) : pte_pfn(e);
    if (!mem_.valid(target))
      return fault(ViolationKind::kNotPresent, addr, std::nullopt,
                   fmt::format("{} entry {:#x} points outside memory (torn or corrupt)", kLevelNames[level],
                               e.value()));
    const uint32_t shadow = mem_.shadow(target);
    const FrameState state = FrameShadow::state(shadow);
    if (!leaf) {
      if (state != FrameState::kPageTable)
        return fault(ViolationKind::kUseAfterFree, addr, target,
                     fmt::format("{} entry points to a {} frame, not a page table", kLevelNames[level],
                                 to_string(state)));
      entry = table_entry_addr(target, indices[level]);
      continue;
    }
    if (type == AccessType::kWrite && !pte_write(e))
      return fault(ViolationKind::kRoTailWrite, addr, target,
                   fmt::format("write through read-only {} entry {:#x}", kLevelNames[level], e.value()));
    if (state != FrameState::kVmemmap)
      return fault(ViolationKind::kUseAfterFree, addr, target,
                   fmt::format("{} entry maps a {} frame", kLevelNames[level], to_string(state)));
    tlb.fill(addr, target, FrameShadow::generation(shadow), pte_write(e), level == 2);
    return Translation{true, pfn_to_phys(target) + addr.offset_in_page(), target, std::nullopt};
  }
}

void Mmu::flush_tlb_kernel_range(VmemmapAddr start, VmemmapAddr end) {
  sched_point(SchedEvent::kTlbFlush, start.value(), end.value());
  flushes_.fetch_add(1, std::memory_order_relaxed);
  const CpuId self = current().cpu;
  // The local flush happens at once; the others are the IPIs of
  // on_each_cpu(do_kernel_range_flush), applied before their next access.
  for (unsigned i = 0; i < tlbs_.size(); ++i) {
    if (CpuId(i) == self)
      tlbs_[i]->flush_range_local(start, end);
    else
      tlbs_[i]->post_flush(start, end);
  }
  wait_for_flush_ipis();
}

void Mmu::flush_tlb_all() {
  sched_point(SchedEvent::kTlbFlush, 0, ~uint64_t{0});
  flushes_.fetch_add(1, std::memory_order_relaxed);
  const CpuId self = current().cpu;
  for (unsigned i = 0; i < tlbs_.size(); ++i) {
    if (CpuId(i) == self)
      tlbs_[i]->flush_all_local();
    else
      tlbs_[i]->post_flush_all();
  }
  wait_for_flush_ipis();
}

}  // namespace hvo
