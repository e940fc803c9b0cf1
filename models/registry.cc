#include "models/registry.h"

#include "models/v17/v17_model.h"
#include "models/v5_18/v5_18_model.h"
#include "models/v6_10/v6_10_model.h"
#include "models/v7_1/v7_1_model.h"

namespace hvo {

const std::vector<const ModelInfo*>& all_models() {
  static const std::vector<const ModelInfo*> models = {&V17Model::kInfo, &V518Model::kInfo, &V610Model::kInfo,
                                                          &V71Model::kInfo};
  return models;
}

const ModelInfo* find_model(std::string_view name) {
  for (const ModelInfo* m : all_models())
    if (m->name == name) return m;
  return nullptr;
}

std::string check_model_and_reverts(std::string_view name, const std::set<std::string>& reverts) {
  const ModelInfo* info = find_model(name);
  if (info == nullptr) {
    std::string known;
    for (const ModelInfo* m : all_models()) known += (known.empty() ? "" : ", ") + std::string(m->name);
    return "unknown model '" + std::string(name) + "' (known: " + known + ")";
  }
  for (const std::string& r : reverts) {
    bool found = false;
    for (const RevertInfo& ri : info->reverts) found = found || ri.name == r;
    if (!found) {
      std::string known;
      for (const RevertInfo& ri : info->reverts) known += (known.empty() ? "" : ", ") + std::string(ri.name);
      return "model " + std::string(name) + " has no fix named '" + r + "' to revert (it has: " +
             (known.empty() ? "none" : known) + ")";
    }
  }
  return {};
}

std::variant<std::unique_ptr<Model>, std::string> make_model(std::string_view name,
                                                            const std::set<std::string>& reverts, Machine& machine) {
  if (std::string err = check_model_and_reverts(name, reverts); !err.empty()) return err;
  if (name == V17Model::kInfo.name) return std::unique_ptr<Model>(std::make_unique<V17Model>(machine, reverts));
  if (name == V518Model::kInfo.name) return std::unique_ptr<Model>(std::make_unique<V518Model>(machine, reverts));
  if (name == V610Model::kInfo.name) return std::unique_ptr<Model>(std::make_unique<V610Model>(machine, reverts));
  if (name == V71Model::kInfo.name) return std::unique_ptr<Model>(std::make_unique<V71Model>(machine, reverts));
  return "model '" + std::string(name) + "' is listed but cannot be made";
}

}  // namespace hvo
