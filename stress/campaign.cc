#include "stress/campaign.h"

#include <atomic>
#include <barrier>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>

#include "engine/machine.h"
#include "engine/task.h"
#include "models/invariant_checker.h"
#include "models/registry.h"
#include "stress/interrupt.h"
#include "stress/test_only_plant.h"

namespace hvo::stress {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

MachineConfig machine_config(const CampaignConfig& c, const ModelInfo& info) {
  MachineConfig m;
  m.memory_bytes = c.effective_memory();
  m.vmemmap_mapping = info.vmemmap_mapping;
  m.pte_access = c.pte_access;
  m.nr_cpus = c.threads;
  return m;
}

// The resizer's ceiling: half of what buddy has free, in hugepages, at most 64.
uint64_t max_pool_pages(Machine& m, const Hstate& h) {
  const uint64_t free_pages = m.buddy().counters().free_pages;
  return std::clamp<uint64_t>(free_pages / h.nr_pages() / 2, 1, 64);
}

// Everything the threads share.
struct Run {
  const CampaignConfig& config;
  const Workload& workload;
  ActorWorld world;
  InvariantChecker& checker;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> operations{0};
  std::atomic<uint64_t> quiescent_checks{0};
  Clock::time_point start;
  bool interrupted = false;  // written in the barrier's completion, read after the join
};

// One simulated CPU's loop: rounds of operations, a stop-the-world check
// after each (the barrier's completion).
template <class Barrier>
void cpu_main(Run& run, Barrier& sync, unsigned cpu, ActorCounters& counters, uint64_t& schedule_points,
              std::exception_ptr& error, CoverageSink& sink) {
  Task task{CpuId(cpu)};
  TaskScope scope(task);
  const CoverageScope coverage(&sink);
  Rng rng(run.config.seed, cpu);
  const unsigned n = run.config.threads;
  const uint64_t round = std::max<uint64_t>(1, run.config.check_every / n);
  // This thread's share of --iterations; in --duration mode no bound.
  const uint64_t quota = run.config.iterations ? (*run.config.iterations + n - 1) / n : UINT64_MAX;
  uint64_t done = 0;
  // In --duration mode a round also ends when the time is up, so that slow
  // operations (1 GiB pages) do not carry a campaign far past it.
  const auto time_up = [&] {
    return run.config.duration_ms &&
           seconds_since(run.start) * 1000 >= static_cast<double>(*run.config.duration_ms);
  };
  try {
    for (;;) {
      for (uint64_t k = 0; k < round && done < quota && !run.stop.load(std::memory_order_relaxed) && !time_up() &&
                           !interrupt_requested();
           ++k, ++done) {
        run_actor(pick_actor(run.workload, rng), run.world, rng, counters);
        run.operations.fetch_add(1, std::memory_order_relaxed);
      }
      sync.arrive_and_wait();
      // Every thread sees the same stop flag after the barrier, and in
      // iterations mode all reach their quota in the same round.
      if (run.stop.load(std::memory_order_acquire) || done >= quota) break;
    }
  } catch (...) {
    error = std::current_exception();
    run.stop.store(true, std::memory_order_release);
    sync.arrive_and_drop();  // the others must not wait for this thread
  }
  schedule_points = task.schedule_points;
}

}  // namespace

