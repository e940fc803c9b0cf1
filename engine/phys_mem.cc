#include "engine/phys_mem.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace hvo {

std::string_view to_string(FrameState s) {
  switch (s) {
    case FrameState::kFree: return "free";
    case FrameState::kBuddy: return "buddy";
    case FrameState::kPageTable: return "page-table";
    case FrameState::kVmemmap: return "vmemmap";
    case FrameState::kHugetlbData: return "hugetlb-data";
    case FrameState::kBootReserved: return "boot-reserved";
  }
  return "?";
}

PhysMem::PhysMem(uint64_t memory_bytes) : nr_frames_(memory_bytes >> kPageShift) {
  HVO_CHECK(memory_bytes > 0 && memory_bytes % kPmdSize == 0, "memory size must be a multiple of 2 MiB");
  void* p = mmap(nullptr, memory_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap of simulated memory");
  base_ = static_cast<std::byte*>(p);
  // Value-initialised: every frame starts kFree at generation 0. The buddy
  // allocator and the boot code give frames their owners.
  shadow_ = std::make_unique<std::atomic<uint32_t>[]>(nr_frames_);
  state_counts_[static_cast<int>(FrameState::kFree)].store(nr_frames_, std::memory_order_relaxed);
}

PhysMem::~PhysMem() { munmap(base_, memory_bytes()); }

void PhysMem::set_state(Pfn pfn, uint64_t n, FrameState s) {
  HVO_CHECK(pfn.value() + n <= nr_frames_, "frame range out of memory");
  // Frames leaving each state, gathered so that a range (a hugepage's 512 or
  // 262,144 frames) costs at most kNumFrameStates counter updates.
  uint64_t left[kNumFrameStates] = {};
  for (uint64_t i = pfn.value(); i < pfn.value() + n; ++i) {
    uint32_t old = shadow_[i].load(std::memory_order_relaxed);
    ++left[static_cast<int>(FrameShadow::state(old))];
    uint32_t gen = FrameShadow::generation(old) + (s == FrameState::kFree ? 1 : 0);
    // release: whatever the old owner wrote into the frame happens before the
    // new owner's acquire of the state (see shadow()).
    shadow_[i].store(FrameShadow::make(s, gen), std::memory_order_release);
  }
  for (int st = 0; st < kNumFrameStates; ++st)
    if (left[st] != 0 && st != static_cast<int>(s)) state_counts_[st].fetch_sub(left[st], std::memory_order_relaxed);
  const uint64_t entered = n - left[static_cast<int>(s)];
  if (entered != 0) state_counts_[static_cast<int>(s)].fetch_add(entered, std::memory_order_relaxed);
}

void PhysMem::count_states(uint64_t (&out)[kNumFrameStates]) const {
  for (int st = 0; st < kNumFrameStates; ++st) out[st] = state_counts_[st].load(std::memory_order_relaxed);
#ifdef HVO_DEBUG_CHECKS
  uint64_t scanned[kNumFrameStates];
  scan_states(scanned);
  for (int st = 0; st < kNumFrameStates; ++st) HVO_CHECK(scanned[st] == out[st], "frame state counter drifted from the shadow words");
#endif
}

void PhysMem::scan_states(uint64_t (&out)[kNumFrameStates]) const {
  for (auto& c : out) c = 0;
  for (uint64_t i = 0; i < nr_frames_; ++i)
    ++out[static_cast<int>(FrameShadow::state(shadow_[i].load(std::memory_order_relaxed)))];
}

void PhysMem::copy_page(Pfn dst, Pfn src) const {
  HVO_CHECK(valid(dst) && valid(src), "copy_page out of range");
  if (detail::memory_hook != nullptr) [[unlikely]] {
    // Controlled mode: 512 relaxed word loads and stores through observe(),
    // so that the race detector sees the copy and, under tso/weak, its
    // stores are buffered like any other (the kernel's copy_page() is plain
    // stores with no ordering: without an smp_wmb() a later set_pte_at()
    // may overtake them, the v5.18/v6.10 restore bug).
    const PhysAddr d = pfn_to_phys(dst), s = pfn_to_phys(src);
    for (uint64_t off = 0; off < kPageSize; off += sizeof(uint64_t))
      store<uint64_t>(d + off, load<uint64_t>(s + off, std::memory_order_relaxed), std::memory_order_relaxed);
    return;
  }
  auto* d = reinterpret_cast<uint64_t*>(frame_bytes(dst));
  auto* s = reinterpret_cast<uint64_t*>(frame_bytes(src));
  for (uint64_t i = 0; i < kPageSize / sizeof(uint64_t); ++i)
    std::atomic_ref<uint64_t>(d[i]).store(std::atomic_ref<uint64_t>(s[i]).load(std::memory_order_relaxed),
                                          std::memory_order_relaxed);
}

void PhysMem::clear_page(Pfn pfn) const {
  HVO_CHECK(valid(pfn), "clear_page out of range");
  if (detail::memory_hook != nullptr) [[unlikely]] {
    // Controlled mode: 512 relaxed word stores the memory model sees (as copy_page()).
    const PhysAddr d = pfn_to_phys(pfn);
    for (uint64_t off = 0; off < kPageSize; off += sizeof(uint64_t))
      store<uint64_t>(d + off, 0, std::memory_order_relaxed);
    return;
  }
  auto* d = reinterpret_cast<uint64_t*>(frame_bytes(pfn));
  for (uint64_t i = 0; i < kPageSize / sizeof(uint64_t); ++i)
    std::atomic_ref<uint64_t>(d[i]).store(0, std::memory_order_relaxed);
}

uint64_t PhysMem::resident_backing_bytes() const {
  const uint64_t host_page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t len = memory_bytes();
  uint64_t resident = 0;
  // In chunks, so the vector stays small for a 64 GiB machine.
  constexpr uint64_t kChunk = uint64_t{1} << 30;
  std::vector<unsigned char> vec(kChunk / host_page);
  for (uint64_t off = 0; off < len; off += kChunk) {
    uint64_t n = std::min(kChunk, len - off);
    if (mincore(base_ + off, n, vec.data()) != 0)
      throw std::system_error(errno, std::generic_category(), "mincore");
    for (uint64_t i = 0; i < (n + host_page - 1) / host_page; ++i) resident += (vec[i] & 1) * host_page;
  }
  return resident;
}

}  // namespace hvo
