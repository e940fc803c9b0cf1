#include "engine/locks/lock_graph.h"

#include <algorithm>
#include <bit>

#include "engine/check.h"

namespace hvo {

void LockOrderGraph::add_edge(unsigned from, unsigned to) {
  HVO_CHECK(from < kMaxLockClasses && to < kMaxLockClasses, "lock class id out of range");
  after_[from] |= uint64_t{1} << to;
}

std::vector<unsigned> LockOrderGraph::path(unsigned from, unsigned to) const {
  HVO_CHECK(from < kMaxLockClasses && to < kMaxLockClasses, "lock class id out of range");
  // Breadth-first over bitsets: `frontier` is the set of nodes first reached
  // at the current distance, parent[] remembers how, for the report's chain.
  std::array<uint8_t, kMaxLockClasses> parent{};
  uint64_t seen = uint64_t{1} << from;
  uint64_t frontier = seen;
  while (frontier != 0 && ((seen >> to) & 1U) == 0) {
    uint64_t next = 0;
    for (uint64_t f = frontier; f != 0; f &= f - 1) {
      const auto node = static_cast<unsigned>(std::countr_zero(f));
      const uint64_t fresh = after_[node] & ~seen & ~next;
      for (uint64_t b = fresh; b != 0; b &= b - 1) parent[std::countr_zero(b)] = static_cast<uint8_t>(node);
      next |= fresh;
    }
    seen |= next;
    frontier = next;
  }
  if (((seen >> to) & 1U) == 0) return {};
  std::vector<unsigned> chain{to};
  for (unsigned n = to; n != from; n = parent[n]) chain.push_back(parent[n]);
  std::reverse(chain.begin(), chain.end());
  return chain;
}

}  // namespace hvo
