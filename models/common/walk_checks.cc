#include "models/common/walk_checks.h"

#include <fmt/format.h>

#include "engine/pte.h"
#include "engine/task.h"

namespace hvo::models {

bool WalkChecks::bug_on(bool cond, std::string_view what, bool& bugged) const {
  if (!cond) return false;
  m_.violations().record(make_violation(ViolationKind::kBugOn, fmt::format("kernel BUG at {}: {}", file_, what)));
  bugged = true;
  return true;
}

std::optional<PhysAddr> WalkChecks::offset(PhysAddr upper, unsigned index, bool& bugged) const {
  const PteValue e = m_.page_tables().read_entry(upper);
  const Pfn table = pte_pfn(e);
  if (bug_on(!pte_present(e) || pmd_leaf(e) || !m_.mem().valid(table) ||
                 m_.mem().state(table) != FrameState::kPageTable,
             "Oops: the walk followed an entry that is not a page table", bugged))
    return std::nullopt;
  return table_entry_addr(table, index);
}

std::optional<Pfn> WalkChecks::pte_page(PteValue pte, bool& bugged) const {
  if (bug_on(!pte_present(pte) || !m_.mem().valid(pte_pfn(pte)), "Oops: a vmemmap pte maps no page", bugged))
    return std::nullopt;
  return pte_pfn(pte);
}

VmemmapAddr addr_end(VmemmapAddr addr, VmemmapAddr end, unsigned shift) {
  const uint64_t boundary = (addr.value() + (uint64_t{1} << shift)) & ~((uint64_t{1} << shift) - 1);
  return boundary - 1 < end.value() - 1 ? VmemmapAddr(boundary) : end;
}

}  // namespace hvo::models
