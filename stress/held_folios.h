// The hugepages the surplus-owner actor keeps mapped across operations (a
// process that faulted a hugepage and has not unmapped it yet), at most one
// per CPU. What is still held when the campaign ends is put then, as the
// processes' exit would (release_held_folios() in stress/actors.h), before
// the final shrink and the check that every frame came back.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "engine/host_mutex.h"
#include "engine/types.h"

namespace hvo::stress {

class HeldFolios {
 public:
  // The folio `cpu` held until now, if any; `cpu` holds `folio` from now on.
  std::optional<Pfn> exchange(unsigned cpu, std::optional<Pfn> folio) EXCLUDES(mu_);
  // Every folio held, no CPU holding any afterwards.
  [[nodiscard]] std::vector<Pfn> take_all() EXCLUDES(mu_);

 private:
  // A host lock (free mode: the CPUs are threads; the end of the campaign
  // reads every CPU's slot): no schedule point, no simulated state.
  HostMutex mu_;
  std::map<unsigned, Pfn> held_ GUARDED_BY(mu_);
};

}  // namespace hvo::stress
