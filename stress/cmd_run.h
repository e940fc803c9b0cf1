// `hvo-stress run`: a stress campaign (free mode: real threads).
#pragma once

#include <string>
#include <vector>

#include "stress/campaign_config.h"
#include "stress/command.h"

namespace hvo::cli {

[[nodiscard]] Command run_command();

// The configuration `run ARGS...` would run, checked, without running it
// (the argv fuzzer's entry point); throws UsageError as `run` does.
[[nodiscard]] stress::CampaignConfig run_config_from_args(const std::vector<std::string>& args);

}  // namespace hvo::cli
