// The one rule set for "can this campaign run here": `run` applies it to
// the configuration its flags built, `replay` and `minimize` to the one a
// replay file holds, so a file can never make hvo-stress run what its own
// command line would refuse. The flags' own ranges are checked again here
// because a file does not go through the flag parsers.
#pragma once

#include <string>

#include "stress/campaign_config.h"

namespace hvo::stress {

// Why `c` cannot run (a value out of range, a workload the model or page
// size cannot run, a seed range past 2^64 - 1, more host memory than the
// host has: host_memory.h), or empty.
[[nodiscard]] std::string check_campaign_config(const CampaignConfig& c);

// The simulated machines a campaign of `c` has alive at once.
[[nodiscard]] unsigned machines_at_once(const CampaignConfig& c);

}  // namespace hvo::stress
