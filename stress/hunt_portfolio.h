// The portfolio `hvo-stress hunt` spends its time over, and how it chooses.
//
// A run of the hunt is a sequence of pulls; each pull is one short campaign
// built from one value of each dimension:
//
//   workload   every workload of the catalogue (demote: 1 GiB pages)
//   shape      CPUs x operations, initial pool, memory: the catalogue's
//              scenario shapes (2 x 4 from a pool of 2, 2 x 1 and 4 x 1 from
//              an empty pool in 64M, 4 x 4), and 1 GiB pages (1 x 1 and
//              2 x 1 from an empty pool: a walk over several vmemmap PMDs,
//              whose later splits can fail after earlier PTEs were remapped)
//   scheduler  controlled random / pct at depths 2, 3, 5 under sc, random
//              under weak, pct 3 under tso; or free mode (real threads)
//   faults     none, or allocation failure (controlled: --fail-allocs 2;
//              free: fail_page_alloc probability=2)
//
// A factored bandit picks the values: each dimension keeps, per value, the
// new coverage items (engine/coverage.h: functions, error paths,
// interleaved pairs not seen before) per second its pulls found, and a pull
// takes, per dimension, a value never tried yet, else with probability
// 1/5 a uniform one, else the one with the best decayed rate. So the parts
// of the portfolio that keep finding new coverage get the time, and every
// part is tried. Deterministic from the seed but for the rates, which are
// measured in wall time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sched/rng.h"
#include "stress/campaign_config.h"

namespace hvo::stress {

struct HuntShape {
  std::string_view name;
  unsigned threads;
  uint64_t iterations;
  uint64_t initial_pool;
  uint64_t memory_bytes;  // 0: the default
  bool gigantic = false;  // 1 GiB pages
};

struct HuntScheduler {
  std::string_view name;
  bool free = false;
  sched::StrategyKind strategy = sched::StrategyKind::kRandom;
  unsigned depth = 3;
  sched::MemoryModel memory_model = sched::MemoryModel::kSc;
};

struct HuntDimensions {
  std::vector<std::string> workloads;
  std::vector<HuntShape> shapes;
  std::vector<HuntScheduler> schedulers;
  std::vector<bool> faults;  // false: none; true: allocation failure
};

// The dimensions for `model` (its workloads: demote only where the model
// can demote).
[[nodiscard]] HuntDimensions hunt_dimensions(std::string_view model);

// One pull: the index of the value chosen in each dimension.
struct HuntPick {
  size_t workload = 0, shape = 0, scheduler = 0, fault = 0;
};

// The campaign a pull runs: controlled with `executions` executions from
// `seed`, or free for `free_ms`.
[[nodiscard]] CampaignConfig hunt_config(std::string_view model, const HuntDimensions& d, const HuntPick& p,
                                         uint64_t seed, uint64_t executions, uint64_t free_ms);
[[nodiscard]] std::string describe(const HuntDimensions& d, const HuntPick& p);

// The factored bandit.
class HuntBandit {
 public:
  HuntBandit(const HuntDimensions& d, uint64_t seed);
  [[nodiscard]] HuntPick pick();
  // A pull's result: `new_items` coverage items found in `seconds`.
  void reward(const HuntPick& p, uint64_t new_items, double seconds);

 private:
  struct Value {
    uint64_t pulls = 0;
    double rate = 0;  // decayed new items per second
  };
  [[nodiscard]] size_t choose(std::vector<Value>& values);
  static void credit(Value& v, double rate);

  sched::SplitMix64 rng_;
  std::vector<Value> workload_, shape_, scheduler_, fault_;
};

}  // namespace hvo::stress
