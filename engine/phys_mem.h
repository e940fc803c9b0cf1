// Simulated physical memory: 4 KiB frames, a shadow state per frame, and the
// bytes of the frames that hold contents.
//
// Contents are backed lazily: the whole physical range is one anonymous
// MAP_NORESERVE mapping, so the host only commits the pages the simulated
// kernel writes (page tables and vmemmap). Hugepage data frames are never
// touched and cost nothing; a 64 GiB machine costs its 1 GiB of vmemmap, its
// page tables and 64 MiB of shadow words.
//
// Every word of simulated memory is accessed through the functions below,
// which take the memory order explicitly; they are the single place where
// controlled mode observes simulated memory (hvo::MemoryHook: the race and
// torn-PTE detectors, and the tso/weak store buffers, which may buffer a
// store or forward a load instead of the host access). They make no schedule
// point: the callers (MMU, page tables) do, as they know what the access is.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "engine/check.h"
#include "engine/frame_state.h"
#include "engine/schedule_point.h"
#include "engine/types.h"

namespace hvo {

class PhysMem {
 public:
  // memory_bytes must be a positive multiple of 2 MiB.
  explicit PhysMem(uint64_t memory_bytes);
  ~PhysMem();
  PhysMem(const PhysMem&) = delete;
  PhysMem& operator=(const PhysMem&) = delete;

  [[nodiscard]] uint64_t nr_frames() const { return nr_frames_; }
  [[nodiscard]] uint64_t memory_bytes() const { return nr_frames_ * kPageSize; }
  [[nodiscard]] bool valid(Pfn pfn) const { return pfn.value() < nr_frames_; }
  [[nodiscard]] Pfn end_pfn() const { return Pfn(nr_frames_); }

  // --- shadow state -------------------------------------------------------
  [[nodiscard]] uint32_t shadow(Pfn pfn) const {
    HVO_DCHECK(valid(pfn), "pfn out of range");
    // acquire: pairs with the release in set_state() so that whoever sees a
    // frame's new state also sees what its owner wrote before handing it over.
    return shadow_[pfn.value()].load(std::memory_order_acquire);
  }
  [[nodiscard]] FrameState state(Pfn pfn) const { return FrameShadow::state(shadow(pfn)); }
  [[nodiscard]] uint32_t generation(Pfn pfn) const { return FrameShadow::generation(shadow(pfn)); }
  // Sets the state of [pfn, pfn + n). Freeing (to kFree) bumps the generation.
  void set_state(Pfn pfn, uint64_t n, FrameState s);
  // Frames per state (for the conservation checkers), from counters that
  // set_state() keeps: O(states), where a scan of a 64 GiB machine's 16 M
  // shadow words took a tenth of a controlled execution. Consistent when no
  // set_state() runs concurrently (the checkers' quiescent points), as the
  // scan was.
  void count_states(uint64_t (&out)[kNumFrameStates]) const;
  // The same figures by a scan of every shadow word: what the counters must
  // equal (the tests, and count_states() itself under HVO_DEBUG_CHECKS).
  void scan_states(uint64_t (&out)[kNumFrameStates]) const;

  // --- contents -----------------------------------------------------------
  // Host pointer to a frame's bytes. Only the access functions below and
  // page-sized copies use it; no host pointer is kept across operations.
  [[nodiscard]] std::byte* frame_bytes(Pfn pfn) const {
    HVO_DCHECK(valid(pfn), "pfn out of range");
    return base_ + (pfn.value() << kPageShift);
  }

