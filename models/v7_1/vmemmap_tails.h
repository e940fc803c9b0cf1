// The shared tail pages of 7.1 (mm/hugetlb_vmemmap.c, "mm/hugetlb: Remove
// fake head pages", 622026e87c40): zone->vmemmap_tails[] and
// vmemmap_get_tail().
//
// With the mask encoding of compound_info (engine/struct_page.h,
// compound_info_mask()), every tail struct page of one order holds the same
// words whatever its folio, so one page of 64 such tails can back the
// vmemmap of every tail of every folio of that order in a zone: it is
// mapped read-only at every vmemmap page of an optimized folio but the
// first (the head's, a private page). The page is allocated on first use
// and kept for the zone's lifetime: nothing ever frees it.
//
// Installation is lockless (the public patch, v6/v7 of the series):
//
//   tail = READ_ONCE(zone->vmemmap_tails[idx]);
//   if (tail) return tail;
//   tail = alloc_pages_node(nid, GFP_KERNEL, 0);  ... init_compound_tail() x 64
//   if (cmpxchg(&zone->vmemmap_tails[idx], NULL, tail)) {
//           __free_page(tail);                      // the loser frees its page
//           tail = READ_ONCE(zone->vmemmap_tails[idx]);
//   }
//
// cmpxchg() is fully ordered: the 64 initialised struct pages are visible
// before the pointer to them is, to every CPU that reads the pointer.
// Revert `tail-cmpxchg` (not a kernel commit: the broken variant the cmpxchg
// rules out) publishes with a plain WRITE_ONCE(): two CPUs that both found
// the slot empty both install, the later store wins, and the earlier CPU's
// folio maps a tail page the zone no longer knows (it leaks when that folio
// is restored).
//
// One zone here (the machine's buddy allocator is one zone), so one array.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/machine.h"
#include "models/planted_bugs.h"

namespace hvo::v7_1 {

// MAX_FOLIO_ORDER: PUD_ORDER on x86-64, the 1 GiB hstate's order. The
// kernel indexes from the smallest order HVO applies to; the array here is
// indexed by the order itself.
inline constexpr unsigned kMaxFolioOrder = 18;

class VmemmapTails {
 public:
  // use_cmpxchg false: the `tail-cmpxchg` revert.
  // planted: the model's test-only planted bugs (models/planted_bugs.h).
  VmemmapTails(Machine& machine, bool use_cmpxchg, const PlantedBugs& planted)
      : m_(machine), use_cmpxchg_(use_cmpxchg), planted_(planted) {}

  // vmemmap_get_tail(order, zone): the zone's shared tail page for `order`,
  // allocated and installed if there is none yet. nullopt for -ENOMEM.
  // planted_leak: a test's planted bug (PlantedBugs::kTailLeakedByLoser).
  [[nodiscard]] std::optional<Pfn> vmemmap_get_tail(Order order, bool planted_leak = false);

  // The installed page for `order`, read without a schedule point (checks).
  [[nodiscard]] std::optional<Pfn> peek(Order order) const;
  // Every installed page (checks: frame conservation).
  [[nodiscard]] std::vector<Pfn> installed() const;

 private:
  // init_compound_tail(p, NULL, order, zone) for the 64 struct pages of a
  // private page, written through the direct map (nobody else can see it).
  void init_tail_page(Pfn page, Order order);

  Machine& m_;
  const bool use_cmpxchg_;
  const PlantedBugs& planted_;  // the model's test-only planted bugs
  // The simulated address of zone->vmemmap_tails[order], named in the
  // schedule points of its accesses: fixed (bit 61, a range neither lock
  // instances, bit 63, nor scenario variables, bit 62, use), so that every
  // execution and its replay name the slot the same way.
  static constexpr uint64_t slot_address(unsigned order) { return (uint64_t{1} << 61) | (uint64_t{order} << 3); }

  // zone->vmemmap_tails[order]: the struct page address of the shared page
  // (a `struct page *`), 0 for NULL. Each access makes its schedule point
  // first (kAtomic, as the static key's do), so that in controlled mode
  // another CPU can run between the READ_ONCE() and the cmpxchg().
  std::array<std::atomic<uint64_t>, kMaxFolioOrder + 1> vmemmap_tails_{};
};

}  // namespace hvo::v7_1
