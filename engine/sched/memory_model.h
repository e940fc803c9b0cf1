// The memory model of a controlled execution (--memory-model).
//   sc:   every access is performed at its schedule point, in one total
//         order (Lamport's sequential consistency).
//   tso:  x86-TSO (Sewell et al., CACM 2010): each CPU's stores go to a FIFO
//         store buffer, its loads forward from it, and the scheduler drains
//         the oldest entry as a choice of the strategy; fences (smp_mb),
//         RMWs and lock operations drain it. Store->load reordering only.
//   weak: arm64-like: the buffer may also drain out of order (store->store
//         reordering) unless a release store or an smp_wmb() stands between
//         the entries, or they are to the same word (coherence); and a
//         relaxed load may return a value overwritten since this CPU's last
//         acquire, smp_rmb(), smp_mb(), lock acquire or RMW (load->load
//         reordering, a per-CPU invalidation queue: store_buffer.h).
//         The MMU's table walk loads are consume (an address dependency
//         orders the access through the translation, engine/mmu.h), and a
//         TLB flush drains the flusher and applies every CPU's queue
//         (scheduler.cc, flush_ordering).
//         Memory itself stays one (multi-copy atomic, as ARMv8 is).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hvo::sched {

enum class MemoryModel : uint8_t { kSc, kTso, kWeak };

constexpr std::string_view to_string(MemoryModel m) {
  return m == MemoryModel::kSc ? "sc" : m == MemoryModel::kTso ? "tso" : "weak";
}
constexpr std::optional<MemoryModel> memory_model_from_string(std::string_view s) {
  if (s == "sc") return MemoryModel::kSc;
  if (s == "tso") return MemoryModel::kTso;
  if (s == "weak") return MemoryModel::kWeak;
  return std::nullopt;
}

// Schedule ids per CPU: the CPU itself, then (tso, weak) "drain its oldest
// buffered store", then (weak) "drain one of its stores that may overtake
// the older ones" (which one: a second choice, Strategy::pick_entry) and
// "apply the youngest entry of its invalidation queue".
// Ids are CPU-major blocks: cpu i's choices are n + i, 2n + i and 3n + i,
// so the ids of the CPUs themselves are unchanged.
constexpr unsigned ids_per_cpu(MemoryModel m) {
  return m == MemoryModel::kSc ? 1 : m == MemoryModel::kTso ? 2 : 4;
}

}  // namespace hvo::sched
