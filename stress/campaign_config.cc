#include "stress/campaign_config.h"

#include "stress/fail_alloc_parse.h"
#include "stress/size_parse.h"

namespace hvo::stress {

std::string_view to_string(CampaignMode m) { return m == CampaignMode::kControlled ? "controlled" : "free"; }

uint64_t CampaignConfig::effective_memory() const {
  if (memory_bytes != 0) return memory_bytes;
  // Controlled mode builds a fresh machine per execution: keep it small.
  if (mode == CampaignMode::kControlled) return hstate.gigantic() ? uint64_t{4} << 30 : uint64_t{256} << 20;
  // Room for a pool of a few dozen 2 MiB pages, or a few 1 GiB ones.
  return hstate.gigantic() ? uint64_t{4} << 30 : uint64_t{1} << 30;
}

std::string format_duration_ms(uint64_t ms) {
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string CampaignConfig::command_line() const {
  std::string c = "hvo-stress run --model " + model;
  for (const std::string& r : reverts) c += " --revert " + r;
  c += " --mode " + std::string(to_string(mode)) + " --threads " + std::to_string(threads);
  if (iterations) c += " --iterations " + std::to_string(*iterations);
  if (duration_ms) c += " --duration " + format_duration_ms(*duration_ms);
  c += " --seed " + std::to_string(seed);
  c += " --workload " + workload;
  c += " --hugepage-size " + std::string(hstate.size_name);
  c += " --memory " + cli::format_size(effective_memory());
  c += " --pte-access " + std::string(to_string(pte_access));
  if (mode == CampaignMode::kFree) {
    c += " --check-every " + std::to_string(check_every);
    if (fail_alloc) c += " --fail-alloc " + to_string(*fail_alloc);
    return c;
  }
  c += " --strategy " + std::string(sched::to_string(strategy)) + " --seeds " + std::to_string(seeds);
  if (strategy == sched::StrategyKind::kPct) c += " --depth " + std::to_string(depth);
  if (strategy == sched::StrategyKind::kBounded) c += " --preemptions " + std::to_string(preemptions);
  c += " --max-steps " + std::to_string(max_steps);
  c += " --initial-pool " + std::to_string(initial_pool);
  c += " --memory-model " + std::string(sched::to_string(memory_model));
  // Only when set: a command without it is the same run as before the flag.
  if (fail_allocs != 0) c += " --fail-allocs " + std::to_string(fail_allocs);
  return c;
}

}  // namespace hvo::stress
