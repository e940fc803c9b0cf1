#include "stress/held_folios.h"

namespace hvo::stress {

std::optional<Pfn> HeldFolios::exchange(unsigned cpu, std::optional<Pfn> folio) {
  HostLockGuard g(mu_);
  std::optional<Pfn> before;
  if (auto it = held_.find(cpu); it != held_.end()) {
    before = it->second;
    held_.erase(it);
  }
  if (folio) held_.emplace(cpu, *folio);
  return before;
}

std::vector<Pfn> HeldFolios::take_all() {
  HostLockGuard g(mu_);
  std::vector<Pfn> all;
  for (const auto& [cpu, folio] : held_) all.push_back(folio);
  held_.clear();
  return all;
}

}  // namespace hvo::stress
