#include "models/v5_18/set_pte.h"

#include <fmt/format.h>

#include "engine/pte.h"

namespace hvo::v5_18 {

bool set_pte_at(Machine& m, PhysAddr pte, VmemmapAddr addr, PteValue entry) {
  const Pfn frame = pte_pfn(entry);
  // The table being written is itself a page-table page: when a split that
  // lost the race fills its private table, a frame the winner freed may
  // already be that very table, and the kernel writes such an entry and
  // throws the table away harmlessly. Only another table is a corruption.
  const bool maps_a_table =
      m.mem().valid(frame) && m.mem().state(frame) == FrameState::kPageTable && frame != pte.pfn();
  const bool corrupt = pte_present(entry) && (!m.mem().valid(frame) || maps_a_table);
  if (corrupt) {
    Violation v = make_violation(
        ViolationKind::kInvariantBroken,
        fmt::format("set_pte_at({:#x}) maps frame {:#x}, which is {}: a vmemmap PTE must map struct page memory", addr.value(),
                    frame.value(), m.mem().valid(frame) ? "a page-table page" : "outside memory"));
    v.invariant = Invariant::kVmemmapShape;
    v.address = addr.value();
    v.pfn = page_to_pfn(addr);
    v.frame = frame;
    m.violations().record(std::move(v));
  }
  m.page_tables().write_entry(pte, entry);
  return !corrupt;
}

}  // namespace hvo::v5_18
