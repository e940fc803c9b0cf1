// Everything that defines a campaign, in one struct (STYLE.md 15): with the
// seed it names the run, and command_line() prints the exact command that
// runs it again.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "engine/hugetlb/hstate.h"
#include "engine/machine_config.h"

namespace hvo::stress {

struct CampaignConfig {
  std::string model;
  std::set<std::string> reverts;
  unsigned threads = 2;
  std::optional<uint64_t> iterations;    // total operations over all threads
  std::optional<uint64_t> duration_ms;   // or: run this long (reported, never a verdict bound)
  uint64_t seed = 0;
  std::string workload = "mixed";
  Hstate hstate = kHstate2M;
  uint64_t memory_bytes = 0;             // 0: the default for the hugepage size
  PteAccess pte_access = PteAccess::kOnce;
  uint64_t check_every = 20000;          // operations between stop-the-world checks
  std::string out_dir = "hvo-stress-out";

  // Simulated memory actually used (the default depends on the page size).
  [[nodiscard]] uint64_t effective_memory() const;
  // `hvo-stress run ...` with every flag that defines this campaign.
  [[nodiscard]] std::string command_line() const;
};

[[nodiscard]] std::string format_duration_ms(uint64_t ms);

}  // namespace hvo::stress
