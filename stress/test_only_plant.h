// TEST-ONLY: planting issue 19's bug classes (models/planted_bugs.h) in a
// campaign's model or pool, and the one way a hunt gets them: the
// environment variable HVO_STRESS_TEST_ONLY_PLANT (comma-separated names).
// No flag sets it, so a planted bug is never reachable from the command line
// by accident; a hunt that reads it says so on stderr. It exists to measure
// how fast `hunt` finds each class (docs/hunt.md): a saved replay file does
// not carry the plant.
#pragma once

#include <set>
#include <string>

#include "engine/hugetlb/hugetlb_pool.h"
#include "models/model.h"

namespace hvo::stress {

inline constexpr const char* kTestOnlyPlantEnv = "HVO_STRESS_TEST_ONLY_PLANT";

// Every name a campaign can plant.
[[nodiscard]] const std::set<std::string>& plantable_bugs();
// HVO_STRESS_TEST_ONLY_PLANT's names, empty when unset. Throws
// std::invalid_argument for a name not in plantable_bugs().
[[nodiscard]] std::set<std::string> test_only_plants_from_env();
// Plants `bugs` (CampaignConfig::planted_bugs) before any CPU runs: the
// pool's own (surplus-past-overcommit) in the pool, the rest in the model.
void plant_bugs(const std::set<std::string>& bugs, Model& model, HugetlbPool& pool);

}  // namespace hvo::stress
