#include "engine/page_poison.h"

#include <fmt/format.h>

#include <array>
#include <atomic>

#include "engine/schedule_point.h"

namespace hvo {

void poison_page(const PhysMem& mem, Pfn pfn) {
  auto* words = reinterpret_cast<uint64_t*>(mem.frame_bytes(pfn));
  for (uint64_t i = 0; i < kPageSize / sizeof(uint64_t); ++i)
    std::atomic_ref<uint64_t>(words[i]).store(kPagePoison64, std::memory_order_relaxed);
}

bool check_published(const PhysMem& mem, ViolationLog& log, Pfn page, std::string_view how) {
  const std::optional<uint64_t> word = first_poisoned_word(mem, page);
  if (!word) return true;
  Violation bad = make_violation(ViolationKind::kUninitialisedPublish,
                                 fmt::format("page {:#x} is published ({}) while its word at +{:#x} still holds "
                                             "PAGE_POISON: published before it is initialised",
                                             page.value(), how, *word));
  bad.frame = page;
  log.record(std::move(bad));
  return false;
}

std::optional<uint64_t> first_poisoned_word(const PhysMem& mem, Pfn pfn) {
  // By 32-bit halves: struct page's _mapcount and _refcount are 32-bit
  // words, stored (and buffered) on their own.
  constexpr uint64_t kHalves = kPageSize / sizeof(uint32_t);
  std::array<bool, kHalves> written{};
  auto* halves = reinterpret_cast<uint32_t*>(mem.frame_bytes(pfn));
  for (uint64_t h = 0; h < kHalves; ++h)
    written[h] = std::atomic_ref<uint32_t>(halves[h]).load(std::memory_order_relaxed) != kPagePoison32;
  // Then the running CPU's own stores still in its buffer (tso/weak), oldest
  // first so that the youngest decides: what it sees, and what it wrote
  // before publishing. A store narrower than a half counts as writing it.
  if (const MemoryHook* hook = detail::memory_hook) {
    const uint64_t base = pfn_to_phys(pfn).value();
    hook->visit_buffered(base, base + kPageSize, [&](uint64_t address, uint8_t size, uint64_t value) {
      for (uint64_t a = address & ~uint64_t{3}; a < address + size; a += sizeof(uint32_t)) {
        if (a < base || a >= base + kPageSize) continue;
        const bool whole = a >= address && a + sizeof(uint32_t) <= address + size;
        written[(a - base) / sizeof(uint32_t)] =
            !whole || static_cast<uint32_t>(value >> (8 * (a - address))) != kPagePoison32;
      }
    });
  }
  for (uint64_t h = 0; h < kHalves; ++h)
    if (!written[h]) return h / 2 * sizeof(uint64_t);
  return std::nullopt;
}

}  // namespace hvo
