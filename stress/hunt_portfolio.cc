#include "stress/hunt_portfolio.h"

#include <algorithm>

#include <fmt/format.h>

#include "stress/fail_alloc_parse.h"
#include "stress/workload.h"

namespace hvo::stress {

namespace {
constexpr uint64_t k64M = uint64_t{64} << 20;
constexpr uint64_t kGiganticMaxSteps = 1'500'000;
constexpr uint64_t kGiganticExecutionDivisor = 8;
}  // namespace

HuntDimensions hunt_dimensions(std::string_view model) {
  HuntDimensions d;
  for (const Workload& w : all_workloads()) {
    // Demote needs 1 GiB pages and a model that demotes (v6.10).
    if (std::string_view(w.name) == "demote" && model != "v6.10") continue;
    d.workloads.emplace_back(w.name);
  }
  d.shapes = {
      {"2x4", 2, 4, 2, 0},
      {"2x1-empty-64M", 2, 1, 0, k64M},
      {"4x1-empty-64M", 4, 1, 0, k64M},
      {"4x4", 4, 4, 2, 0},
      {"1G-1x1-empty", 1, 1, 0, 0, true},
      {"1G-2x1-empty", 2, 1, 0, 0, true},
  };
  using sched::MemoryModel;
  using sched::StrategyKind;
  d.schedulers = {
      {"random", false, StrategyKind::kRandom, 3, MemoryModel::kSc},
      {"pct2", false, StrategyKind::kPct, 2, MemoryModel::kSc},
      {"pct3", false, StrategyKind::kPct, 3, MemoryModel::kSc},
      {"pct5", false, StrategyKind::kPct, 5, MemoryModel::kSc},
      {"random-weak", false, StrategyKind::kRandom, 3, MemoryModel::kWeak},
      {"pct3-tso", false, StrategyKind::kPct, 3, MemoryModel::kTso},
      {"free", true},
  };
  d.faults = {false, true};
  return d;
}

CampaignConfig hunt_config(std::string_view model, const HuntDimensions& d, const HuntPick& p, uint64_t seed,
                           uint64_t executions, uint64_t free_ms) {
  const HuntShape& shape = d.shapes[p.shape];
  const HuntScheduler& s = d.schedulers[p.scheduler];
  CampaignConfig c;
  c.model = std::string(model);
  c.workload = d.workloads[p.workload];
  c.seed = seed;
  c.threads = shape.threads;
  if (c.workload == "demote" || shape.gigantic) c.hstate = kHstate1G;
  const bool faults = d.faults[p.fault];
  if (s.free) {
    c.mode = CampaignMode::kFree;
    c.duration_ms = free_ms;
    c.check_every = 2000;
    if (faults) c.fail_alloc = FaultAttr{.probability_percent = 2, .interval = 1, .times = -1, .min_order = Order(0)};
    return c;
  }
  c.mode = CampaignMode::kControlled;
  if (shape.gigantic) {
    // Preparing a 1 GiB folio's 262,144 struct pages and its HVO take about
    // 600,000 schedule points: under the default bound every execution
    // would stop before its HVO began. A higher bound lets one or two such
    // folios be made, and no more (a walker over 1 GiB blocks would
    // otherwise run for minutes); each execution still costs seconds, so
    // the pull runs five of them.
    c.max_steps = kGiganticMaxSteps;
    executions = std::max<uint64_t>(1, executions / kGiganticExecutionDivisor);
  }
  c.iterations = shape.iterations;
  c.initial_pool = shape.initial_pool;
  if (!c.hstate.gigantic()) c.memory_bytes = shape.memory_bytes;
  c.strategy = s.strategy;
  c.depth = s.depth;
  c.memory_model = s.memory_model;
  c.seeds = executions;
  c.fail_allocs = faults ? 2 : 0;
  return c;
}

std::string describe(const HuntDimensions& d, const HuntPick& p) {
  const HuntScheduler& s = d.schedulers[p.scheduler];
  const HuntShape& shape = d.shapes[p.shape];
  // Free mode takes only the page size from the shape.
  const std::string_view shape_name = !s.free ? shape.name : shape.gigantic ? "1G" : "-";
  return fmt::format("{} {} {}{}", d.workloads[p.workload], shape_name, s.name,
                     d.faults[p.fault] ? " +alloc-failures" : "");
}

HuntBandit::HuntBandit(const HuntDimensions& d, uint64_t seed)
    : rng_(seed ^ 0x68756e74ULL),
      workload_(d.workloads.size()),
      shape_(d.shapes.size()),
      scheduler_(d.schedulers.size()),
      fault_(d.faults.size()) {}

size_t HuntBandit::choose(std::vector<Value>& values) {
  // Untried first, in an order drawn from the seed.
  std::vector<size_t> untried;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].pulls == 0) untried.push_back(i);
  if (!untried.empty()) return untried[rng_.below(untried.size())];
  if (rng_.below(5) == 0) return rng_.below(values.size());
  return static_cast<size_t>(std::max_element(values.begin(), values.end(),
                                              [](const Value& a, const Value& b) { return a.rate < b.rate; }) -
                             values.begin());
}

HuntPick HuntBandit::pick() {
  HuntPick p;
  p.workload = choose(workload_);
  p.shape = choose(shape_);
  p.scheduler = choose(scheduler_);
  p.fault = choose(fault_);
  return p;
}

void HuntBandit::credit(Value& v, double rate) {
  // Decayed: what a value found lately counts more than what it found at
  // the start (coverage saturates; a value that stopped finding yields).
  v.rate = v.pulls == 0 ? rate : 0.7 * v.rate + 0.3 * rate;
  ++v.pulls;
}

void HuntBandit::reward(const HuntPick& p, uint64_t new_items, double seconds) {
  const double rate = static_cast<double>(new_items) / std::max(seconds, 1e-3);
  credit(workload_[p.workload], rate);
  credit(shape_[p.shape], rate);
  credit(scheduler_[p.scheduler], rate);
  credit(fault_[p.fault], rate);
}

}  // namespace hvo::stress
