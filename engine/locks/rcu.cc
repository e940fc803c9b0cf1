#include "engine/locks/rcu.h"

#include <vector>

#include "engine/check.h"
#include "engine/task.h"

// Memory orders. The hazard RCU exists for is store buffering between an
// updater and a reader:
//   updater: unpublish p (store); synchronize_rcu(): look at the slots; free
//   reader:  rcu_read_lock(): enter the slot;        load p; use *p
// The updater must not both miss the reader's entry and have its unpublish
// missed by the reader. The kernel breaks the cycle with full barriers
// (smp_mb() in __srcu_read_lock() and at the start of synchronize_srcu()).
// Here both sides are read-modify-writes of the same slot word instead, and
// the slot's modification order decides who came first:
//   - reader entry first: the updater's RMW reads a count that includes it,
//     so it waits; the reader's exit is a release RMW, and every later value
//     of the word comes from an RMW (release sequence), so the updater's
//     acquire load that sees the reader gone synchronizes with that exit:
//     the read section happens-before whatever follows synchronize_rcu();
//   - updater snapshot first: the reader's acquire RMW reads the updater's
//     release RMW (or a later RMW of its release sequence), so the unpublish
//     happens-before the reader's load of p.
// So acquire/release/acq_rel suffice and no seq_cst (nor a fence, which TSan
// does not model) is needed; TSan sees exactly these edges.

namespace hvo {

Rcu::Rcu(Lockdep& dep, unsigned nr_cpus) : dep_(dep), nr_cpus_(nr_cpus), slots_(new Slot[nr_cpus]) {
  HVO_CHECK(nr_cpus > 0, "RCU needs at least one CPU");
}

Rcu::Slot& Rcu::slot_of(CpuId cpu) const {
  HVO_CHECK(cpu.value() < nr_cpus_, "task's cpu is beyond the machine's CPUs");
  return slots_[cpu.value()];
}

void Rcu::rcu_read_lock() {
  Task& t = current();
  sched_point(SchedEvent::kRcuReadLock, t.cpu.value());
  if (t.rcu_read_depth++ > 0) return;  // nested: the outermost entry counts
  // __srcu_read_lock() / __rcu_read_lock(): acquire, see the header comment
  // (this RMW may read the updater's snapshot RMW).
  slot_of(t.cpu).word.fetch_add(1, std::memory_order_acquire);
  memory_acquired(&slot_of(t.cpu).word);  // the race detector's edge from the updater's snapshot
}

void Rcu::rcu_read_unlock() {
  Task& t = current();
  sched_point(SchedEvent::kRcuReadUnlock, t.cpu.value());
  if (t.rcu_read_depth == 0) {
    dep_.report(ViolationKind::kLockImbalance, "rcu_read_unlock() without a matching rcu_read_lock()");
    return;
  }
  if (--t.rcu_read_depth > 0) return;
  // __srcu_read_unlock() / __rcu_read_unlock() reporting the quiescent
  // state: the last reader of the CPU leaving also advances the sequence,
  // in the same RMW. release: the read section's accesses stay above it
  // (see the header comment); relaxed on CAS failure, nothing is published.
  std::atomic<uint64_t>& word = slot_of(t.cpu).word;
  memory_releasing(&word);  // the race detector's edge to synchronize_rcu()
  uint64_t w = word.load(std::memory_order_relaxed);
  for (;;) {
    HVO_CHECK((w & kCountMask) != 0, "RCU slot count underflow (task changed CPU inside a read section?)");
    const uint64_t next = (w & kCountMask) == 1 ? w - 1 + kSeqOne : w - 1;
    if (word.compare_exchange_weak(w, next, std::memory_order_release, std::memory_order_relaxed)) return;
  }
}

void Rcu::synchronize_rcu() {
  dep_.might_sleep("synchronize_rcu");
  const Task& self = current();
  sched_point(SchedEvent::kSynchronizeRcu);
  // The grace period starts here. acq_rel RMW of every slot (see the header
  // comment): release publishes the caller's earlier stores to readers that
  // enter later; acquire pairs with the exits of readers already gone.
  std::vector<uint64_t> snapshot(nr_cpus_);
  for (unsigned cpu = 0; cpu < nr_cpus_; ++cpu) {
    memory_releasing(&slots_[cpu].word);
    snapshot[cpu] = slots_[cpu].word.fetch_add(0, std::memory_order_acq_rel);
    memory_acquired(&slots_[cpu].word);
  }
  for (unsigned cpu = 0; cpu < nr_cpus_; ++cpu) {
    const uint64_t own = self.rcu_read_depth > 0 && self.cpu.value() == cpu ? 1 : 0;
    wait_for_readers(cpu, snapshot[cpu], own);
  }
  // relaxed: a statistic; the grace period's ordering came from the slots.
  grace_periods_.fetch_add(1, std::memory_order_relaxed);
}

void Rcu::wait_for_readers(unsigned cpu, uint64_t snapshot, uint64_t own) const {
  if ((snapshot & kCountMask) <= own) return;
  for (;;) {
    // acquire: pairs with the release exit of the readers (header comment).
    const uint64_t w = slots_[cpu].word.load(std::memory_order_acquire);
    if ((w & kCountMask) <= own || (w >> 32) != (snapshot >> 32)) {
      memory_acquired(&slots_[cpu].word);  // the race detector's edge from the readers' exits
      return;
    }
    sched_blocked(SchedEvent::kSynchronizeRcu, cpu);
  }
}

bool Rcu::read_lock_held() const { return current().rcu_read_depth > 0; }

void Rcu::AssertReadHeld() const {
  if (!read_lock_held())
    dep_.report(ViolationKind::kLockNotHeld, "RCU_LOCKDEP_WARN: RCU-protected access outside rcu_read_lock()");
}

uint64_t Rcu::grace_periods() const { return grace_periods_.load(std::memory_order_relaxed); }

}  // namespace hvo
