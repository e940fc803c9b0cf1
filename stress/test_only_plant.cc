#include "stress/test_only_plant.h"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace hvo::stress {

const std::set<std::string>& plantable_bugs() {
  static const std::set<std::string> names = {
      std::string(PlantedBugs::kPoisonDropped),         std::string(PlantedBugs::kKeyDecBeforeRestore),
      std::string(PlantedBugs::kRollbackShort),         std::string(PlantedBugs::kFlagBeforeDeferredFlush),
      std::string(PlantedBugs::kRemapWithoutFlush),     std::string(PlantedBugs::kRangeOnePageShort),
      std::string(PlantedBugs::kFlushMissesLastPage),   std::string(PlantedBugs::kTailLeakedByLoser),
      std::string(PlantedBugs::kEnqueueBeforeHvo),      std::string(PlantedBugs::kSurplusPastOvercommit),
      std::string(PlantedBugs::kTailPublishedBeforeFilled),
  };
  return names;
}

std::set<std::string> test_only_plants_from_env() {
  std::set<std::string> bugs;
  const char* env = std::getenv(kTestOnlyPlantEnv);
  if (env == nullptr) return bugs;
  std::string_view rest(env);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string name(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name.empty()) continue;
    if (plantable_bugs().count(name) == 0)
      throw std::invalid_argument(std::string(kTestOnlyPlantEnv) + ": no planted bug named " + name);
    bugs.insert(name);
  }
  return bugs;
}

void plant_bugs(const std::set<std::string>& bugs, Model& model, HugetlbPool& pool) {
  for (const std::string& bug : bugs) {
    if (bug == PlantedBugs::kSurplusPastOvercommit)
      pool.plant_for_test(PoolPlantedBug::kNoOvercommitRecheck);
    else
      model.plant_for_test(bug);
  }
}

}  // namespace hvo::stress
