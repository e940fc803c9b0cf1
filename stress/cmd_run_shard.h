// `run --mode controlled --shard K/N` (or a shard from the environment:
// shard.h): runs one shard of a random search and writes its result file
// for `hvo-stress merge`.
#pragma once

#include <optional>
#include <ostream>

#include <boost/program_options.hpp>

#include "stress/campaign_config.h"
#include "stress/exit_code.h"
#include "stress/shard.h"

namespace hvo::cli {

// The shard flags of `run` and `time-to-bug`: --shard, --shard-count, --shard-block.
void add_shard_flags(boost::program_options::options_description& flags);

// The shard the flags or, without --shard, the environment name, checked
// against `c`; empty when there is none. Bad values are UsageErrors.
[[nodiscard]] std::optional<stress::ShardSpec> shard_of(const boost::program_options::variables_map& vm,
                                                        const stress::CampaignConfig& c);

// `c` has passed stress::check_controlled_config() and check_shardable().
[[nodiscard]] ExitCode run_shard_campaign(const stress::CampaignConfig& c, const stress::ShardSpec& shard, bool json,
                                          std::ostream& out);

}  // namespace hvo::cli
