#include "engine/machine_config.h"

#include "engine/types.h"

namespace hvo {

std::string_view to_string(VmemmapMapping m) {
  return m == VmemmapMapping::kBasePages ? "base" : "pmd";
}
std::string_view to_string(PteAccess a) {
  switch (a) {
    case PteAccess::kOnce: return "once";
    case PteAccess::kPlain: return "plain";
    case PteAccess::kPlainTorn: return "plain-torn";
  }
  return "?";
}

std::optional<VmemmapMapping> vmemmap_mapping_from_string(std::string_view s) {
  if (s == "base") return VmemmapMapping::kBasePages;
  if (s == "pmd") return VmemmapMapping::kPmdLeaves;
  return std::nullopt;
}
std::optional<PteAccess> pte_access_from_string(std::string_view s) {
  if (s == "once") return PteAccess::kOnce;
  if (s == "plain") return PteAccess::kPlain;
  if (s == "plain-torn") return PteAccess::kPlainTorn;
  return std::nullopt;
}

std::string MachineConfig::validate() const {
  if (memory_bytes % kPmdSize != 0) return "memory size must be a multiple of 2 MiB";
  if (memory_bytes < kMinMemory) return "memory size must be at least 64 MiB";
  if (memory_bytes > kMaxMemory) return "memory size must be at most 1 TiB";
  if (nr_cpus == 0 || nr_cpus > kMaxCpus) return "number of CPUs must be between 1 and 64";
  if (boot_reserved_bytes % kPageSize != 0 || boot_reserved_bytes >= memory_bytes / 2)
    return "boot reserved memory must be page aligned and under half of memory";
  if (tlb_entries == 0 || (tlb_entries & (tlb_entries - 1)) != 0 || tlb_entries > 4096)
    return "TLB entries must be a power of two up to 4096";
  return {};
}

}  // namespace hvo
