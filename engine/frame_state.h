// The shadow state of a physical frame: who owns it, and how many times it
// has been freed (its generation).
//
// Layout of the 32-bit shadow word (one per frame, so a 64 GiB machine
// spends 64 MiB on it):
//
//   bits 0..3   FrameState
//   bits 4..31  generation: incremented each time the frame is freed to buddy
//
// Invariants: kFree <=> the frame is in exactly one free block of the buddy
// allocator. A reference to a frame (a TLB entry, a walker's pointer) that
// carries a generation other than the frame's current one, or that points to
// a kFree frame, is a use-after-free.
#pragma once

#include <cstdint>
#include <string_view>

namespace hvo {

enum class FrameState : uint8_t {
  kFree = 0,      // on a buddy free list
  kBuddy,         // allocated from buddy, not yet given a use
  kPageTable,     // a page-table page (pgd, pud, pmd or pte table)
  kVmemmap,       // backs part of the vmemmap (struct pages)
  kHugetlbData,   // part of a hugepage's data
  kBootReserved,  // never given to buddy (memblock reserved: kernel image, boot data)
};
inline constexpr int kNumFrameStates = 6;

std::string_view to_string(FrameState s);

// Frames whose contents the simulator keeps (and so whose bytes may be
// resident): page tables and vmemmap.
[[nodiscard]] constexpr bool holds_contents(FrameState s) {
  return s == FrameState::kPageTable || s == FrameState::kVmemmap;
}

struct FrameShadow {
  static constexpr uint32_t kStateMask = 0xf;
  static constexpr unsigned kGenShift = 4;

  [[nodiscard]] static constexpr FrameState state(uint32_t w) { return static_cast<FrameState>(w & kStateMask); }
  [[nodiscard]] static constexpr uint32_t generation(uint32_t w) { return w >> kGenShift; }
  [[nodiscard]] static constexpr uint32_t make(FrameState s, uint32_t gen) {
    return (gen << kGenShift) | static_cast<uint32_t>(s);
  }
};

}  // namespace hvo
