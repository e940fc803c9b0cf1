#include "stress/cmd_merge.h"

#include <iostream>

#include "stress/cmd_run_controlled.h"
#include "stress/replay_file.h"
#include "stress/shard.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

constexpr const char* kResults = "RESULT...";
// A shard result holds a few numbers per block: even a million blocks fit.
constexpr uint64_t kMaxShardResultBytes = uint64_t{256} << 20;

po::options_description merge_flags() {
  po::options_description flags("merge flags");
  flags.add_options()("json", po::bool_switch(), "print the merged result as `run --json` does");
  return flags;
}

ExitCode run_merge(const po::variables_map& vm, std::ostream& out) {
  const std::vector<std::string> names = vm[kResults].as<std::vector<std::string>>();
  std::vector<stress::ShardResult> shards;
  for (const std::string& name : names) {
    stress::InputText in = stress::read_input_file(name, kMaxShardResultBytes);
    if (!in.error.empty()) throw UsageError(abbreviate(name), in.error);
    auto parsed = stress::parse_shard_result(in.text);
    if (auto* e = std::get_if<std::string>(&parsed)) throw UsageError(abbreviate(name), "not a shard result: " + *e);
    shards.push_back(std::move(std::get<stress::ShardResult>(parsed)));
  }
  auto merged = stress::merge_shards(shards, names);
  if (auto* e = std::get_if<std::string>(&merged)) throw UsageError("merge", *e);
  const stress::MergedResult& m = std::get<stress::MergedResult>(merged);
  for (const std::string& note : m.notes) std::cerr << "hvo-stress: " << note << "\n";
  if (!m.replay_file.empty()) std::cerr << "hvo-stress: replay: hvo-stress replay " << m.replay_file << "\n";
  print_controlled_result(out, m.config, m.result, m.replay_file, vm["json"].as<bool>());
  return m.result.report.first_failure ? ExitCode::kViolation : ExitCode::kOk;
}

}  // namespace

Command merge_command() {
  return Command{
      .name = "merge",
      .synopsis = "merge RESULT... [--json]",
      .summary = "folds every shard's result (run --shard K/N) into the unsharded search's result",
      .positionals = {kResults},
      .flags = merge_flags,
      .run = run_merge,
  };
}

}  // namespace hvo::cli
