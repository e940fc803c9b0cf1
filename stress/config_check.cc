#include "stress/config_check.h"

#include <fmt/format.h>

#include "engine/machine_config.h"
#include "models/registry.h"
#include "stress/controlled_campaign.h"
#include "stress/host_memory.h"
#include "stress/size_parse.h"
#include "stress/workload.h"

namespace hvo::stress {

namespace {

// The flags' ranges (cmd_run.cc), for values that come from a file.
constexpr uint64_t kMaxIterations = uint64_t{1} << 50;
constexpr uint64_t kMaxSeeds = uint64_t{1} << 40;
constexpr uint64_t kMaxSteps = uint64_t{1} << 40;
constexpr uint64_t kMaxCheckEvery = uint64_t{1} << 40;

std::string out_of_range(std::string_view what, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v >= lo && v <= hi) return {};
  return fmt::format("{} {} is out of range ({}..{})", what, v, lo, hi);
}

// A workload that demotes needs 1 GiB pages (the demote source) and a
// model that has demote; elsewhere its demote operations would silently do
// nothing and the campaign would report 0 demoted as if it had tested it.
std::string check_demote(const CampaignConfig& c, const Workload& w) {
  bool demotes = w.weights[static_cast<size_t>(ActorKind::kDemote)] > 0;
  for (const ActorWeights& cw : w.cpu_weights) demotes = demotes || cw[static_cast<size_t>(ActorKind::kDemote)] > 0;
  if (!demotes) return {};
  if (!c.hstate.gigantic())
    return fmt::format("--workload {} demotes 1G hugepages: it needs --hugepage-size 1G (not {})", c.workload,
                       c.hstate.size_name);
  const ModelInfo* info = find_model(c.model);
  if (info != nullptr && !info->demote)
    return fmt::format("--workload {} needs a model with demote; model {} has none{}", c.workload, c.model,
                       c.model == "v17" ? " (the reviewed patch, 5.14, predates demote, 5.16)" : " (v6.10 has)");
  return {};
}

}  // namespace

unsigned machines_at_once(const CampaignConfig& c) {
  // Each --jobs thread builds its own world; the bounded search runs on one.
  if (c.mode == CampaignMode::kControlled && c.strategy != sched::StrategyKind::kBounded) return c.jobs;
  return 1;
}

std::string check_campaign_config(const CampaignConfig& c) {
  if (std::string err = check_model_and_reverts(c.model, c.reverts); !err.empty()) return err;
  const Workload* w = find_workload(c.workload);
  if (w == nullptr) return "unknown workload '" + c.workload + "'";
  if (std::string err = out_of_range("--threads", c.threads, 1, MachineConfig::kMaxCpus); !err.empty()) return err;
  if (c.iterations)
    if (std::string err = out_of_range("--iterations", *c.iterations, 1, kMaxIterations); !err.empty()) return err;
  if (!c.iterations && !c.duration_ms) return "neither --iterations nor --duration";
  const uint64_t memory = c.effective_memory();
  if (memory < MachineConfig::kMinMemory || memory > MachineConfig::kMaxMemory || memory % (uint64_t{2} << 20) != 0)
    return fmt::format("--memory {} is not a multiple of 2M in [{}, {}]", memory,
                       cli::format_size(MachineConfig::kMinMemory), cli::format_size(MachineConfig::kMaxMemory));
  if (c.hstate.gigantic() && memory < (uint64_t{4} << 30)) return "1G hugepages need at least 4G of memory";
  if (std::string err = check_demote(c, *w); !err.empty()) return err;
  if (c.mode == CampaignMode::kFree) {
    if (std::string err = out_of_range("--check-every", c.check_every, 1, kMaxCheckEvery); !err.empty()) return err;
  } else {
    if (std::string err = check_controlled_config(c); !err.empty()) return err;
    if (std::string err = out_of_range("--seeds", c.seeds, 1, kMaxSeeds); !err.empty()) return err;
    if (std::string err = out_of_range("--max-steps", c.max_steps, 1, kMaxSteps); !err.empty()) return err;
    if (std::string err = out_of_range("--depth", c.depth, 1, 64); !err.empty()) return err;
    if (std::string err = out_of_range("--preemptions", c.preemptions, 0, 1000); !err.empty()) return err;
    if (std::string err = out_of_range("--jobs", c.jobs, 1, CampaignConfig::kMaxJobs); !err.empty()) return err;
    // Execution i runs from seed + i (random, pct): the last one's seed
    // must exist, not wrap to 0 and repeat the range's start.
    if (c.strategy != sched::StrategyKind::kBounded && c.seeds - 1 > UINT64_MAX - c.seed)
      return fmt::format("--seed {} with --seeds {} runs past the last seed {} (at most --seeds {} from it)", c.seed,
                         c.seeds, UINT64_MAX, UINT64_MAX - c.seed + 1);
  }
  return check_host_memory(memory, machines_at_once(c));
}

}  // namespace hvo::stress
