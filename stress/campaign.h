// A free-mode campaign: real threads, one simulated CPU each, racing on one
// simulated machine while the checkers watch.
//
// Each thread runs rounds of operations drawn from the workload; after each
// round all threads meet at a barrier whose completion runs the full
// invariant check with the world stopped. A violation stops the campaign:
// the FindingSink writes it out (with the command that replays it) before
// the recording thread goes on, and the others stop at the next barrier. At
// the end the pool is shrunk to 0 and everything must have come back.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/coverage.h"
#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/violation.h"
#include "stress/actors.h"
#include "stress/campaign_config.h"

namespace hvo::stress {

struct CampaignStats {
  uint64_t operations = 0;
  ActorCounters actors;
  uint64_t schedule_points = 0;
  uint64_t quiescent_checks = 0;
  uint64_t grace_periods = 0;
  uint64_t tlb_flushes = 0;
  uint64_t mmap_lock_waits = 0;  // init_mm.mmap_lock acquisitions that had to wait
  VmemmapStats vmemmap;
  uint64_t max_pool_pages = 0;
  // --fail-alloc: allocations failed by fail_page_alloc's knobs.
  uint64_t allocs_failed = 0;
  // Kernel functions entered and error paths taken, over every thread
  // (no interleaved pairs: each free thread sees only its own CPU).
  CoverageReport coverage;
  double elapsed_s = 0;
};

struct CampaignResult {
  std::vector<Violation> violations;  // the first ones, in order
  uint64_t violation_count = 0;
  CampaignStats stats;
  // Stopped early by SIGINT/SIGTERM (interrupt.h): the stats cover what ran.
  bool interrupted = false;
};

// Called for each violation, under the violation log's lock, before the
// recording thread continues.
using FindingSink = std::function<void(const Violation&)>;
// Called about twice a second from the main thread while threads run.
using ProgressSink = std::function<void(uint64_t operations, uint64_t cycles, uint64_t violations, double elapsed_s)>;

// Runs the campaign. Throws std::invalid_argument for a configuration that
// cannot run (unknown model, too little memory); InternalError propagates.
[[nodiscard]] CampaignResult run_free_campaign(const CampaignConfig& config, const FindingSink& on_finding,
                                               const ProgressSink& on_progress = {});

}  // namespace hvo::stress
