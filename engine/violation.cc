#include "engine/violation.h"

#include <cstdio>

#include "engine/task.h"

namespace hvo {

namespace {
struct KindInfo {
  ViolationKind kind;
  std::string_view name;
  Invariant invariant;
};
constexpr KindInfo kKinds[] = {
    {ViolationKind::kRoTailWrite, "ro-tail-write", Invariant::kNoRoWrite},
    {ViolationKind::kNotPresent, "not-present", Invariant::kPresentMapping},
    {ViolationKind::kUseAfterFree, "use-after-free", Invariant::kNoFreedAccess},
    {ViolationKind::kStaleTlbUseAfterFree, "stale-tlb-use-after-free", Invariant::kNoFreedAccess},
    {ViolationKind::kBreakBeforeMake, "break-before-make", Invariant::kPageTables},
    {ViolationKind::kDataRace, "data-race", Invariant::kNoDataRace},
    {ViolationKind::kTornPte, "torn-pte", Invariant::kNoDataRace},
    {ViolationKind::kDoubleFree, "double-free", Invariant::kBuddyFreeLists},
    {ViolationKind::kBadFree, "bad-free", Invariant::kFrameConservation},
    {ViolationKind::kLockNotHeld, "lock-not-held", Invariant::kLockRules},
    {ViolationKind::kLockHeld, "lock-held", Invariant::kLockRules},
    {ViolationKind::kLockOrderInversion, "lock-order-inversion", Invariant::kLockRules},
    {ViolationKind::kLockImbalance, "lock-imbalance", Invariant::kLockRules},
    {ViolationKind::kDeadlock, "deadlock", Invariant::kLockRules},
    {ViolationKind::kSleepInAtomic, "sleep-in-atomic", Invariant::kLockRules},
    {ViolationKind::kBugOn, "bug-on", Invariant::kModelAssertion},
    {ViolationKind::kBadPageState, "bad-page-state", Invariant::kStructPageContents},
    {ViolationKind::kInvariantBroken, "invariant-broken", Invariant::kModelAssertion},
    {ViolationKind::kLeak, "leak", Invariant::kFrameConservation},
    {ViolationKind::kUninitialisedPublish, "uninitialised-publish", Invariant::kInitialisedBeforePublished},
    {ViolationKind::kUninitialisedRead, "uninitialised-read", Invariant::kInitialisedBeforePublished},
};
static_assert(std::size(kKinds) == kNumViolationKinds);

struct InvariantInfo {
  Invariant inv;
  std::string_view name;
  std::string_view text;
};
constexpr InvariantInfo kInvariants[] = {
    {Invariant::kFrameConservation, "frame-conservation",
     "every frame has exactly one owner and the counts add up"},
    {Invariant::kVmemmapShape, "vmemmap-shape",
     "an optimized folio's tail PTEs map the reuse page read-only; a restored one maps distinct "
     "writable frames"},
    {Invariant::kStructPageContents, "struct-page-contents",
     "every tail says compound_head = head | 1, the head has PG_head, refcounts are never negative, a "
     "frozen folio stays at 0"},
    {Invariant::kNoRoWrite, "no-ro-write", "no write through a read-only vmemmap PTE"},
    {Invariant::kNoFreedAccess, "no-freed-access",
     "no access to a freed frame, directly or through a stale TLB entry"},
    {Invariant::kPresentMapping, "present-mapping", "every vmemmap access goes through a present entry"},
    {Invariant::kNoDataRace, "no-data-race", "no plain access concurrent with a write (no torn PTE)"},
    {Invariant::kLockRules, "lock-rules",
     "locks held where required, taken in one order, nothing held at sleep"},
    {Invariant::kBuddyFreeLists, "buddy-free-lists",
     "every free block is free in the frame map, merged with its buddy, counted once"},
    {Invariant::kPageTables, "page-tables", "page tables are well formed and changed break-before-make"},
    {Invariant::kPoolCounters, "pool-counters", "nr_huge_pages and free_huge_pages match the pool"},
    {Invariant::kSavings, "savings", "vmemmap pages saved equal the kernel's figures"},
    {Invariant::kHwpoisonConservation, "hwpoison-conservation",
     "every handled memory_failure() leaves its poison on the raw page or on a pool folio's raw-error list; no "
     "poison is dropped; no free page keeps one"},
    {Invariant::kOvercommitLimit, "overcommit-limit",
     "surplus hugepages never exceed nr_overcommit_hugepages (beyond what a lowered limit left)"},
    {Invariant::kStaticKeyBalance, "static-key-balance",
     "the static key that makes compound_head() check for fake heads counts every optimized folio: no fake-head "
     "alias is mapped while it is off"},
    {Invariant::kInitialisedBeforePublished, "initialised-before-published",
     "a page is initialised before any CPU can reach it: no vmemmap PTE is set to a page still holding "
     "PAGE_POISON, no struct page read returns it"},
    {Invariant::kTlbCoherence, "tlb-coherence",
     "once the operations that changed vmemmap PTEs have returned, no CPU's TLB holds a translation the page "
     "table no longer has (no flush omitted, no flushed range cut short)"},
    {Invariant::kModelAssertion, "model-assertion", "no BUG_ON of the modelled kernel code fires"},
};
static_assert(std::size(kInvariants) == kNumInvariants);
}  // namespace

std::string_view to_string(ViolationKind k) { return kKinds[static_cast<int>(k)].name; }
Invariant invariant_of(ViolationKind k) { return kKinds[static_cast<int>(k)].invariant; }
std::string_view to_string(Invariant i) { return kInvariants[static_cast<int>(i)].name; }
std::string_view describe(Invariant i) { return kInvariants[static_cast<int>(i)].text; }

std::optional<ViolationKind> violation_kind_from_string(std::string_view s) {
  for (const KindInfo& k : kKinds)
    if (k.name == s) return k.kind;
  return std::nullopt;
}

std::string Violation::to_string() const {
  std::string s = std::string(hvo::to_string(kind)) + " [" + std::string(hvo::to_string(invariant)) +
                  "] cpu " + std::to_string(cpu.value()) + " step " + std::to_string(step) + " in " +
                  operation;
  char buf[64];
  if (address != 0) {
    std::snprintf(buf, sizeof buf, " addr %#llx", static_cast<unsigned long long>(address));
    s += buf;
  }
  if (pfn) {
    std::snprintf(buf, sizeof buf, " pfn %#llx", static_cast<unsigned long long>(pfn->value()));
    s += buf;
  }
  if (frame) {
    std::snprintf(buf, sizeof buf, " frame %#llx", static_cast<unsigned long long>(frame->value()));
    s += buf;
  }
  return s + ": " + message;
}

Violation make_violation(ViolationKind kind, std::string message) {
  const Task& t = current();
  Violation v;
  v.kind = kind;
  v.invariant = invariant_of(kind);
  v.cpu = t.cpu;
  v.step = t.schedule_points;
  v.operation = operation_path(t);
  v.message = std::move(message);
  return v;
}

void ViolationLog::record(Violation v) {
  HostLockGuard g(mu_);
  per_kind_[static_cast<int>(v.kind)].fetch_add(1, std::memory_order_relaxed);
  // The listener runs under mu_ so that findings are written out in the
  // order they were recorded and before record() returns.
  if (listener_) listener_(v);
  if (kept_.size() < kMaxKept) kept_.push_back(std::move(v));
  count_.fetch_add(1, std::memory_order_release);
}

void ViolationLog::set_listener(Listener l) {
  HostLockGuard g(mu_);
  listener_ = std::move(l);
}

uint64_t ViolationLog::count(ViolationKind k) const {
  return per_kind_[static_cast<int>(k)].load(std::memory_order_acquire);
}

std::vector<Violation> ViolationLog::snapshot() const {
  HostLockGuard g(mu_);
  return kept_;
}

void ViolationLog::clear() {
  HostLockGuard g(mu_);
  kept_.clear();
  count_.store(0, std::memory_order_release);
  for (auto& c : per_kind_) c.store(0, std::memory_order_relaxed);
}

}  // namespace hvo
