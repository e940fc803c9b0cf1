// `run --mode controlled`: runs the executions, writes the first failure as
// a replay file (and prints the command that replays it), prints the
// summary.
#pragma once

#include <ostream>

#include "stress/campaign_config.h"
#include "stress/cmd_outputs.h"
#include "stress/exit_code.h"

namespace hvo::cli {

// `c` has passed stress::check_controlled_config().
[[nodiscard]] ExitCode run_controlled_campaign(const stress::CampaignConfig& c, bool json, std::ostream& out,
                                               const OutputOptions& outputs = {});

}  // namespace hvo::cli
