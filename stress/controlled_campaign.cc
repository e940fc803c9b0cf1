#include "stress/controlled_campaign.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <variant>
#include <vector>


#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/locks/lockdep.h"
#include "engine/machine.h"
#include "engine/sched/strategy.h"
#include "engine/task.h"
#include "models/invariant_checker.h"
#include "models/registry.h"
#include "stress/actors.h"
#include "stress/interrupt.h"
#include "stress/rng.h"
#include "stress/tbb_executor.h"
#include "stress/test_only_plant.h"
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
  StepSink* ring = nullptr;
  // Allocation failure as a choice: the current execution's, rebuilt by
  // each setup (so that after the search it holds the last one's record),
  // replaying `replay_failures` when that is set.
  std::optional<sched::AllocChoice> alloc;
  std::optional<std::vector<uint64_t>> replay_failures;
  FaultStats faults;  // summed as each execution's world is torn down
  // The search's coverage sink, on the thread that runs its executions.
  CoverageSink* coverage = nullptr;
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
    plant_bugs(c.planted_bugs, *model, pool);  // test-only; empty from the CLI
    pool.set_unlink_free_observer([this](Pfn head) { (void)checker.check_vmemmap_settled(head, pool.hstate()); });
    // On the main task: no schedule point is a decision.
    set_up_pool(workload, actors);
    (void)pool.set_max_huge_pages(c.initial_pool);
    // Only the CPUs' allocations are choices: installed after the setup's,
    // removed before the end check's (check()).
    if (probe.alloc) machine.alloc_failure().set_decider(&*probe.alloc);
  }

  ~World() {
    machine.alloc_failure().set_decider(nullptr);
    FaultStats f;
    if (probe.alloc) {
      f.alloc_points = probe.alloc->points();
      f.allocs_failed = probe.alloc->failed().size();
      f.executions_with_failure = f.allocs_failed > 0 ? 1 : 0;
    }
    f.restore_failures = pool.vmemmap_stats().restore_failures;
    if (HugetlbPool* d = pool.demote_pool()) f.restore_failures += d->vmemmap_stats().restore_failures;
    probe.faults += f;
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

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
    // The end check's shrink must give everything back: no failure here.
    machine.alloc_failure().set_decider(nullptr);
    if (machine.violations().any()) return sched::Verdict::kViolation;
    bool ok = checker.check_quiescent();
    if (ok) {
      release_held_folios(actors);
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
            if (probe.coverage != nullptr) probe.coverage->begin_execution();
            // The choice's draws are salted, never the strategy's: with
            // fail_allocs 0 there is no choice and no draw.
            if (probe.replay_failures)
              probe.alloc = sched::AllocChoice::replay(*probe.replay_failures);
            else if (c.fail_allocs > 0)
              probe.alloc = sched::AllocChoice::explore(c.fail_allocs, seed);
            else
              probe.alloc.reset();
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

namespace {

sched::Options search_options(const CampaignConfig& c) {
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
  // SIGINT/SIGTERM (interrupt.h) end the search between two executions;
  // so does the deadline (run_controlled() tells the two apart).
  o.stop_requested = [stop_at = c.stop_at] {
    return interrupt_requested() || (stop_at && std::chrono::steady_clock::now() >= *stop_at);
  };
  return o;
}

// Execution `index` of the search, alone, on the calling thread: its own
// scheduler, world and strategy, so that executions can run on several
// threads at once. `pct_steps` is the PCT estimate k it starts with (the
// one strategy state an execution inherits from the ones before it).
struct SearchStep {
  sched::Report report;  // of this one execution; report.last.index is 0
  std::optional<Violation> violation;
  FaultStats faults;
  std::vector<uint64_t> alloc_failures;
  CoverageReport coverage;
};
SearchStep run_search_step(const CampaignConfig& c, uint64_t index, uint64_t pct_steps) {
  Probe probe;
  probe.base_seed = c.seed + index;  // vary_seed: + 0 for its one execution
  const sched::Scenario scenario = make_scenario(c, probe);
  sched::Options o = search_options(c);
  o.seed = c.seed + index;
  o.executions = 1;
  o.pct_steps = pct_steps;
  // A step is one execution, always run whole: the batch loop is where the
  // parallel search stops (run_controlled_parallel()).
  o.stop_requested = {};
  // Per thread, kept across steps: the race detector's tables and the
  // arena stay grown (rebuilding them cost more than a step's execution).
  thread_local sched::Explorer explorer;
  // A sink per thread, kept across steps: its report is this step's alone
  // after the reset below.
  thread_local CoverageSink sink;
  sink = CoverageSink();
  probe.coverage = &sink;
  const CoverageScope coverage(&sink);
  SearchStep step{explorer.explore(scenario, o), std::nullopt, {}, {}, {}};
  step.coverage = sink.report();
  step.violation = probe.first;
  // The world is torn down when its execution ends: its figures are in.
  step.faults = probe.faults;
  if (probe.alloc) step.alloc_failures = probe.alloc->failed();
  return step;
}

// The search's worker threads are a oneTBB task_arena of c.jobs threads
// (tbb_executor.h), living as long as the search; each execution is one
// task, taken by whichever worker is free (executions differ a lot in
// length). A worker's thread_local Explorer (run_search_step()) keeps its
// grown storage from task to task and from search to search (the trials of
// time-to-bug), which is why it is thread_local rather than a
// tbb::enumerable_thread_specific that would die with each search's arena.
//
// ThreadSanitizer: TBB's runtime is uninstrumented; the executor tells TSan
// about the hand-over of each task and of its completion (tbb_executor.h),
// so the tsan build checks the search's own accesses on every worker.

// The search of run_controlled() on c.jobs threads (run_batch()), with the result of the
// sequential one: executions are accepted in index order, each counted as
// the sequential search counts it, and the first failing one accepted ends
// the search, so the failure reported is the lowest failing index's, never
// the first to finish.
//
// Executions are independent except for PCT's k, which grows to the most
// decisions seen so far (pct_strategy.h): execution i needs the maximum
// over executions 0..i-1. Each batch runs speculatively with the k known at
// its start; an execution whose true k turns out different (a predecessor
// in its batch set a new maximum) is discarded and the next batch starts
// at it. New maxima are rare after the first executions, so little is
// run twice; random has no such state and nothing is.
ControlledResult run_controlled_parallel(const CampaignConfig& c) {
  const bool pct = c.strategy == sched::StrategyKind::kPct;
  ControlledResult r;
  sched::Report& rep = r.report;
  rep.scenario = c.model;
  rep.strategy = c.strategy;
  rep.expected = sched::Verdict::kPass;
  const auto t0 = std::chrono::steady_clock::now();
  TaskExecutor pool(c.jobs);
  std::vector<std::optional<SearchStep>> batch;
  uint64_t next = 0;  // the first execution not accepted yet
  uint64_t k = 0;     // pct: the estimate execution `next` starts with (0: measured by it)
  while (next < c.seeds && !rep.first_failure) {
    // Between batches: the executions accepted so far are whole and counted.
    if (interrupt_requested()) {
      rep.interrupted = true;
      break;
    }
    if (c.stop_at && std::chrono::steady_clock::now() >= *c.stop_at) break;  // the deadline: the search's end
    // Under PCT the first execution measures k alone: every other would be
    // run with k unknown and discarded.
    const uint64_t size = pct && k == 0 ? 1 : uint64_t{4} * c.jobs;
    const uint64_t end = std::min<uint64_t>(c.seeds, next + size);
    batch.assign(end - next, std::nullopt);
    // Each index writes its own slot; run_batch() returning orders them
    // all before the reads below (tbb_executor.h).
    pool.run_batch(next, end, [&](uint64_t i) { batch[i - next] = run_search_step(c, i, k); });
    uint64_t accepted = next;
    uint64_t true_k = k;
    for (; accepted < end; ++accepted) {
      if (true_k != k) break;  // run with a stale k: run it again in the next batch
      SearchStep& step = *batch[accepted - next];
      sched::ExecutionResult x = std::move(step.report.last);
      x.index = accepted;
      x.seed = c.seed + accepted;
      ++rep.executions;
      ++rep.verdicts[static_cast<int>(x.verdict)];
      r.faults += step.faults;
      r.coverage += step.coverage;
      rep.schedule_points += step.report.schedule_points;
      if (pct) true_k = step.report.pct_steps;
      const bool failed = sched::is_failure(x.verdict);
      rep.last = std::move(x);
      if (failed) {
        rep.first_failure = rep.last;
        r.failing_seed = c.seed + accepted;
        r.violation = std::move(step.violation);
        r.alloc_failures = std::move(step.alloc_failures);
        break;
      }
    }
    next = rep.first_failure ? end : accepted;
    k = true_k;
  }
  rep.pct_steps = k;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.executions_per_second = rep.seconds > 0 ? static_cast<double>(rep.executions) / rep.seconds : 0;
  return r;
}

}  // namespace

bool run_random_executions(const CampaignConfig& c, uint64_t count, const std::function<uint64_t(uint64_t)>& index_of,
                           const std::function<bool(IndexedExecution&)>& accept) {
  if (c.strategy != sched::StrategyKind::kRandom) throw std::logic_error("run_random_executions: not random");
  TaskExecutor pool(c.jobs);
  std::vector<std::optional<SearchStep>> batch;
  for (uint64_t next = 0; next < count;) {
    if (interrupt_requested()) return true;
    const uint64_t end = std::min<uint64_t>(count, next + uint64_t{4} * c.jobs);
    batch.assign(end - next, std::nullopt);
    // Each position writes its own slot; run_batch() returning orders them
    // all before the reads below (tbb_executor.h).
    pool.run_batch(next, end, [&](uint64_t i) { batch[i - next] = run_search_step(c, index_of(i), 0); });
    for (uint64_t i = next; i < end; ++i) {
      SearchStep& step = *batch[i - next];
      IndexedExecution x{std::move(step.report.last), step.report.schedule_points, std::move(step.violation)};
      x.result.index = index_of(i);
      x.result.seed = c.seed + x.result.index;
      if (!accept(x)) return false;
    }
    next = end;
  }
  return false;
}

ControlledResult run_controlled(const CampaignConfig& c) {
  if (c.jobs > 1 && c.strategy != sched::StrategyKind::kBounded) return run_controlled_parallel(c);
  Probe probe;
  probe.vary_seed = c.strategy != sched::StrategyKind::kBounded;
  probe.base_seed = c.seed;
  CoverageSink sink;
  probe.coverage = &sink;
  const sched::Scenario scenario = make_scenario(c, probe);
  const sched::Options o = search_options(c);
  ControlledResult r;
  {
    const CoverageScope coverage(&sink);
    r.report = sched::explore(scenario, o);
  }
  // A stop at the deadline is the search's end, not an interruption.
  if (r.report.interrupted && !interrupt_requested()) r.report.interrupted = false;
  r.coverage = sink.report();
  if (r.report.first_failure) {
    // It was the last execution: the probe still holds its violation.
    r.failing_seed = probe.vary_seed ? c.seed + r.report.first_failure->index : c.seed;
    r.violation = probe.first;
  }
  // The failing execution's, or (no failure) the last one's.
  if (probe.alloc) r.alloc_failures = probe.alloc->failed();
  r.faults = probe.faults;
  return r;
}

ReplayResult replay_execution(const CampaignConfig& c, uint64_t seed, std::span<const sched::Decision> decisions,
                              StepSink* ring, std::span<const uint64_t> alloc_failures) {
  Probe probe;
  probe.vary_seed = false;
  probe.base_seed = seed;
  probe.ring = ring;
  // Replayed whatever c.fail_allocs says: the file's list is the record.
  probe.replay_failures.emplace(alloc_failures.begin(), alloc_failures.end());
  const sched::Scenario scenario = make_scenario(c, probe);
  ReplayResult r;
  r.result = sched::replay(scenario, decisions, c.max_steps, true, c.memory_model);
  r.violation = probe.first;
  r.alloc_failures_reached = probe.alloc && probe.alloc->complete();
  return r;
}

}  // namespace hvo::stress
