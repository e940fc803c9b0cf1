// What a simulated machine costs the host, estimated before it boots, and
// the most the host may give: a --memory of 1T must be refused in a
// millisecond, not discovered after 16 GiB of allocations (or by the OOM
// killer, taking a CI runner's other jobs with it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hvo::stress {

// Resident host bytes of one simulated machine of `memory_bytes` once
// booted: the written part of its backing (the struct pages of the
// vmemmap, 64 bytes per 4 KiB frame, and the page tables above them), the
// engine's per-frame shadow word and the buddy bitmaps, plus a fixed
// allowance for everything else. Measured: 4G boots to 73 MiB resident,
// 64G to 1.07 GiB; this says 76 MiB and 1.08 GiB. Hugepage data frames are
// never touched and cost nothing (engine/phys_mem.h).
[[nodiscard]] uint64_t estimate_host_bytes(uint64_t memory_bytes);

// The most host memory a run may plan to use: half of MemAvailable
// (/proc/meminfo; sysinfo()'s free and buffer RAM where there is none),
// since the estimate is a floor and the host has other tenants. The
// environment variable HVO_STRESS_HOST_MEMORY_LIMIT (a size: 512M, 8G)
// sets it instead. nullopt when nothing can be read.
[[nodiscard]] std::optional<uint64_t> host_memory_limit();

// Why `machines` simulated machines of `memory_bytes` each (at once: one
// per --jobs thread) cannot run here, with the estimate and the limit, or
// empty.
[[nodiscard]] std::string check_host_memory(uint64_t memory_bytes, unsigned machines);

}  // namespace hvo::stress
