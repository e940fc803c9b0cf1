// Everything that configures one simulated machine, in one struct
// (docs/style.md 15). Parsed and validated by the CLI; the engine checks it again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hvo {

// How vmemmap_populate() maps the struct page array: with base pages
// (vmemmap_populate_basepages, as the v17 patch requires) or with 2 MiB PMD
// leaves (vmemmap_populate_hugepages, x86-64's default, split on demand
// from 5.14 on).
enum class VmemmapMapping : uint8_t { kBasePages, kPmdLeaves };

// How page-table entries are read and written.
//   kOnce       READ_ONCE()/WRITE_ONCE(): single-copy atomic.
//   kPlain      the v17 walk on 64-bit x86 or arm64: the walk's `*pte` reads
//               are plain 64-bit loads (a data race against a concurrent
//               store, what KCSAN reports), but set_pte_at() stays one
//               64-bit store (native_set_pte() is WRITE_ONCE), so no
//               entry is ever seen half written.
//   kPlainTorn  32-bit page tables with 64-bit entries (x86 PAE): every
//               access, reads and set_pte_at() alike, is two 32-bit halves,
//               so a reader may see a torn entry.
enum class PteAccess : uint8_t { kOnce, kPlain, kPlainTorn };

std::string_view to_string(VmemmapMapping m);
std::string_view to_string(PteAccess a);
std::optional<VmemmapMapping> vmemmap_mapping_from_string(std::string_view s);
std::optional<PteAccess> pte_access_from_string(std::string_view s);

struct MachineConfig {
  static constexpr uint64_t kDefaultMemory = uint64_t{4} << 30;
  static constexpr uint64_t kMinMemory = uint64_t{64} << 20;
  static constexpr uint64_t kMaxMemory = uint64_t{1} << 40;  // 1 TiB of simulated RAM
  static constexpr unsigned kMaxCpus = 64;

  uint64_t memory_bytes = kDefaultMemory;  // a multiple of 2 MiB in [kMinMemory, kMaxMemory]
  VmemmapMapping vmemmap_mapping = VmemmapMapping::kBasePages;
  PteAccess pte_access = PteAccess::kOnce;
  unsigned nr_cpus = 4;  // 1..kMaxCpus
  // Frames at the bottom of memory that never reach buddy (kernel image,
  // memblock allocations): 16 MiB, as the x86 kernel's default load address.
  uint64_t boot_reserved_bytes = uint64_t{16} << 20;
  unsigned tlb_entries = 64;  // per CPU, 4 KiB translations; a power of two

  // An empty string when valid, else what is wrong.
  [[nodiscard]] std::string validate() const;
};

}  // namespace hvo
