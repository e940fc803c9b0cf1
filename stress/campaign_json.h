// The JSON forms of a campaign: its configuration, a violation, the
// summary `run --json` prints, and the replay file format.
#pragma once

#include <boost/json.hpp>

#include "engine/violation.h"
#include "stress/campaign.h"
#include "stress/campaign_config.h"

namespace hvo::stress {

inline constexpr std::string_view kReplayFormat = "hvo-stress-replay";
inline constexpr int kReplayVersion = 1;

[[nodiscard]] boost::json::object to_json(const CampaignConfig& c);
[[nodiscard]] boost::json::object to_json(const Violation& v);
[[nodiscard]] boost::json::object to_json(const CampaignStats& s);
// `run --json`: model, reverts, mode, seed, violations, stats, replay files.
[[nodiscard]] boost::json::object summary_json(const CampaignConfig& c, const CampaignResult& r,
                                               const std::vector<std::string>& replay_files);
// A replay file: format, version, mode, config, violation, command.
[[nodiscard]] boost::json::object replay_json(const CampaignConfig& c, const Violation& v);

}  // namespace hvo::stress
