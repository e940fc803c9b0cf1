// PAGE_POISON (include/linux/poison.h) in every page allocated for the
// vmemmap, and the checks that find it where only initialised memory may be.
//
// A debug kernel booted with page_poison=1 fills every freed page with
// PAGE_POISON (0xaa) and hands it out that way (mm/page_poison.c). The
// simulator does the same for the pages that will hold struct pages
// (FrameState::kVmemmap, without __GFP_ZERO): without it a page allocated
// for the vmemmap holds whatever its last user left, often struct pages
// identical to the ones it is about to receive, and a page published before
// it is filled looks filled. With it, "published before initialised" is
// visible in two places, both checked by the engine for every model:
//
//   - at publication: a vmemmap PTE is about to point at a page one of whose
//     words still holds the poison, as the publishing CPU sees it (its own
//     buffered stores count: it wrote them first). One check at the moment
//     the page becomes reachable covers every window that opens after it.
//   - at use: a struct page read returns the poison (another CPU reached a
//     page that was published early, or whose initialising stores the
//     memory model let the publication overtake: a missing smp_wmb()).
//
// The poison is written host-side, word by word with relaxed atomics (a
// freed page may still be read through a stale TLB entry: a reported
// use-after-free, not a race of the simulator), and makes no schedule point.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/phys_mem.h"
#include "engine/types.h"
#include "engine/violation.h"

namespace hvo {

inline constexpr uint8_t kPagePoison = 0xaa;  // PAGE_POISON
inline constexpr uint64_t kPagePoison64 = 0xaaaaaaaaaaaaaaaaULL;
inline constexpr uint32_t kPagePoison32 = 0xaaaaaaaaU;

// kernel_poison_pages(): every word of `pfn` becomes PAGE_POISON.
void poison_page(const PhysMem& mem, Pfn pfn);

// The check at a moment of publication: records uninitialised-publish (and
// returns false) when `page` still holds PAGE_POISON as the running CPU sees
// it. `how` says how the page is being published, for the message ("the
// entry at 0x... is set to it", "installed in zone->vmemmap_tails[]"). The
// engine calls it for every page-table entry it stores; a model calls it
// where it publishes a page by other means (a pointer in a kernel structure).
bool check_published(const PhysMem& mem, ViolationLog& log, Pfn page, std::string_view how);

// The byte offset of the first 64-bit word of `pfn` that still holds
// PAGE_POISON as the running CPU sees it (in controlled mode under tso/weak,
// its store buffer first), or nullopt when every word was written.
[[nodiscard]] std::optional<uint64_t> first_poisoned_word(const PhysMem& mem, Pfn pfn);

}  // namespace hvo
