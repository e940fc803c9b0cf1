// gfp_t: how an allocation may behave (include/linux/gfp_types.h).
//
// A small strong bit set. Only the bits the simulated kernel paths use are
// modelled; each says what it changes here:
//
//   bit  name            kernel flag             effect in the simulator
//   0    kDirectReclaim  __GFP_DIRECT_RECLAIM    the caller may sleep: might_sleep() is checked
//   1    kHigh           __GFP_HIGH              names atomic context (no watermarks are simulated)
//   2    kNoRetry        __GFP_NORETRY           no reclaim is simulated: a failure is final anyway
//   3    kRetryMayFail   __GFP_RETRY_MAYFAIL     likewise
//   4    kNoWarn         __GFP_NOWARN            a failure is not counted as a warn_alloc() warning
//   5    kThisNode       __GFP_THISNODE          the machine has one node: always satisfied
//   6    kZero           __GFP_ZERO              the frames' contents are cleared
//   7    kNoFail         __GFP_NOFAIL            never failed by injection (should_fail_alloc_page())
//
// The composite masks are the kernel's: GFP_KERNEL may sleep, GFP_ATOMIC and
// GFP_NOWAIT never do. Invariant: may_sleep(g) <=> g has kDirectReclaim.
#pragma once

#include <cstdint>
#include <string>

namespace hvo {

enum class Gfp : uint32_t {
  kNoWait = 0,  // GFP_NOWAIT
  kDirectReclaim = 1u << 0,
  kHigh = 1u << 1,
  kNoRetry = 1u << 2,
  kRetryMayFail = 1u << 3,
  kNoWarn = 1u << 4,
  kThisNode = 1u << 5,
  kZero = 1u << 6,
  kNoFail = 1u << 7,

  kKernel = kDirectReclaim,  // GFP_KERNEL (the __GFP_IO/__GFP_FS parts have no meaning here)
  kAtomic = kHigh,           // GFP_ATOMIC
};

[[nodiscard]] constexpr Gfp operator|(Gfp a, Gfp b) {
  return static_cast<Gfp>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}
[[nodiscard]] constexpr Gfp operator&(Gfp a, Gfp b) {
  return static_cast<Gfp>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b));
}
constexpr Gfp& operator|=(Gfp& a, Gfp b) { return a = a | b; }

// True when every bit of `bits` is set in `g`.
[[nodiscard]] constexpr bool has(Gfp g, Gfp bits) { return (g & bits) == bits && bits != Gfp::kNoWait; }

// gfpflags_allow_blocking(): the allocation may sleep, so it must not be made
// under a spinlock or inside an RCU read-side section.
[[nodiscard]] constexpr bool may_sleep(Gfp g) { return has(g, Gfp::kDirectReclaim); }

// "GFP_KERNEL|__GFP_NOWARN", as the kernel's %pGg prints it (inline: this
// header has no .cc of its own).
[[nodiscard]] inline std::string to_string(Gfp g) {
  struct Name {
    Gfp bit;
    const char* name;
  };
  static constexpr Name kNames[] = {
      {Gfp::kHigh, "GFP_ATOMIC"},          {Gfp::kNoRetry, "__GFP_NORETRY"},
      {Gfp::kRetryMayFail, "__GFP_RETRY_MAYFAIL"}, {Gfp::kNoWarn, "__GFP_NOWARN"},
      {Gfp::kThisNode, "__GFP_THISNODE"},  {Gfp::kZero, "__GFP_ZERO"},
      {Gfp::kNoFail, "__GFP_NOFAIL"},
  };
  std::string s = may_sleep(g) ? "GFP_KERNEL" : "";
  for (const Name& n : kNames) {
    if (!has(g, n.bit)) continue;
    if (!s.empty()) s += '|';
    s += n.name;
  }
  return s.empty() ? "GFP_NOWAIT" : s;
}

}  // namespace hvo
