#include "stress/text_out.h"

#include <algorithm>
#include <fmt/format.h>

namespace hvo::cli {

void print_fields(std::ostream& out, const Fields& fields) {
  size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, name.size());
  for (const auto& [name, value] : fields) out << fmt::format("{:<{}}  {}\n", name, width, value);
}

std::string human_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  int unit = 0;
  uint64_t scale = 1024;
  while (unit + 1 < 6 && bytes / scale >= 1024) {
    scale <<= 10;
    ++unit;
  }
  if (bytes % scale == 0) return fmt::format("{} {}", bytes / scale, kUnits[unit]);
  return fmt::format("{:.1f} {}", static_cast<double>(bytes) / static_cast<double>(scale), kUnits[unit]);
}

std::string hex(uint64_t value) { return fmt::format("{:#018x}", value); }

}  // namespace hvo::cli