  // Each access first tells the memory hook (controlled mode's race
  // detector) what it is; free mode pays a thread-local pointer test.
  template <class T>
  [[nodiscard]] T load(PhysAddr a, std::memory_order mo) const {
    if (const MemoryResult r = observe<T>(sched::AccessKind::kLoad, mo, a, 0); r.handled) [[unlikely]]
      return static_cast<T>(r.value);  // forwarded from the CPU's store buffer
    return std::atomic_ref<T>(*word<T>(a)).load(mo);
  }
  template <class T>
  void store(PhysAddr a, T v, std::memory_order mo) const {
    if (observe<T>(sched::AccessKind::kStore, mo, a, static_cast<uint64_t>(v)).handled) [[unlikely]]
      return;  // buffered: drained to memory later
    std::atomic_ref<T>(*word<T>(a)).store(v, mo);
  }
  template <class T>
  [[nodiscard]] bool compare_exchange(PhysAddr a, T& expected, T desired, std::memory_order mo) const {
    observe<T>(sched::AccessKind::kCas, mo, a, static_cast<uint64_t>(desired));
    return std::atomic_ref<T>(*word<T>(a)).compare_exchange_strong(expected, desired, mo);
  }
  template <class T>
  T fetch_add(PhysAddr a, T delta, std::memory_order mo) const {
    observe<T>(sched::AccessKind::kRmw, mo, a, static_cast<uint64_t>(delta));
    return std::atomic_ref<T>(*word<T>(a)).fetch_add(delta, mo);
  }
  template <class T>
  T fetch_or(PhysAddr a, T bits, std::memory_order mo) const {
    observe<T>(sched::AccessKind::kRmw, mo, a, static_cast<uint64_t>(bits));
    return std::atomic_ref<T>(*word<T>(a)).fetch_or(bits, mo);
  }
  template <class T>
  T fetch_and(PhysAddr a, T bits, std::memory_order mo) const {
    observe<T>(sched::AccessKind::kRmw, mo, a, static_cast<uint64_t>(bits));
    return std::atomic_ref<T>(*word<T>(a)).fetch_and(bits, mo);
  }

  // A genuinely non-atomic 32-bit access (the halves of a `plain` PTE). The
  // volatile keeps the compiler from merging two halves into one store; TSan
  // still sees a plain access and reports a race on it.
  [[nodiscard]] uint32_t load_plain32(PhysAddr a) const {
    if (const MemoryResult r = observe<uint32_t>(sched::AccessKind::kPlainLoad, std::memory_order_relaxed, a, 0);
        r.handled) [[unlikely]]
      return static_cast<uint32_t>(r.value);
    return *word<volatile uint32_t>(a);
  }
  // A genuinely non-atomic 64-bit load (the v17 walk's `*pte` on a 64-bit
  // kernel): one access, never torn, but plain: a concurrent store makes it
  // a data race for the race detector and for TSan.
  [[nodiscard]] uint64_t load_plain64(PhysAddr a) const {
    if (const MemoryResult r = observe<uint64_t>(sched::AccessKind::kPlainLoad, std::memory_order_relaxed, a, 0);
        r.handled) [[unlikely]]
      return r.value;
    return *word<volatile uint64_t>(a);
  }
  void store_plain32(PhysAddr a, uint32_t v) const {
    if (observe<uint32_t>(sched::AccessKind::kPlainStore, std::memory_order_relaxed, a, v).handled) [[unlikely]]
      return;
    *word<volatile uint32_t>(a) = v;
  }

  // copy_page(dst, src) / clear_page(): word by word with relaxed atomics, so
  // that a concurrent reader of the source (another CPU reading the reuse
  // page) is not a data race of the simulator itself. In controlled mode each
  // word goes through the memory hook like load()/store(): the race detector
  // sees the copy, and under tso/weak its 512 stores are buffered, so a
  // later PTE store may overtake them unless an smp_wmb() stands between.
  void copy_page(Pfn dst, Pfn src) const;
  void clear_page(Pfn pfn) const;

  // Resident host memory of the backing mapping, in bytes (mincore).
  [[nodiscard]] uint64_t resident_backing_bytes() const;

 private:
  template <class T>
  MemoryResult observe(sched::AccessKind kind, std::memory_order mo, PhysAddr a, uint64_t value) const {
    if (MemoryHook* h = detail::memory_hook) [[unlikely]]
      return h->on_access(sched::MemoryAccess{kind, mo, mo, static_cast<uint8_t>(sizeof(T)), a.value(), value},
                          const_cast<T*>(word<T>(a)));
    return {};
  }

  template <class T>
  T* word(PhysAddr a) const {
    HVO_DCHECK(a.value() % sizeof(T) == 0, "misaligned access");
    HVO_DCHECK(a.value() + sizeof(T) <= memory_bytes(), "physical address out of range");
    return reinterpret_cast<T*>(base_ + a.value());
  }

  uint64_t nr_frames_;
  std::byte* base_ = nullptr;
  std::unique_ptr<std::atomic<uint32_t>[]> shadow_;
  // Frames per FrameState. Relaxed: a counter orders nothing; the shadow
  // words carry the hand-over (release/acquire above), and a reader wants a
  // consistent set of counts only at a quiescent point.
  std::array<std::atomic<uint64_t>, kNumFrameStates> state_counts_{};
};

}  // namespace hvo
