#include "stress/controlled_campaign.h"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <variant>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/locks/lockdep.h"
#include "engine/machine.h"
#include "engine/sched/strategy.h"
#include "engine/task.h"
#include "models/invariant_checker.h"
#include "models/registry.h"
#include "stress/actors.h"
#include "stress/rng.h"
#include "stress/workload.h"

namespace hvo::stress {

namespace {

uint64_t max_pool_pages(const Hstate& h) { return max_controlled_pool(h); }

// What one exploration shares with the executions it builds.
struct Probe {
  bool vary_seed = true;  // execution i uses base_seed + i
  uint64_t base_seed = 0;
  uint64_t executions = 0;
  std::optional<Violation> first;  // the current execution's first violation
  StepRing* ring = nullptr;
};

MachineConfig machine_config(const CampaignConfig& c, const ModelInfo& info) {
  MachineConfig m;
  m.memory_bytes = c.effective_memory();
  m.vmemmap_mapping = info.vmemmap_mapping;
  m.pte_access = c.pte_access;
  m.nr_cpus = c.threads;
  return m;
}

std::unique_ptr<Model> must_make_model(const CampaignConfig& c, Machine& m) {
  auto made = make_model(c.model, c.reverts, m);
  // check_controlled_config() ran before: a failure here is ours.
  if (auto* err = std::get_if<std::string>(&made)) throw std::logic_error(*err);
  return std::move(std::get<std::unique_ptr<Model>>(made));
}

// One execution's world, built by the scenario's setup in the execution's
// arena and torn down with it.
struct World {
  World(const CampaignConfig& c, const ModelInfo& info, const Workload& w, uint64_t seed, Probe& probe)
      : config(c),
        workload(w),
        seed(seed),
        probe(probe),
        machine(machine_config(c, info)),
        model(must_make_model(c, machine)),
        pool(machine, c.hstate, *model),
        checker(machine, pool, *model, boot_figures(machine)),
        actors{machine, pool, *model, max_pool_pages(c.hstate)} {
    // The listener keeps the violation itself: the log dies with the world,
    // before the caller could read it.
    machine.violations().set_listener([&probe = this->probe](const Violation& v) {
      if (!probe.first) probe.first = v;
    });
    (void)pool.set_max_huge_pages(c.initial_pool);  // on the main task: no schedule point is a decision
  }

  void run_cpu(unsigned cpu) {
    std::optional<RecordingHook> recording;
    if (probe.ring != nullptr) recording.emplace(*probe.ring, cpu);
    Rng rng(seed, cpu);
    ActorCounters counters;
    try {
      for (uint64_t k = 0; k < *config.iterations; ++k)
        run_actor(pick_actor(workload, rng), actors, rng, counters);
    } catch (const SelfDeadlock&) {
      // Lockdep recorded it and stops this CPU; the scheduler would catch
      // it too, but then the recording would miss the finish step.
    }
    if (recording) recording->finished();
  }

  // Everything finished: the stop-the-world invariants, then give every
  // hugepage back and check that everything came back.
  sched::Verdict check() {
    if (machine.violations().any()) return sched::Verdict::kViolation;
    bool ok = checker.check_quiescent();
    if (ok) {
      (void)pool.set_max_huge_pages(0);
      ok = checker.check_all_returned();
    }
    return ok && !machine.violations().any() ? sched::Verdict::kPass : sched::Verdict::kViolation;
  }

  const CampaignConfig& config;
  const Workload& workload;
  uint64_t seed;
  Probe& probe;
  Machine machine;
  std::unique_ptr<Model> model;
  HugetlbPool pool;
  InvariantChecker checker;
  ActorWorld actors;
};

sched::Scenario make_scenario(const CampaignConfig& c, Probe& probe) {
  const ModelInfo& info = *find_model(c.model);
  const Workload& workload = *find_workload(c.workload);
  return sched::Scenario{
      .name = c.model,
      .setup =
          [&c, &info, &workload, &probe](sched::Execution& e) {
            const uint64_t seed = probe.vary_seed ? probe.base_seed + probe.executions : probe.base_seed;
            ++probe.executions;
            probe.first.reset();
            if (probe.ring != nullptr) probe.ring->clear();
            World& w = e.make<World>(c, info, workload, seed, probe);
            e.watch(w.machine.violations());
            for (unsigned i = 0; i < c.threads; ++i) e.cpu([&w, i] { w.run_cpu(i); });
            e.check([&w] { return w.check(); });
          },
      .expected = sched::Verdict::kPass,
  };
}

}  // namespace

// At most while the CPUs run: enough to race on, few enough that an
// execution stays short (and that 1G pages fit in the default 4G).
uint64_t max_controlled_pool(const Hstate& h) { return h.gigantic() ? 2 : 4; }

std::string check_controlled_config(const CampaignConfig& c) {
  if (c.initial_pool > max_controlled_pool(c.hstate))
    return "--initial-pool " + std::to_string(c.initial_pool) + " is above the pool's ceiling " +
           std::to_string(max_controlled_pool(c.hstate));
  if (std::string err = check_model_and_reverts(c.model, c.reverts); !err.empty()) return err;
  if (find_workload(c.workload) == nullptr) return "unknown workload '" + c.workload + "'";
  if (c.threads < 1 || c.threads * sched::ids_per_cpu(c.memory_model) > sched::kMaxCpus)
    return "--threads " + std::to_string(c.threads) + ": controlled mode runs at most " +
           std::to_string(sched::kMaxCpus / sched::ids_per_cpu(c.memory_model)) + " CPUs under --memory-model " +
           std::string(sched::to_string(c.memory_model));
  if (!c.iterations || *c.iterations == 0) return "controlled mode needs a number of operations per CPU";
  if (c.duration_ms) return "controlled mode runs executions, not a duration";
  const uint64_t needed = (max_pool_pages(c.hstate) + 2) * c.hstate.bytes();
  if (c.effective_memory() < needed)
    return "--memory " + std::to_string(c.effective_memory() >> 20) + "M is too little for " +
           std::to_string(max_pool_pages(c.hstate)) + " hugepages of " + std::string(c.hstate.size_name) +
           " (at least " + std::to_string(needed >> 20) + "M)";
  return {};
}

ControlledResult run_controlled(const CampaignConfig& c) {
  Probe probe;
  probe.vary_seed = c.strategy != sched::StrategyKind::kBounded;
  probe.base_seed = c.seed;
  const sched::Scenario scenario = make_scenario(c, probe);
  sched::Options o;
  o.strategy = c.strategy;
  o.seed = c.seed;
  o.executions = c.seeds;
  o.depth = c.depth;
  o.preemptions = c.preemptions;
  o.max_steps = c.max_steps;
  o.memory_model = c.memory_model;
  o.stop_on_violation = true;
  o.stop_at_first_failure = true;
  ControlledResult r;
  r.report = sched::explore(scenario, o);
  if (r.report.first_failure) {
    // It was the last execution: the probe still holds its violation.
    r.failing_seed = probe.vary_seed ? c.seed + r.report.first_failure->index : c.seed;
    r.violation = probe.first;
  }
  return r;
}

ReplayResult replay_execution(const CampaignConfig& c, uint64_t seed, std::span<const sched::Decision> decisions,
                              StepRing* ring) {
  Probe probe;
  probe.vary_seed = false;
  probe.base_seed = seed;
  probe.ring = ring;
  const sched::Scenario scenario = make_scenario(c, probe);
  ReplayResult r;
  r.result = sched::replay(scenario, decisions, c.max_steps, true, c.memory_model);
  r.violation = probe.first;
  return r;
}

}  // namespace hvo::stress
