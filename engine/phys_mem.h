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
// which take the memory order explicitly; they are the single place where a
// store-buffer memory model can later be inserted. They make no schedule
// point: the callers (MMU, page tables) do, as they know what the access is.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "engine/check.h"
#include "engine/frame_state.h"
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
  // Frames per state, counted by a scan (for the conservation checker).
  void count_states(uint64_t (&out)[kNumFrameStates]) const;

  // --- contents -----------------------------------------------------------
  // Host pointer to a frame's bytes. Only the access functions below and
  // page-sized copies use it; no host pointer is kept across operations.
  [[nodiscard]] std::byte* frame_bytes(Pfn pfn) const {
    HVO_DCHECK(valid(pfn), "pfn out of range");
    return base_ + (pfn.value() << kPageShift);
  }

  template <class T>
  [[nodiscard]] T load(PhysAddr a, std::memory_order mo) const {
    return std::atomic_ref<T>(*word<T>(a)).load(mo);
  }
  template <class T>
  void store(PhysAddr a, T v, std::memory_order mo) const {
    std::atomic_ref<T>(*word<T>(a)).store(v, mo);
  }
  template <class T>
  [[nodiscard]] bool compare_exchange(PhysAddr a, T& expected, T desired, std::memory_order mo) const {
    return std::atomic_ref<T>(*word<T>(a)).compare_exchange_strong(expected, desired, mo);
  }
  template <class T>
  T fetch_add(PhysAddr a, T delta, std::memory_order mo) const {
    return std::atomic_ref<T>(*word<T>(a)).fetch_add(delta, mo);
  }
  template <class T>
  T fetch_or(PhysAddr a, T bits, std::memory_order mo) const {
    return std::atomic_ref<T>(*word<T>(a)).fetch_or(bits, mo);
  }
  template <class T>
  T fetch_and(PhysAddr a, T bits, std::memory_order mo) const {
    return std::atomic_ref<T>(*word<T>(a)).fetch_and(bits, mo);
  }

  // A genuinely non-atomic 32-bit access (the halves of a `plain` PTE). The
  // volatile keeps the compiler from merging two halves into one store; TSan
  // still sees a plain access and reports a race on it.
  [[nodiscard]] uint32_t load_plain32(PhysAddr a) const { return *word<volatile uint32_t>(a); }
  void store_plain32(PhysAddr a, uint32_t v) const { *word<volatile uint32_t>(a) = v; }

  // copy_page(dst, src) / clear_page(): word by word with relaxed atomics, so
  // that a concurrent reader of the source (another CPU reading the reuse
  // page) is not a data race of the simulator itself.
  void copy_page(Pfn dst, Pfn src) const;
  void clear_page(Pfn pfn) const;

  // Resident host memory of the backing mapping, in bytes (mincore).
  [[nodiscard]] uint64_t resident_backing_bytes() const;

 private:
  template <class T>
  T* word(PhysAddr a) const {
    HVO_DCHECK(a.value() % sizeof(T) == 0, "misaligned access");
    HVO_DCHECK(a.value() + sizeof(T) <= memory_bytes(), "physical address out of range");
    return reinterpret_cast<T*>(base_ + a.value());
  }

  uint64_t nr_frames_;
  std::byte* base_ = nullptr;
  std::unique_ptr<std::atomic<uint32_t>[]> shadow_;
};

}  // namespace hvo
