// `run --mode controlled`: runs the executions, writes the first failure as
// a replay file (and prints the command that replays it), prints the
// summary.
#pragma once

#include <ostream>
#include <string>

#include <string>

#include "stress/campaign_config.h"
#include "stress/cmd_outputs.h"
#include "stress/controlled_campaign.h"
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
[[nodiscard]] ExitCode run_controlled_campaign(const stress::CampaignConfig& c, bool json, std::ostream& out,
                                               const OutputOptions& outputs = {});

// Writes r's failure as a replay file in c.out_dir and says so on stderr:
// its path, or empty (and the command that runs it again) if it could not.
[[nodiscard]] std::string save_controlled_failure(const stress::CampaignConfig& c, const stress::ControlledResult& r);

// The summary `run --mode controlled` prints (text, or --json), naming the
// replay file `file` (empty: none). `merge` prints a merged result with it.
void print_controlled_result(std::ostream& out, const stress::CampaignConfig& c, const stress::ControlledResult& r,
                             const std::string& file, bool json_out);

}  // namespace hvo::cli
