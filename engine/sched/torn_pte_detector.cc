#include "engine/sched/torn_pte_detector.h"

#include <algorithm>
#include <atomic>
#include <cstddef>

#include <fmt/format.h>

namespace hvo::sched {

namespace {
// The whole 8-byte entry holding the accessed bytes, as memory has it now.
uint64_t entry_value(const MemoryAccess& a, const void* host) {
  const auto* p = static_cast<const std::byte*>(host) - (a.address & 7);
  return std::atomic_ref<const uint64_t>(*reinterpret_cast<const uint64_t*>(p)).load(std::memory_order_relaxed);
}
uint64_t with_half(uint64_t full, unsigned half, uint32_t v) {
  const unsigned shift = half * 32;
  return (full & ~(uint64_t{0xffffffff} << shift)) | (uint64_t{v} << shift);
}
uint32_t half_of(uint64_t full, unsigned half) { return static_cast<uint32_t>(full >> (half * 32)); }
}  // namespace

std::string TornRead::describe() const {
  return fmt::format("torn PTE read of {:#x}: CPU {} at step {} saw {:#x}, half of {:#x} and half of {:#x} "
                     "(written in two halves by CPU {})",
                     word, reader, reader_step, seen, before, after, writer);
}

void TornPteDetector::track(unsigned cpu, uint64_t step, const MemoryAccess& a, const void* host, bool half,
                            std::vector<TornRead>& out) {
  const bool whole_load = !half;
  const uint64_t word = a.address & ~uint64_t{7};
  Shadow* s = half ? &words_[word] : words_.find(word);
  if (s == nullptr) return;  // a whole-word load of an entry nobody splits
  const uint64_t now = entry_value(a, host);
  const unsigned h = (a.address & 4) != 0 ? 1 : 0;

  if (whole_load) {
    if (s->writing && s->writer != cpu) s->during.push_back(WholeRead{cpu, step, now});
    return;
  }
  if (a.kind == AccessKind::kPlainStore) {
    s->last_writer = cpu;
    if (s->writing && s->writer == cpu && s->written_half != h) {
      // The second half: the write's "after" value is known.
      const uint64_t after = with_half(now, h, static_cast<uint32_t>(a.value));
      for (const WholeRead& r : s->during)
        if (r.seen != s->before && r.seen != after)
          out.push_back(TornRead{word, r.cpu, r.step, cpu, r.seen, s->before, after});
      s->writing = false;
      s->during.clear();
    } else if (!s->writing) {
      s->writing = true;
      s->writer = cpu;
      s->written_half = h;
      s->before = now;
    }
    return;
  }
  // A plain half load: the second half of this CPU's split read, or its first.
  const auto it = std::find_if(s->reads.begin(), s->reads.end(), [&](const SplitRead& r) { return r.cpu == cpu; });
  if (it != s->reads.end() && it->half != h) {
    const uint64_t seen = with_half(with_half(0, it->half, it->value), h, half_of(now, h));
    if (seen != it->full && seen != now) {
      out.push_back(TornRead{word, cpu, it->step, s->last_writer, seen, it->full, now});
    }
    s->reads.erase(it);
    return;
  }
  if (it != s->reads.end()) s->reads.erase(it);
  s->reads.push_back(SplitRead{cpu, step, h, half_of(now, h), now});
}

}  // namespace hvo::sched