CampaignResult run_free_campaign(const CampaignConfig& config, const FindingSink& on_finding,
                                 const ProgressSink& on_progress) {
  const ModelInfo* info = find_model(config.model);
  if (info == nullptr) throw std::invalid_argument("unknown model " + config.model);
  const Workload* workload = find_workload(config.workload);
  if (workload == nullptr) throw std::invalid_argument("unknown workload " + config.workload);

  Machine machine(machine_config(config, *info));
  auto made = make_model(config.model, config.reverts, machine);
  if (auto* err = std::get_if<std::string>(&made)) throw std::invalid_argument(*err);
  Model& model = *std::get<std::unique_ptr<Model>>(made);
  HugetlbPool pool(machine, config.hstate, model);
  plant_bugs(config.planted_bugs, model, pool);  // test-only; empty from the CLI
  InvariantChecker checker(machine, pool, model, boot_figures(machine));
  pool.set_unlink_free_observer(
      [&checker, &pool](Pfn head) { (void)checker.check_vmemmap_settled(head, pool.hstate()); });
  const uint64_t max_pool = max_pool_pages(machine, config.hstate);
  if (config.hstate.gigantic() && machine.buddy().counters().free_pages < 2 * config.hstate.nr_pages())
    throw std::invalid_argument("--memory is too small for 1G hugepages (at least 4G)");

  Run run{config, *workload, ActorWorld{machine, pool, model, max_pool}, checker, {}, {}, {}, Clock::now(), false};
  set_up_pool(*workload, run.world);
  // fail_page_alloc for the threads' allocations (not the setup's), decided
  // from the campaign's seed and each allocation's index.
  if (config.fail_alloc) machine.alloc_failure().configure(*config.fail_alloc, config.seed);
  machine.violations().set_listener([&](const Violation& v) {
    on_finding(v);
    run.stop.store(true, std::memory_order_release);
  });

  std::exception_ptr check_error;
  auto complete = [&run, &check_error]() noexcept {
    // Stop-the-world: every thread is parked at the barrier. The completion
    // must not throw (std::barrier would terminate): an internal error of
    // the checker is kept and rethrown after the threads are joined.
    run.quiescent_checks.fetch_add(1, std::memory_order_relaxed);
    try {
      (void)run.checker.check_quiescent();
    } catch (...) {
      check_error = std::current_exception();
      run.stop.store(true, std::memory_order_release);
    }
    if (run.config.duration_ms && seconds_since(run.start) * 1000 >= static_cast<double>(*run.config.duration_ms))
      run.stop.store(true, std::memory_order_release);
    // SIGINT/SIGTERM (interrupt.h): this barrier is the safe point. Every
    // thread sees the stop after it, so all leave the loop together.
    if (interrupt_requested()) {
      run.interrupted = true;
      run.stop.store(true, std::memory_order_release);
    }
  };
  std::barrier sync(static_cast<std::ptrdiff_t>(config.threads), complete);
  std::vector<ActorCounters> counters(config.threads);
  std::vector<uint64_t> points(config.threads, 0);
  std::vector<std::exception_ptr> errors(config.threads);
  std::vector<CoverageSink> sinks(config.threads);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < config.threads; ++i)
    threads.emplace_back([&, i] { cpu_main(run, sync, i, counters[i], points[i], errors[i], sinks[i]); });

  if (on_progress) {
    while (!run.stop.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const VmemmapStats vs = pool.vmemmap_stats();
      on_progress(run.operations.load(std::memory_order_relaxed), vs.optimized + vs.restored,
                  machine.violations().count(), seconds_since(run.start));
      if (config.iterations && run.operations.load(std::memory_order_relaxed) >= *config.iterations) break;
    }
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  if (check_error) std::rethrow_exception(check_error);

  // The end: give everything back and check that it all came back, which
  // an injected failure must not stop.
  machine.alloc_failure().disable();
  if (!machine.violations().any()) {
    Task task{CpuId(0)};
    TaskScope scope(task);
    release_held_folios(run.world);
    (void)pool.set_max_huge_pages(0);
    (void)checker.check_all_returned();
  }

  CampaignResult r;
  r.violations = machine.violations().snapshot();
  r.violation_count = machine.violations().count();
  r.interrupted = run.interrupted;
  CampaignStats& s = r.stats;
  s.elapsed_s = seconds_since(run.start);
  s.operations = run.operations.load();
  for (const ActorCounters& c : counters) s.actors += c;
  for (uint64_t p : points) s.schedule_points += p;
  s.quiescent_checks = run.quiescent_checks.load();
  s.grace_periods = machine.rcu().grace_periods();
  s.tlb_flushes = machine.mmu().flushes();
  s.mmap_lock_waits = machine.page_tables().init_mm().mmap_lock.waits();
  s.vmemmap = pool.vmemmap_stats();
  s.max_pool_pages = max_pool;
  s.allocs_failed = machine.alloc_failure().injected();
  for (const CoverageSink& sink : sinks) s.coverage += sink.report();
  return r;
}

}  // namespace hvo::stress
