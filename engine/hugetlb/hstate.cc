#include "engine/hugetlb/hstate.h"

namespace hvo {

std::optional<Hstate> hstate_from_string(std::string_view s) {
  if (s == "2M" || s == "2m") return kHstate2M;
  if (s == "1G" || s == "1g") return kHstate1G;
  return std::nullopt;
}

}  // namespace hvo
