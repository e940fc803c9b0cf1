#include "engine/locks/lockdep.h"

#include <bit>
#include <utility>

#include <fmt/format.h>

#include "engine/check.h"

namespace hvo {

std::string_view to_string(LockKind k) {
  switch (k) {
    case LockKind::kSpin: return "spinlock";
    case LockKind::kMutex: return "mutex";
    case LockKind::kRwsem: return "rw_semaphore";
  }
  return "?";
}

uint64_t LockClass::new_instance_address() {
  // relaxed: the ordinal only has to be unique; locks are constructed before
  // the threads that use them start, which orders everything else.
  const uint32_t n = instances_.fetch_add(1, std::memory_order_relaxed);
  return (uint64_t{1} << 63) | (uint64_t{id_} << 32) | n;
}

Lockdep::Lockdep(ViolationLog& log) : log_(log) {}

LockClass& Lockdep::register_class(std::string_view name, LockKind kind) {
  HostLockGuard g(mu_);
  for (unsigned i = 0; i < nr_classes_; ++i) {
    if (classes_[i]->name() == name) {
      HVO_CHECK(classes_[i]->kind() == kind, "lock class registered again with another kind");
      return *classes_[i];
    }
  }
  HVO_CHECK(nr_classes_ < kMaxLockClasses, "more than kMaxLockClasses lock classes");
  classes_[nr_classes_].reset(new LockClass(*this, std::string(name), kind, nr_classes_));
  return *classes_[nr_classes_++];
}

unsigned Lockdep::nr_classes() const {
  HostLockGuard g(mu_);
  return nr_classes_;
}

void Lockdep::acquire(const LockClass& c, const void* instance, bool shared) {
  const Task& t = current();
  uint64_t held_mask = 0;
  for (int i = 0; i < t.nr_held; ++i)
    if (is_mine(t.held[i])) held_mask |= uint64_t{1} << t.held[i].cls->id();
  if (held_mask != 0) check_order(c, held_mask);
  push(c, instance, shared);
}

void Lockdep::acquire_trylock(const LockClass& c, const void* instance, bool shared) {
  push(c, instance, shared);
}

void Lockdep::push(const LockClass& c, const void* instance, bool shared) {
  Task& t = current();
  HVO_CHECK(t.nr_held < kMaxHeldLocks, "held-lock stack overflow (MAX_LOCK_DEPTH)");
  t.held[t.nr_held++] = HeldLock{&c, instance, shared};
  // spin_lock() is preempt_disable() + the lock: sleeping is illegal until
  // the matching spin_unlock().
  if (c.kind() == LockKind::kSpin) ++t.preempt_count;
}

void Lockdep::check_order(const LockClass& c, uint64_t held_mask) {
  const unsigned cid = c.id();
  const uint64_t cbit = uint64_t{1} << cid;
  if ((held_mask & cbit) != 0) report_recursion(c);

  // Fast path. relaxed: a set bit only says "this edge was dealt with"; no
  // data is published through it. A stale 0 sends us to the slow path,
  // which re-reads under mu_.
  uint64_t unknown = 0;
  for (uint64_t m = held_mask & ~cbit; m != 0; m &= m - 1) {
    const auto h = static_cast<unsigned>(std::countr_zero(m));
    if ((known_[h].load(std::memory_order_relaxed) & cbit) == 0) unknown |= uint64_t{1} << h;
  }
  if (unknown == 0) return;

  std::vector<std::string> reports;
  {
    HostLockGuard g(mu_);
    for (uint64_t m = unknown; m != 0; m &= m - 1) {
      const auto h = static_cast<unsigned>(std::countr_zero(m));
      if ((known_[h].load(std::memory_order_relaxed) & cbit) != 0) continue;  // another task was first
      // The new edge h -> c closes a cycle iff c already reaches h.
      const std::vector<unsigned> chain = graph_.path(cid, h);
      if (chain.empty()) {
        graph_.add_edge(h, cid);
      } else {
        std::string existing;
        for (unsigned n : chain) existing += fmt::format("{}\"{}\"", existing.empty() ? "" : " -> ", classes_[n]->name());
        reports.push_back(fmt::format(
            "possible circular locking dependency detected: acquiring \"{}\" while holding \"{}\", but the "
            "existing dependency chain {} says \"{}\" is taken before \"{}\"; cycle: \"{}\" -> {}",
            c.name(), classes_[h]->name(), existing, c.name(), classes_[h]->name(), classes_[h]->name(),
            existing));
      }
      // Reported inversions are marked known too, so each is reported once
      // and the fast path skips them afterwards; the graph stays acyclic.
      known_[h].fetch_or(cbit, std::memory_order_relaxed);
    }
  }
  // Outside mu_: the log runs its listener under its own lock.
  for (std::string& r : reports) report(ViolationKind::kLockOrderInversion, std::move(r) + "; " + describe_held(current()));
}

void Lockdep::report_recursion(const LockClass& c) {
  const uint64_t cbit = uint64_t{1} << c.id();
  // relaxed: fetch_or alone decides which task reports; nothing else is published.
  if ((recursion_reported_.fetch_or(cbit, std::memory_order_relaxed) & cbit) != 0) return;
  report(ViolationKind::kLockOrderInversion,
         fmt::format("possible recursive locking detected: acquiring \"{}\" while already holding a lock of that "
                     "class; {}",
                     c.name(), describe_held(current())));
}

void Lockdep::check_self_deadlock(const LockClass& c, const void* instance, bool shared) {
  const HeldLock* h = current_hold(instance);
  if (h == nullptr || (shared && h->shared)) return;
  std::string msg = fmt::format("deadlock: acquiring \"{}\" ({}) which this task already holds{}; {}", c.name(),
                                shared ? "read" : "write", h->shared ? " for read" : "", describe_held(current()));
  report(ViolationKind::kLockOrderInversion, msg);
  throw SelfDeadlock(msg);
}

void Lockdep::release(const LockClass& c, const void* instance) {
  Task& t = current();
  int i = t.nr_held - 1;
  while (i >= 0 && t.held[i].instance != instance) --i;
  if (i < 0) {
    report(ViolationKind::kLockImbalance,
           fmt::format("bad unlock balance detected: releasing \"{}\" which this task does not hold; {}", c.name(),
                       describe_held(t)));
    return;
  }
  HVO_CHECK(t.held[i].cls == &c, "lock released with another class than it was acquired with");
  for (int j = i; j + 1 < t.nr_held; ++j) t.held[j] = t.held[j + 1];
  t.held[--t.nr_held] = HeldLock{};
  if (c.kind() == LockKind::kSpin) {
    HVO_CHECK(t.preempt_count > 0, "preempt_count underflow");
    --t.preempt_count;
  }
}

const HeldLock* Lockdep::current_hold(const void* instance) const {
  const Task& t = current();
  for (int i = t.nr_held - 1; i >= 0; --i)
    if (t.held[i].instance == instance) return &t.held[i];
  return nullptr;
}

bool Lockdep::held_by_current(const void* instance) const { return current_hold(instance) != nullptr; }

void Lockdep::assert_held(const LockClass& c, const void* instance, bool exclusive) {
  const HeldLock* h = current_hold(instance);
  if (h != nullptr && !(exclusive && h->shared)) return;
  report(ViolationKind::kLockNotHeld,
         fmt::format("{}(\"{}\") failed: {} by this task; {}",
                     exclusive ? "lockdep_assert_held_write" : "lockdep_assert_held", c.name(),
                     h == nullptr ? "not held" : "held only for read", describe_held(current())));
}

void Lockdep::assert_not_held(const LockClass& c, const void* instance) {
  if (!held_by_current(instance)) return;
  report(ViolationKind::kLockHeld, fmt::format("lockdep_assert_not_held(\"{}\") failed: held by this task; {}",
                                               c.name(), describe_held(current())));
}

std::string Lockdep::describe_held(const Task& t) {
  if (t.nr_held == 0) return "no locks held";
  std::string s = "held locks:";
  for (int i = 0; i < t.nr_held; ++i)
    s += fmt::format("{} \"{}\"{}", i == 0 ? "" : ",", t.held[i].cls->name(), t.held[i].shared ? " (read)" : "");
  return s;
}

void Lockdep::might_sleep(std::string_view what) {
  const Task& t = current();
  if (t.preempt_count == 0 && t.rcu_read_depth == 0) return;
  report(ViolationKind::kSleepInAtomic,
         fmt::format("BUG: sleeping function called from invalid context: {} with preempt_count {}, "
                     "rcu_read_lock nesting {}; {}",
                     what, t.preempt_count, t.rcu_read_depth, describe_held(t)));
}

void Lockdep::report(ViolationKind kind, std::string message) { log_.record(make_violation(kind, std::move(message))); }

}  // namespace hvo
