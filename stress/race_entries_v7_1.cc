// The race catalogue's entries for the v7.1 model (HVO-HISTORY.md).
#include "stress/race_entries.h"

namespace hvo::stress {

using sched::MemoryModel;
using sched::StrategyKind;

void add_v7_1_races(std::vector<RaceEntry>& c) {
  [[maybe_unused]] constexpr uint64_t kMiB = uint64_t{1} << 20;
  static_cast<void>(c);  // the v7.1 model's entries come with the model
}

}  // namespace hvo::stress
