// `run --mode controlled`: runs the executions, writes the first failure as
// a replay file (and prints the command that replays it), prints the
// summary.
#pragma once

#include <ostream>
#include <string>

#include "stress/campaign_config.h"
#include "stress/exit_code.h"

namespace hvo::stress {
struct ControlledResult;
}

namespace hvo::cli {

// Writes r's first failure as a replay file in c.out_dir and prints the
// command that replays it; the file's path, or empty if it could not be
// written (the command to re-run is printed then). r must have a failure.
std::string save_controlled_failure(const stress::CampaignConfig& c, const stress::ControlledResult& r);

// `c` has passed stress::check_controlled_config().
[[nodiscard]] ExitCode run_controlled_campaign(const stress::CampaignConfig& c, bool json, std::ostream& out);

}  // namespace hvo::cli
