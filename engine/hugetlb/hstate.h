// struct hstate: one hugepage size. x86-64 has two: 2 MiB (order 9, a PMD)
// and 1 GiB (order 18, a PUD; "gigantic": above the buddy allocator's
// largest order, so allocated with alloc_contig_pages()).
#pragma once

#include <optional>
#include <string_view>

#include "engine/buddy.h"
#include "engine/types.h"

namespace hvo {

struct Hstate {
  Order order;
  std::string_view name;      // the sysfs directory name
  std::string_view size_name; // "2M" / "1G", as the CLI spells it

  [[nodiscard]] constexpr uint64_t nr_pages() const { return order.nr_pages(); }  // pages_per_huge_page()
  [[nodiscard]] constexpr uint64_t bytes() const { return nr_pages() * kPageSize; }
  // Vmemmap pages that describe one hugepage: 8 for 2 MiB, 4096 for 1 GiB.
  [[nodiscard]] constexpr uint64_t vmemmap_pages() const { return nr_pages() * kStructPageSize / kPageSize; }
  // hstate_is_gigantic()
  [[nodiscard]] constexpr bool gigantic() const { return order > BuddyAllocator::kMaxOrder; }
};

inline constexpr Hstate kHstate2M{Order(9), "hugepages-2048kB", "2M"};
inline constexpr Hstate kHstate1G{Order(18), "hugepages-1048576kB", "1G"};

// "2M" or "1G" (case-insensitive) to its hstate.
[[nodiscard]] std::optional<Hstate> hstate_from_string(std::string_view s);

}  // namespace hvo
