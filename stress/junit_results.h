// The JUnit suites of `run`, `replay` and `time-to-bug` (--junit FILE):
// what a CI system shows of each.
//
//   run, free mode       one test case: the campaign (its threads are one
//                        batch); a failure per violation found, the first
//                        as the message, all with their replay files.
//   run, controlled      one test case per batch of kJunitBatch executions
//                        (seeds S..S+99, ...; larger batches past
//                        kJunitMaxBatches of them): passed, the failing one, and
//                        the batches the campaign did not run (it stops at
//                        the first failure) as skipped. The search times
//                        executions as a whole: a batch's time is its share.
//   replay               one test case: failure when the replay hits a
//                        violation, error when it diverged and did not.
//   time-to-bug          one test case per catalogue entry: failure when a
//                        strategy never found the bug, or found only other
//                        kinds; the figures in system-out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "stress/campaign.h"
#include "stress/campaign_config.h"
#include "stress/controlled_campaign.h"
#include "stress/junit_xml.h"
#include "stress/time_to_bug.h"

namespace hvo::stress {

inline constexpr uint64_t kJunitBatch = 100;
// A campaign of millions of executions still gets at most this many cases:
// its batches grow instead (a CI page of 10,000 rows helps nobody).
inline constexpr uint64_t kJunitMaxBatches = 100;

[[nodiscard]] JunitSuite junit_free_run(const CampaignConfig& c, const CampaignResult& r,
                                        const std::vector<std::string>& replay_files);
[[nodiscard]] JunitSuite junit_controlled_run(const CampaignConfig& c, const ControlledResult& r,
                                              const std::string& replay_file);

struct ReplayOutcome {
  std::string file;
  bool exact = true;                      // controlled: the recorded decisions
  std::vector<std::string> violations;    // what the replay hit (to_string), first first
  std::string kind;                       // the first one's kind
  std::vector<std::string> differences;   // controlled: why it DIVERGED; empty: reproduced
  double seconds = 0;
};
[[nodiscard]] JunitSuite junit_replay(const CampaignConfig& c, const ReplayOutcome& o);

[[nodiscard]] JunitSuite junit_time_to_bug(const std::vector<TimeToBug>& results, double seconds);

}  // namespace hvo::stress
