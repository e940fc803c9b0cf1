// The checker's vocabulary: a closed set of violation kinds, the named
// invariants they break, and the record that explains one.
//
// A Violation is something the *simulated kernel* did wrong (a write through
// a read-only PTE, a use of a freed frame, a lock-order inversion). It is
// recorded, never thrown: the run goes on or stops as the campaign decides.
// Bugs of hvo-stress itself are HVO_CHECK failures instead (check.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/host_mutex.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"

namespace hvo {

enum class ViolationKind : uint8_t {
  kRoTailWrite,          // write through a read-only vmemmap PTE
  kNotPresent,           // access through a non-present entry
  kUseAfterFree,         // access to a free or reused frame found by a walk
  kStaleTlbUseAfterFree, // the same, through a TLB entry cached before a remap
  kBreakBeforeMake,      // a live valid entry replaced without break-before-make (arm64)
  kDataRace,             // a plain access concurrent with a write
  kTornPte,              // a PTE read half old, half new
  kDoubleFree,           // a buddy block freed twice
  kBadFree,              // freeing a frame that is not allocated as claimed
  kLockNotHeld,          // AssertHeld failed (lockdep_assert_held)
  kLockHeld,             // AssertNotHeld failed
  kLockOrderInversion,   // lockdep: "possible circular locking dependency"
  kLockImbalance,        // unlock of a lock not held by this task
  kDeadlock,             // controlled mode: every CPU is blocked (waiting for a lock, a grace period)
  kSleepInAtomic,        // "BUG: sleeping function called from invalid context"
  kBugOn,                // a BUG_ON/VM_BUG_ON of the modelled kernel code
  kBadPageState,         // struct page contents wrong ("Bad page state")
  kInvariantBroken,      // a global invariant checker found a broken invariant
  kLeak,                 // frames not returned at the end of a run
  kUninitialisedPublish, // a page made reachable (a vmemmap PTE set to it) still holds PAGE_POISON
  kUninitialisedRead,    // a struct page read returned PAGE_POISON: memory nobody initialised
};
inline constexpr int kNumViolationKinds = static_cast<int>(ViolationKind::kUninitialisedRead) + 1;

enum class Invariant : uint8_t {
  kFrameConservation,  // every frame has exactly one owner; counts add up
  kVmemmapShape,       // optimized tails map the reuse page RO; restored map distinct RW frames
  kStructPageContents, // tails say compound_head = head | 1, head flags, refcounts sane
  kNoRoWrite,          // no write through a read-only vmemmap PTE
  kNoFreedAccess,      // no access to a freed frame, directly or via a stale TLB entry
  kPresentMapping,     // every access goes through a present entry
  kNoDataRace,         // no data race on plain accesses
  kLockRules,          // held where required, in order, nothing held at sleep
  kBuddyFreeLists,     // the buddy free lists are consistent with the frames
  kPageTables,         // page tables well formed (no BBM violation, no leaked table)
  kPoolCounters,       // nr, free, surplus match the pool
  kSavings,            // vmemmap pages saved equal the kernel's figures
  kHwpoisonConservation, // a handled memory_failure()'s poison is kept (raw page or the folio's raw-error list)
  kOvercommitLimit,    // surplus hugepages made by faults never exceed nr_overcommit_hugepages
  kStaticKeyBalance,   // the fake-head static key is on for every folio whose vmemmap aliases its head
  kInitialisedBeforePublished, // a page is initialised before any CPU can reach it
  kTlbCoherence,       // at a quiescent point no CPU's TLB holds a translation the page table no longer has
  kModelAssertion,     // a BUG_ON of the modelled kernel code
};
inline constexpr int kNumInvariants = static_cast<int>(Invariant::kModelAssertion) + 1;

std::string_view to_string(ViolationKind k);
std::string_view to_string(Invariant i);
std::optional<ViolationKind> violation_kind_from_string(std::string_view s);
// One-line description of an invariant, for `hvo-stress list invariants`.
std::string_view describe(Invariant i);
// The invariant a kind of violation breaks.
Invariant invariant_of(ViolationKind k);

struct Violation {
  ViolationKind kind = ViolationKind::kInvariantBroken;
  Invariant invariant = Invariant::kModelAssertion;
  CpuId cpu{0};
  uint64_t address = 0;     // the virtual (vmemmap) address accessed, 0 if none
  std::optional<Pfn> pfn;   // the pfn whose struct page was accessed
  std::optional<Pfn> frame; // the physical frame involved
  uint64_t step = 0;        // the task's schedule point count at the time
  std::string operation;    // what the task was doing
  std::string message;      // the explanation

  std::string to_string() const;
};

// Builds a violation stamped with the current task's cpu, step and operation.
Violation make_violation(ViolationKind kind, std::string message);

// Thread-safe record of every violation of one run. Keeps the first
// kMaxKept in full and counts the rest. A listener (the campaign) is called
// for each one before record() returns, so a finding is written out before
// anything else happens.
class ViolationLog {
 public:
  static constexpr size_t kMaxKept = 256;
  using Listener = std::function<void(const Violation&)>;

  void record(Violation v) EXCLUDES(mu_);
  void set_listener(Listener l) EXCLUDES(mu_);

  [[nodiscard]] bool any() const { return count_.load(std::memory_order_acquire) != 0; }
  [[nodiscard]] uint64_t count() const { return count_.load(std::memory_order_acquire); }
  [[nodiscard]] uint64_t count(ViolationKind k) const;
  [[nodiscard]] std::vector<Violation> snapshot() const EXCLUDES(mu_);
  void clear() EXCLUDES(mu_);

 private:
  mutable HostMutex mu_;
  std::vector<Violation> kept_ GUARDED_BY(mu_);
  Listener listener_ GUARDED_BY(mu_);
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> per_kind_[kNumViolationKinds]{};
};

}  // namespace hvo
