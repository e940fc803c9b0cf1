// What every generation's vmemmap walk needs to stay inside the simulator
// where the kernel would oops: its BUG_ON()s recorded as kBugOn violations
// naming the kernel file, and every entry checked before the walk follows
// it (a torn or corrupt entry must end the walk with a finding, never make
// the simulator read outside its memory). Shared by models/*/vmemmap_remap.
#pragma once

#include <optional>
#include <string_view>

#include "engine/machine.h"
#include "engine/types.h"

namespace hvo::models {

class WalkChecks {
 public:
  // `kernel_file` names where the walk lives ("mm/sparse-vmemmap.c").
  WalkChecks(Machine& machine, std::string_view kernel_file) : m_(machine), file_(kernel_file) {}

  // BUG_ON(cond): records a kBugOn violation and sets `bugged` when cond
  // holds; returns cond.
  bool bug_on(bool cond, std::string_view what, bool& bugged) const;
  // pud_offset()/pmd_offset()/pte_offset_kernel(): reads the upper entry
  // (again, as the kernel does) and returns the entry for `index` in the
  // table it points to, or nullopt after a BUG when it is not a page table.
  [[nodiscard]] std::optional<PhysAddr> offset(PhysAddr upper, unsigned index, bool& bugged) const;
  // pte_page(pte) of an entry already read: nullopt (and a BUG) when it maps
  // no frame of memory.
  [[nodiscard]] std::optional<Pfn> pte_page(PteValue pte, bool& bugged) const;

 private:
  Machine& m_;
  std::string_view file_;
};

// pgd_addr_end()/pud_addr_end()/pmd_addr_end(): the next boundary of a
// 2^shift-byte region after addr, or end if that comes first (the kernel's
// `boundary - 1 < end - 1` form, which also works when end is 0).
[[nodiscard]] VmemmapAddr addr_end(VmemmapAddr addr, VmemmapAddr end, unsigned shift);

}  // namespace hvo::models
