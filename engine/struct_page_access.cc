#include "engine/struct_page_access.h"

#include "engine/page_poison.h"

namespace hvo {

Translation StructPageAccess::translate(const Mmu::Instruction& /*insn*/, Pfn pfn, unsigned offset,
                                        AccessType type, SchedEvent event, uint64_t value) {
  const VmemmapAddr addr = pfn_to_page(pfn) + offset;
  sched_point(event, addr.value(), value);
  Translation t = mmu_.translate(current().cpu, addr, type);
  if (!t.ok) faults_.fetch_add(1, std::memory_order_relaxed);
  return t;
}

void StructPageAccess::uninitialised(Pfn pfn, unsigned offset, const Translation& t) {
  mmu_.report_uninitialised_read(pfn_to_page(pfn) + offset, t.frame);
}

uint64_t StructPageAccess::load(Pfn pfn, PageWord w, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kRead, SchedEvent::kPageLoad, 0);
  if (!t.ok) return 0;
  const uint64_t v = mem_.load<uint64_t>(t.phys, mo);
  if (v == kPagePoison64) [[unlikely]]
    uninitialised(pfn, static_cast<unsigned>(w), t);
  return v;
}

bool StructPageAccess::store(Pfn pfn, PageWord w, uint64_t v, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kWrite, SchedEvent::kPageStore, v);
  if (t.ok) mem_.store<uint64_t>(t.phys, v, mo);
  return t.ok;
}

RmwResult<uint64_t> StructPageAccess::fetch_or(Pfn pfn, PageWord w, uint64_t bits, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kWrite, SchedEvent::kPageRmw, bits);
  if (!t.ok) return {};
  const uint64_t old = mem_.fetch_or<uint64_t>(t.phys, bits, mo);
  if (old == kPagePoison64) [[unlikely]]
    uninitialised(pfn, static_cast<unsigned>(w), t);
  return {old, true};
}

RmwResult<uint64_t> StructPageAccess::fetch_and(Pfn pfn, PageWord w, uint64_t bits, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kWrite, SchedEvent::kPageRmw, bits);
  if (!t.ok) return {};
  const uint64_t old = mem_.fetch_and<uint64_t>(t.phys, bits, mo);
  if (old == kPagePoison64) [[unlikely]]
    uninitialised(pfn, static_cast<unsigned>(w), t);
  return {old, true};
}

int32_t StructPageAccess::load32(Pfn pfn, PageWord32 w, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kRead, SchedEvent::kPageLoad, 0);
  if (!t.ok) return 0;
  const int32_t v = mem_.load<int32_t>(t.phys, mo);
  if (static_cast<uint32_t>(v) == kPagePoison32) [[unlikely]]
    uninitialised(pfn, static_cast<unsigned>(w), t);
  return v;
}

bool StructPageAccess::store32(Pfn pfn, PageWord32 w, int32_t v, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kWrite, SchedEvent::kPageStore,
                            static_cast<uint32_t>(v));
  if (t.ok) mem_.store<int32_t>(t.phys, v, mo);
  return t.ok;
}

CasOutcome StructPageAccess::cmpxchg32(Pfn pfn, PageWord32 w, int32_t& expected, int32_t desired,
                                       std::memory_order mo) {
  // A locked cmpxchg is a write cycle even when the comparison fails: it
  // faults on a read-only page either way, as on x86.
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kWrite, SchedEvent::kPageRmw,
                            static_cast<uint32_t>(desired));
  if (!t.ok) return CasOutcome::kFault;
  return mem_.compare_exchange<int32_t>(t.phys, expected, desired, mo) ? CasOutcome::kExchanged
                                                                      : CasOutcome::kMismatch;
}

RmwResult<int32_t> StructPageAccess::add_return32(Pfn pfn, PageWord32 w, int32_t delta, std::memory_order mo) {
  const Mmu::Instruction insn(mmu_, current().cpu);
  Translation t = translate(insn, pfn, static_cast<unsigned>(w), AccessType::kWrite, SchedEvent::kPageRmw,
                            static_cast<uint32_t>(delta));
  if (!t.ok) return {};
  const int32_t old = mem_.fetch_add<int32_t>(t.phys, delta, mo);
  if (static_cast<uint32_t>(old) == kPagePoison32) [[unlikely]]
    uninitialised(pfn, static_cast<unsigned>(w), t);
  return {old + delta, true};
}

}  // namespace hvo
