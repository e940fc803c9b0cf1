// Torn reads of `plain` PTEs in controlled mode (kTornPte). A plain PTE is
// written and read as two 4-byte halves with a schedule point between them
// (KernelPageTables::write_entry/read_entry), so another CPU can run in the
// middle; the read is torn when the value it puts together is neither the
// entry's value before the write nor after it (half old, half new):
//   - a reader of the whole word (the hardware walk's READ_ONCE, any 8-byte
//     load) while another CPU is between the two halves of its write: it
//     saw what memory held then; whether that is torn is known when the
//     writer writes its second half (the "after" value), and reported then;
//   - a software reader of the two halves (a plain *ptep) between which
//     another CPU wrote the entry: known at its second half.
// Values are taken from memory at the access, so this is exact under the sc
// memory model; under tso/weak it sees memory as drained so far. Only
// engine memory (addresses below 2^62) is tracked: sched::Shared plain
// accesses are whole-word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sched/memory_access.h"
#include "engine/sched/shadow_table.h"

namespace hvo::sched {

struct TornRead {
  uint64_t word = 0;
  unsigned reader = 0;
  uint64_t reader_step = 0;
  unsigned writer = 0;      // a CPU that wrote the entry in between
  uint64_t seen = 0;        // what the reader put together
  uint64_t before = 0;      // the entry before the write
  uint64_t after = 0;       // the entry after it
  [[nodiscard]] std::string describe() const;
};

class TornPteDetector {
 public:
  void begin() { words_.clear(); }
  // Before the access; `host` is the bytes behind a.address, holding what
  // memory has now. Appends the torn reads this access proves (usually none).
  // Inline up to the filter: most accesses (sched::Shared and lock words,
  // atomic struct page fields) are none of the detector's business and cost
  // two compares, not a call.
  void access(unsigned cpu, uint64_t step, const MemoryAccess& a, const void* host, std::vector<TornRead>& out) {
    if (a.address >= (uint64_t{1} << 62)) return;  // not engine memory
    const bool half = a.size == 4 && (a.kind == AccessKind::kPlainLoad || a.kind == AccessKind::kPlainStore);
    const bool whole_load = a.size == 8 && (a.kind == AccessKind::kLoad || a.kind == AccessKind::kPlainLoad);
    if (half || whole_load) track(cpu, step, a, host, half, out);
  }

 private:
  void track(unsigned cpu, uint64_t step, const MemoryAccess& a, const void* host, bool half,
             std::vector<TornRead>& out);

  struct SplitRead {
    unsigned cpu;
    uint64_t step;
    unsigned half;      // the half read first
    uint32_t value;     // its value
    uint64_t full;      // the whole entry then
  };
  struct WholeRead {
    unsigned cpu;
    uint64_t step;
    uint64_t seen;
  };
  struct Shadow {
    bool writing = false;     // a split write is between its halves
    unsigned writer = 0;
    unsigned written_half = 0;
    unsigned last_writer = 0;       // the CPU of the last half written
    uint64_t before = 0;
    std::vector<WholeRead> during;  // whole-word reads while `writing`
    std::vector<SplitRead> reads;   // split reads between their halves
    void reset() {
      writing = false;
      during.clear();
      reads.clear();
    }
  };

  ShadowTable<Shadow> words_;
};

}  // namespace hvo::sched
