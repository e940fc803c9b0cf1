#include "stress/cmd_run_shard.h"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "engine/check.h"
#include "stress/atomic_file.h"
#include "stress/cmd_run_controlled.h"
#include "stress/flag_values.h"
#include "stress/interrupt.h"
#include "stress/json_out.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

void add_shard_flags(po::options_description& flags) {
  flags.add_options()
      ("shard", po::value<std::string>()->value_name("K/N"),
       "controlled, random: run shard K (from 0) of N and write its result file for `hvo-stress merge` "
       "(default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX)")
      ("shard-count", po::value<std::string>()->value_name("N"),
       "with JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs): the number of shards (or HVO_SHARD_COUNT)")
      ("shard-block", po::value<std::string>()->value_name("B"),
       "executions per block dealt round-robin to the shards (default 64; every shard must use the same)");
}

std::optional<stress::ShardSpec> shard_of(const po::variables_map& vm, const stress::CampaignConfig& c) {
  const bool controlled = c.mode == stress::CampaignMode::kControlled;
  for (const char* flag : {"shard", "shard-count", "shard-block"})
    if (!controlled && vm.count(flag)) throw UsageError(std::string("--") + flag, "needs --mode controlled");
  // A free campaign is not a seed space: a job array's variables do not apply.
  if (!controlled) return std::nullopt;
  std::optional<stress::ShardSpec> spec;
  std::string where = "--shard";
  if (vm.count("shard")) {
    if (vm.count("shard-count"))
      throw UsageError("--shard-count", "is for JOB_COMPLETION_INDEX: --shard K/N names the count");
    auto parsed = stress::parse_shard(vm["shard"].as<std::string>());
    if (auto* e = std::get_if<std::string>(&parsed)) throw UsageError("--shard", *e);
    spec = std::get<stress::ShardSpec>(parsed);
  } else {
    std::optional<uint64_t> count;
    if (vm.count("shard-count"))
      count = parse_count_flag("--shard-count", vm["shard-count"].as<std::string>(), 1, stress::kMaxShards);
    auto env = stress::shard_from_environment([](const char* name) { return std::getenv(name); }, count);
    if (auto* e = std::get_if<std::string>(&env)) throw UsageError(vm.count("shard-count") ? "--shard-count" : "shard", *e);
    if (auto* s = std::get_if<stress::ShardSpec>(&env)) spec = *s;
    where = "shard (from the environment)";
  }
  if (!spec) {
    if (vm.count("shard-block")) throw UsageError("--shard-block", "needs a shard (--shard K/N)");
    return std::nullopt;
  }
  if (vm.count("shard-block"))
    spec->block = parse_count_flag("--shard-block", vm["shard-block"].as<std::string>(), 1, stress::kMaxShardBlock);
  if (std::string err = stress::check_shardable(c); !err.empty()) throw UsageError(where, err);
  return spec;
}

ExitCode run_shard_campaign(const stress::CampaignConfig& c, const stress::ShardSpec& shard, bool json_out,
                            std::ostream& out) {
  if (std::string err = stress::prepare_directory(c.out_dir); !err.empty()) throw UsageError("--out", err);
  std::optional<stress::ControlledResult> failing;
  stress::ShardResult r = stress::run_shard(c, shard, failing);
  // The finding first, then the result that names it: a result file never
  // points at a replay file that is not there yet.
  if (failing) r.failure->replay_file = save_controlled_failure(c, *failing);
  const std::string stem = fmt::format("shard-{}-of-{}", shard.index, shard.count);
  const stress::AtomicWriteResult w =
      stress::write_new_file(c.out_dir, stem, ".json", boost::json::serialize(stress::to_json(r)) + "\n");
  if (!w.ok()) throw InternalError("shard result not saved: " + w.error);
  std::cerr << "hvo-stress: shard result " << w.path << "\n";
  uint64_t executions = 0;
  for (const stress::BlockResult& b : r.blocks) executions += b.executions;
  if (json_out) {
    boost::json::object o = stress::to_json(r);
    o["result_file"] = w.path;
    print_json(out, o);
  } else {
    out << fmt::format("shard {}/{} (blocks of {}) of: {}\n", shard.index, shard.count, shard.block,
                       c.command_line());
    out << fmt::format("executions      {} in {} blocks, {:.2f} s\n", executions, r.blocks.size(), r.seconds);
    if (r.failure)
      out << fmt::format("first failure   execution {} (seed {}): {}\n", r.failure->index, r.failure->seed,
                         failing->violation ? failing->violation->to_string() : failing->report.last.message);
    else
      out << "first failure   none\n";
    if (r.interrupted) out << "interrupted     by a signal: its later blocks were not run\n";
    out << "result          " << w.path << "\n";
  }
  if (r.failure) return ExitCode::kViolation;
  return r.interrupted ? interrupted_exit_code() : ExitCode::kOk;
}

}  // namespace hvo::cli
