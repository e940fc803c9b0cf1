#include "stress/host_memory.h"

#include <sys/sysinfo.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "stress/size_parse.h"
#include "stress/text_out.h"

namespace hvo::stress {

namespace {

constexpr uint64_t kFrameBytes = 4096;
// Per 4 KiB simulated frame: its struct page (64) in the vmemmap, the
// shadow state word (4), the buddy bitmaps and page tables (under 1).
constexpr uint64_t kHostBytesPerFrame = 64 + 4 + 1;
constexpr uint64_t kFixedHostBytes = uint64_t{8} << 20;

std::optional<uint64_t> mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string key;
    uint64_t kib = 0;
    if (s >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  struct sysinfo si {};
  if (sysinfo(&si) != 0) return std::nullopt;
  return (static_cast<uint64_t>(si.freeram) + si.bufferram) * si.mem_unit;
}

}  // namespace

uint64_t estimate_host_bytes(uint64_t memory_bytes) {
  return memory_bytes / kFrameBytes * kHostBytesPerFrame + kFixedHostBytes;
}

std::optional<uint64_t> host_memory_limit() {
  if (const char* env = std::getenv("HVO_STRESS_HOST_MEMORY_LIMIT"); env != nullptr && *env != '\0') {
    const cli::ParsedSize s = cli::parse_size(env);
    if (s.error == cli::SizeError::kNone) return s.bytes;
    // A limit that does not parse is no limit to trust: use the host's.
  }
  const std::optional<uint64_t> avail = mem_available();
  if (!avail) return std::nullopt;
  return *avail / 2;
}

std::string check_host_memory(uint64_t memory_bytes, unsigned machines) {
  const std::optional<uint64_t> limit = host_memory_limit();
  if (!limit) return {};  // nothing to compare with: let the allocations decide
  const uint64_t one = estimate_host_bytes(memory_bytes);
  const uint64_t all = one * machines;
  if (all <= *limit) return {};
  const std::string what =
      machines > 1 ? fmt::format("{} machines (one per job) of {}", machines, cli::format_size(memory_bytes))
                   : fmt::format("a machine of {}", cli::format_size(memory_bytes));
  return fmt::format(
      "simulating {} needs about {} of host memory, above the limit of {} (half of MemAvailable, or "
      "HVO_STRESS_HOST_MEMORY_LIMIT); use a smaller --memory{}",
      what, cli::human_bytes(all), cli::human_bytes(*limit), machines > 1 ? " or fewer --jobs" : "");
}

}  // namespace hvo::stress
