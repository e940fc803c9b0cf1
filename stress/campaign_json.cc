#include "stress/campaign_json.h"

#include "stress/coverage.h"
#include "stress/fail_alloc_parse.h"

#include <fmt/format.h>

namespace hvo::stress {

namespace json = boost::json;

namespace {
// Addresses as hex strings: they exceed 2^53 and would lose bits in readers
// that hold numbers as doubles.
std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }
}  // namespace

json::object to_json(const CampaignConfig& c) {
  json::array reverts;
  for (const std::string& r : c.reverts) reverts.emplace_back(r);
  json::object o;
  o["model"] = c.model;
  o["reverts"] = std::move(reverts);
  o["mode"] = std::string(to_string(c.mode));
  o["threads"] = c.threads;
  if (c.iterations) o["iterations"] = *c.iterations;
  if (c.duration_ms) o["duration_ms"] = *c.duration_ms;
  o["seed"] = c.seed;
  o["workload"] = c.workload;
  o["hugepage_size"] = std::string(c.hstate.size_name);
  o["memory_bytes"] = c.effective_memory();
  o["pte_access"] = std::string(to_string(c.pte_access));
  if (c.mode == CampaignMode::kFree) {
    o["check_every"] = c.check_every;
    if (c.fail_alloc) o["fail_alloc"] = to_string(*c.fail_alloc);
    return o;
  }
  o["strategy"] = std::string(sched::to_string(c.strategy));
  o["seeds"] = c.seeds;
  o["depth"] = c.depth;
  o["preemptions"] = c.preemptions;
  o["max_steps"] = c.max_steps;
  o["initial_pool"] = c.initial_pool;
  o["memory_model"] = std::string(sched::to_string(c.memory_model));
  // Only when set, so that summaries and replay files without it are
  // unchanged (and files written before it existed read as 0).
  if (c.fail_allocs != 0) o["fail_allocs"] = c.fail_allocs;
  return o;
}

json::object to_json(const Violation& v) {
  json::object o;
  o["kind"] = std::string(to_string(v.kind));
  o["invariant"] = std::string(to_string(v.invariant));
  o["cpu"] = v.cpu.value();
  o["step"] = v.step;
  o["operation"] = v.operation;
  o["message"] = v.message;
  o["address"] = v.address != 0 ? json::value(hex(v.address)) : json::value(nullptr);
  o["pfn"] = v.pfn ? json::value(hex(v.pfn->value())) : json::value(nullptr);
  o["frame"] = v.frame ? json::value(hex(v.frame->value())) : json::value(nullptr);
  return o;
}

json::object to_json(const CampaignStats& s) {
  json::object actors;
  for (int i = 0; i < kNumActorKinds; ++i) actors[to_string(static_cast<ActorKind>(i))] = s.actors.ops[i];
  json::object o;
  o["operations"] = s.operations;
  o["operations_per_s"] = s.elapsed_s > 0 ? static_cast<double>(s.operations) / s.elapsed_s : 0.0;
  o["elapsed_s"] = s.elapsed_s;
  o["actors"] = std::move(actors);
  o["hugepages_owned"] = s.actors.folios_owned;
  o["speculative_refs"] = s.actors.speculative_refs;
  o["kpageflags_checked"] = s.actors.kpageflags_checked;
  o["schedule_points"] = s.schedule_points;
  o["quiescent_checks"] = s.quiescent_checks;
  o["hugepages_optimized"] = s.vmemmap.optimized;
  o["hugepages_restored"] = s.vmemmap.restored;
  o["cycles"] = std::min(s.vmemmap.optimized, s.vmemmap.restored);
  o["cycles_per_s"] =
      s.elapsed_s > 0 ? static_cast<double>(std::min(s.vmemmap.optimized, s.vmemmap.restored)) / s.elapsed_s : 0.0;
  o["restore_failures"] = s.vmemmap.restore_failures;
  o["vmemmap_pages_freed"] = s.vmemmap.pages_freed;
  o["vmemmap_pages_allocated"] = s.vmemmap.pages_allocated;
  o["tlb_flushes"] = s.tlb_flushes;
  o["grace_periods"] = s.grace_periods;
  o["grace_periods_per_operation"] =
      s.operations > 0 ? static_cast<double>(s.grace_periods) / static_cast<double>(s.operations) : 0.0;
  o["tlb_flushes_per_operation"] =
      s.operations > 0 ? static_cast<double>(s.tlb_flushes) / static_cast<double>(s.operations) : 0.0;
  // d8d55f5616cf's figure: with the write lock of 5.15-5.16 every walk
  // waits for a splitting one; with the read lock no walk waits for another.
  o["mmap_lock_waits"] = s.mmap_lock_waits;
  o["mmap_lock_waits_per_operation"] =
      s.operations > 0 ? static_cast<double>(s.mmap_lock_waits) / static_cast<double>(s.operations) : 0.0;
  o["hugepages_demoted"] = s.vmemmap.demoted;  // 1 GiB folios demoted into 2 MiB ones (the demote actor)
  o["max_pool_pages"] = s.max_pool_pages;
  // Only when something was injected (--fail-alloc), so that other
  // summaries stay as they were.
  if (s.allocs_failed != 0) o["allocations_failed"] = s.allocs_failed;
  return o;
}

json::object summary_json(const CampaignConfig& c, const CampaignResult& r, const std::vector<std::string>& files) {
  json::object o = to_json(c);
  json::array vs;
  for (const Violation& v : r.violations) vs.emplace_back(to_json(v));
  o["violations"] = std::move(vs);
  o["violation_count"] = r.violation_count;
  o["interrupted"] = r.interrupted;
  o["stats"] = to_json(r.stats);
  o["coverage"] = to_json(r.stats.coverage, coverage_warnings(c.model, r.stats.coverage, false));
  // Free mode: the interleaving is the machine's; only controlled mode has
  // a trace hash that names it.
  o["trace_hash"] = nullptr;
  json::array replay;
  for (const std::string& f : files) replay.emplace_back(f);
  o["replay_files"] = std::move(replay);
  o["command"] = c.command_line();
  return o;
}

json::object replay_json(const CampaignConfig& c, const Violation& v) {
  json::object o;
  o["format"] = std::string(kReplayFormat);
  o["version"] = kReplayVersion;
  o["mode"] = "free";
  o["config"] = to_json(c);
  o["violation"] = to_json(v);
  o["command"] = c.command_line();
  return o;
}

}  // namespace hvo::stress
