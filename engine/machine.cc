#include "engine/machine.h"

#include <algorithm>
#include <stdexcept>

#include "engine/task.h"

namespace hvo {

namespace {
const MachineConfig& validated(const MachineConfig& c) {
  if (std::string err = c.validate(); !err.empty()) throw std::invalid_argument(err);
  return c;
}
}  // namespace

Machine::Machine(const MachineConfig& config)
    : config_(validated(config)),
      lockdep_(violations_),
      rcu_(lockdep_, config_.nr_cpus),
      mem_(config_.memory_bytes),
      buddy_(mem_, lockdep_, lockdep_.register_class("zone->lock", LockKind::kSpin), alloc_failure_),
      page_tables_(mem_, buddy_, lockdep_, violations_, config_.pte_access),
      mmu_(mem_, page_tables_, violations_, config_.nr_cpus, config_.tlb_entries),
      pages_(mmu_, mem_),
      page_alloc_(buddy_, pages_) {
  // Boot runs on CPU 0, like start_kernel().
  Task boot_task{CpuId(0)};
  TaskScope scope(boot_task);
  OperationScope op("boot");

  // memblock: the bottom of memory holds the kernel image and boot data and
  // never reaches buddy; memblock_free_all() hands the rest over.
  const uint64_t reserved = config_.boot_reserved_bytes >> kPageShift;
  mem_.set_state(Pfn(0), reserved, FrameState::kBootReserved);
  buddy_.free_boot_range(Pfn(reserved), mem_.nr_frames() - reserved);

  // sparse_init() -> vmemmap_populate() for the whole memory map.
  page_tables_.boot();
  const VmemmapAddr start = pfn_to_page(Pfn(0));
  const VmemmapAddr end = pfn_to_page(mem_.end_pfn());
  HVO_CHECK(page_tables_.vmemmap_populate(start, VmemmapAddr((end.value() + kPageSize - 1) & ~(kPageSize - 1)),
                                          config_.vmemmap_mapping),
            "out of memory populating the vmemmap");

  memmap_init();
  mmu_.flush_tlb_all();
  HVO_CHECK(!violations_.any(), "the machine broke an invariant while booting");
}

// memmap_init(): __init_single_page() resets _mapcount to -1 and sets
// _refcount to 1 on every page; __free_pages_core() drops the refcount of
// pages given to buddy to 0; memblock-reserved pages keep PG_reserved.
//
// The stores are the ones pages_.store()/store32() would make, but each
// vmemmap page is translated once for its 64 struct pages instead of once
// per word: boot is single-threaded (CPU 0, no other CPU exists yet, as in
// start_kernel()), so nothing can remap the page between the translation
// and the stores, and the TLB entries this fills are dropped by the
// flush_tlb_all() that ends boot. Per word it made a controlled execution
// spend a sixth of its time booting.
void Machine::memmap_init() {
  const Pfn end = mem_.end_pfn();
  for (Pfn first(0); first < end; first = first + kStructPagesPerPage) {
    Translation t;
    {
      const Mmu::Instruction insn(mmu_, CpuId(0));
      t = mmu_.translate(CpuId(0), pfn_to_page(first), AccessType::kWrite);
    }
    HVO_CHECK(t.ok, "the vmemmap is not mapped writable at boot");
    const uint64_t n = std::min<uint64_t>(kStructPagesPerPage, end.value() - first.value());
    for (uint64_t i = 0; i < n; ++i) {
      const Pfn pfn = first + i;
      const PhysAddr page = t.phys + i * kStructPageSize;
      mem_.store<int32_t>(page + static_cast<uint64_t>(PageWord32::kMapcount), -1, std::memory_order_relaxed);
      if (mem_.state(pfn) == FrameState::kFree) continue;
      mem_.store<uint64_t>(page + static_cast<uint64_t>(PageWord::kFlags), page_flag(PG_reserved),
                           std::memory_order_relaxed);
      mem_.store<int32_t>(page + static_cast<uint64_t>(PageWord32::kRefcount), 1, std::memory_order_relaxed);
    }
  }
}

Machine::~Machine() = default;

MachineSummary Machine::summary() const {
  uint64_t counts[kNumFrameStates];
  mem_.count_states(counts);
  const VmemmapAddr start = pfn_to_page(Pfn(0));
  const VmemmapAddr end = pfn_to_page(mem_.end_pfn());
  return MachineSummary{
      .memory_bytes = mem_.memory_bytes(),
      .nr_frames = mem_.nr_frames(),
      .nr_cpus = config_.nr_cpus,
      .vmemmap_mapping = std::string(to_string(config_.vmemmap_mapping)),
      .pte_access = std::string(to_string(config_.pte_access)),
      .vmemmap_start = start.value(),
      .vmemmap_end = end.value(),
      .vmemmap_frames = counts[static_cast<int>(FrameState::kVmemmap)],
      .page_table_frames = counts[static_cast<int>(FrameState::kPageTable)],
      .boot_reserved_frames = counts[static_cast<int>(FrameState::kBootReserved)],
      .free_frames = counts[static_cast<int>(FrameState::kFree)],
      .resident_bytes = mem_.resident_backing_bytes(),
  };
}

}  // namespace hvo
