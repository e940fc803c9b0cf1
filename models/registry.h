// The models hvo-stress knows, by name, and how to make one.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "models/model.h"

namespace hvo {

// Every model's static description (for `list models` and for choosing the
// machine configuration before the machine exists).
[[nodiscard]] const std::vector<const ModelInfo*>& all_models();
[[nodiscard]] const ModelInfo* find_model(std::string_view name);

// Makes `name` with the given fixes reverted. Returns the model, or a
// message naming what is wrong (unknown model, a revert the model does not
// have).
[[nodiscard]] std::variant<std::unique_ptr<Model>, std::string> make_model(std::string_view name,
                                                                          const std::set<std::string>& reverts,
                                                                          Machine& machine);
// The same check without making it.
[[nodiscard]] std::string check_model_and_reverts(std::string_view name, const std::set<std::string>& reverts);

}  // namespace hvo
