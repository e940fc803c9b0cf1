#include "engine/sched/scheduler.h"

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

#include "engine/check.h"
#include "engine/locks/lockdep.h"
#include "engine/violation.h"

namespace hvo::sched {

namespace {
// Trace codes of the steps that are not a SchedEvent (those are < 0x80).
constexpr uint32_t kBlockedBit = 0x80;
constexpr uint32_t kFinishEvent = 0xff;
constexpr uint32_t kDrainEvent = 0xfe;  // a store buffer entry written to memory
constexpr uint32_t kInvalidateEvent = 0xfd;  // an invalidation queue entry applied (weak)
constexpr uint32_t kEntryChoiceEvent = 0xfc;  // which buffered store drains out of order (weak)

bool is_acquire(std::memory_order mo) {
  return mo == std::memory_order_acquire || mo == std::memory_order_consume || mo == std::memory_order_acq_rel;
}

#ifdef HVO_TSAN
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

void reset_task(Task& t, ScheduleHook* hook) {
  t.hook = hook;
  t.schedule_points = 0;
  t.operation = "idle";
  t.nr_operations = 0;
  t.nr_held = 0;
  t.preempt_count = 0;
  t.rcu_read_depth = 0;
}
}  // namespace

struct Scheduler::Cpu {
  explicit Cpu(unsigned i) : task(CpuId(i)) {}
  Task task;
  void* tsan = nullptr;   // its TSan fiber; null while it has no fiber
  bool alive = false;     // has a fiber (running, suspended, or parked between executions)
  uint64_t point_step = 0;  // the step of its last schedule point: names its accesses in race reports
  bool retrying = false;  // resumed after blocking: its next schedule point is the retry
  bool retry_point_used = false;
  // TSan builds: stopped inside a lock's TSan annotation, and whether its
  // sync-ignore is on (off while it is switched away, see switch_to()).
  bool tsan_lock_annotation = false;
  bool tsan_sync_ignored = false;
  // ASan builds: its stack and the fake stack saved while it is switched away.
  boost::context::stack_context stack{};
  void* asan_fake_stack = nullptr;
};

Scheduler::Scheduler() = default;

Scheduler::~Scheduler() {
  // Parked workers wait inside finish() for the next execution: let each
  // leave its loop and return to us, then forget its TSan fiber.
  shutdown_ = true;
  main_task_ = hvo::detail::current_task;
  main_tsan_ = tsan_current_fiber();
  for (unsigned i = 0; i < cpus_.size(); ++i) {
    if (!cpus_[i]->alive) continue;
    switch_to(i);
    reap();
  }
}

Fiber& Scheduler::slot(unsigned who) { return fibers_[who]; }

// Every context switch goes through here. The target learns who switched to
// it through from_ and stores that context's continuation (land()).
void Scheduler::switch_to(unsigned next) {
  // A CPU inside a lock's TSan annotation has its sync-ignore lifted for
  // the switch and put back when it runs again, see fiber.h; not when it
  // runs again only to be unwound (the annotation will never be closed).
  Cpu* const self = running_ == kMain ? nullptr : cpus_[running_].get();
  const bool lift = kTsan && self != nullptr && self->tsan_sync_ignored;
  if (lift) {
    tsan_lift_sync_ignore();
    self->tsan_sync_ignored = false;
  }
  from_ = running_;
  running_ = next;
  if (next == kMain) {
    hvo::detail::current_task = main_task_;
    tsan_switch_to_fiber(main_tsan_);
  } else {
    Cpu& c = *cpus_[next];
    hvo::detail::current_task = &c.task;
    tsan_switch_to_fiber(c.tsan);
  }
  if (next == kMain) {
    asan_start_switch(&self->asan_fake_stack, main_stack_bottom_, main_stack_size_);
  } else {
    const boost::context::stack_context& st = cpus_[next]->stack;
    asan_start_switch(self != nullptr ? &self->asan_fake_stack : &main_asan_fake_stack_,
                      static_cast<char*>(st.sp) - st.size, st.size);
  }
  land(std::move(slot(next)).resume());
  if (lift && !aborting_) {
    tsan_restore_sync_ignore();
    self->tsan_sync_ignored = true;
  }
}

// What TSan ignores for the running CPU, from where it stopped: every
// kLockAcquire point and wait of engine/locks is inside the lock's TSan
// annotation (__tsan_mutex_pre_lock .. post_lock, which ignores the
// fiber's synchronization), every other stop is outside one. Not updated
// while an execution is being unwound: the annotations then stay open.
void Scheduler::note_stop(uint32_t event) {
  if (aborting_) return;
  Cpu& c = *cpus_[running_];
  c.tsan_lock_annotation = (event & 0xff) == static_cast<uint32_t>(SchedEvent::kLockAcquire);
  c.tsan_sync_ignored = c.tsan_lock_annotation;
}

void Scheduler::land(Fiber&& caller) {
  // ASan first: the landing context is running_ (set by who switched here).
  const void* bottom_old = nullptr;
  std::size_t size_old = 0;
  asan_finish_switch(running_ == kMain ? main_asan_fake_stack_ : cpus_[running_]->asan_fake_stack, &bottom_old,
                     &size_old);
  if (from_ == kMain && bottom_old != nullptr) {
    main_stack_bottom_ = bottom_old;  // the one place main's stack bounds are learnt
    main_stack_size_ = size_old;
  }
  slot(from_) = std::move(caller);
}

// A CPU's fiber: runs one body per execution, parks between executions.
Fiber Scheduler::worker(unsigned i, Fiber&& caller) {
  land(std::move(caller));
  while (!shutdown_) {
    if (!run_body(i)) break;  // unwound: retire this fiber
    finish(i);                // returns when the next execution (or shutdown) resumes us
  }
  Cpu& c = *cpus_[i];
  if (c.tsan_lock_annotation) {
    // Unwound out of a lock's TSan annotation: close what pre_lock opened,
    // so that this exit synchronizes and the fiber can be retired.
    if (c.tsan_sync_ignored) tsan_lift_sync_ignore();
    tsan_end_access_ignore();
  }
  c.tsan_sync_ignored = false;
  c.tsan_lock_annotation = false;
  c.alive = false;
  unfinished_ &= ~cpu_bit(i);
  runnable_ &= ~cpu_bit(i);
  waiting_ &= ~cpu_bit(i);
  from_ = i;
  running_ = kMain;
  hvo::detail::current_task = main_task_;
  tsan_switch_to_fiber(main_tsan_);
  c.asan_fake_stack = nullptr;
  asan_start_switch(nullptr, main_stack_bottom_, main_stack_size_);  // null: this fiber ends
  return std::move(fibers_[kMain]);
}

// Runs CPU i's body; false if it was unwound (or never started) because the
// execution is being aborted.
bool Scheduler::run_body(unsigned i) {
  if (aborting_) return false;
  bool unwound = false;
  try {
    bodies_[i]();
  } catch (const ExecutionAborted&) {
    unwound = true;
  } catch (const SelfDeadlock&) {
    // Lockdep recorded the AA deadlock and stops this task (lockdep.h); the
    // violation ends the execution at the next step if stop_on_violation.
  } catch (...) {
    // A bug of the tool or the scenario: end the execution, rethrow in run().
    if (!error_) error_ = std::current_exception();
    stop(Verdict::kPass, "a CPU body threw");
    unwound = true;
  }
  // The switch away happens out here, never inside a catch block (the
  // runtime's caught-exception stack is per thread, not per fiber).
  return !unwound;
}

void Scheduler::finish(unsigned i) {
  if constexpr (kTsan) note_stop(kFinishEvent);
  ++step_;
  trace_.add(step_, i, kFinishEvent, 0, 0);
  unfinished_ &= ~cpu_bit(i);
  runnable_ &= ~cpu_bit(i);
  waiting_ &= ~cpu_bit(i);
  wake_all();  // what it held or did last may be what the others wait for
  int current = static_cast<int>(i);
  if (priming_) [[unlikely]] {
    if (!priming_done(i)) return;  // the next execution resumes us here
    current = kNoCpu;
  }
  if (!aborting_ && violation_stops()) stop(Verdict::kViolation, "");
  if (aborting_ || runnable_ == 0) {
    switch_to(kMain);  // the end, or main unwinds the rest
    return;
  }
  if (!decide(current)) {
    // Not inside the body any more: nothing to unwind here, main unwinds the rest.
    stop(Verdict::kDiverged, diverged_message());
    switch_to(kMain);
  }
}

// Priming, at CPU i's first stop: hands over to CPU i+1, which primes
// itself and so on, and returns false (when CPU i is resumed, the execution
// is under way). The last CPU returns true: it takes the first decision,
// with no current CPU, so that priming costs one switch per CPU and no
// round trip through main.
bool Scheduler::priming_done(unsigned i) {
  if (i + 1 < bodies_.size()) {
    switch_to(i + 1);
    return false;
  }
  priming_ = false;
  return true;
}

void Scheduler::point(const SchedulePoint& p) {
  on_point(static_cast<uint32_t>(p.event), p.address, p.value);
  // flush_tlb_kernel_range()/flush_tlb_all(): on_each_cpu(..., wait=1), a
  // synchronization of the flusher with every CPU (race_detector.h). At
  // the point, after the decision: what the flusher does next is after it.
  if (p.event == SchedEvent::kTlbFlush) {
    if (detecting()) races_.ipi_all(running_);
    if (buffering()) flush_ordering();
  }
}

// flush_tlb_kernel_range()/flush_tlb_all() under tso and weak: x86's
// on_each_cpu(do_kernel_range_flush, ..., wait=1) sends IPIs (the flusher's
// locked instructions drain its store buffer) and every CPU takes the
// interrupt before it returns; arm64's __flush_tlb_kernel_pgtable() is
// dsb(ishst), tlbi, dsb(ish), isb: the flusher's stores are visible first,
// and the broadcast TLBI is complete on every CPU (their walks and accesses
// after it see those stores). So: the flusher's buffer drains and, under
// weak, every CPU's invalidation queue is applied: the loads any CPU makes
// after the flush are not satisfied from before it. Applying the others'
// queues at the flush rather than when each takes its IPI (Tlb's queue,
// drained before its next translation) is stronger than the hardware: it
// can hide, never invent, a reordering.
void Scheduler::flush_ordering() {
  drain_all(running_);
  if (limits_.memory_model != MemoryModel::kWeak) return;
  for (InvalidationQueue& q : queues_) q.apply_all();
}

MemoryResult Scheduler::access(const MemoryAccess& a, void* host) {
  on_point(static_cast<uint32_t>(SchedEvent::kAtomic) | a.packed(), a.address, a.value);
  // Resumed: the access is performed right after this returns.
  return memory_access(a, host);
}

MemoryResult Scheduler::on_access(const MemoryAccess& a, void* host) { return memory_access(a, host); }

void Scheduler::visit_buffered(uint64_t begin, uint64_t end, const BufferedVisitor& visit) const {
  if (!buffering()) return;
  const StoreBuffer& b = buffers_[running_];
  for (size_t i = 0; i < b.size(); ++i)
    if (const BufferedStore& s = b[i]; s.address < end && s.address + s.size > begin) visit(s.address, s.size, s.value);
}

MemoryResult Scheduler::memory_access(const MemoryAccess& a, void* host) {
  if (running_ == kMain) return {};
  const unsigned self = running_;
  if (limits_.detect_races) {
    const uint64_t step = cpus_[self]->point_step;
    if (std::optional<Race> race = races_.access(self, step, a)) [[unlikely]]
      report(*race);
    torn_.access(self, step, a, host, torn_found_);
    if (!torn_found_.empty()) [[unlikely]] {
      for (const TornRead& t : torn_found_) {
        Violation v = make_violation(ViolationKind::kTornPte, t.describe());
        v.address = t.word;
        v.frame = Pfn(t.word >> kPageShift);
        report(std::move(v), t.reader, t.reader_step);
      }
      torn_found_.clear();
    }
  }
  if (limits_.memory_model == MemoryModel::kSc) return {};
  StoreBuffer& b = buffers_[self];
  switch (a.kind) {
    case AccessKind::kStore:
    case AccessKind::kPlainStore:
      if (a.order == std::memory_order_seq_cst) {
        // A seq_cst store is the store and a full fence after it (x86
        // xchg; arm64 stlr, ordered before any later ldar): the buffer
        // drains first, then the store is performed (by the caller, on
        // return: the other CPUs learn of it now).
        drain_all(self);
        published(self, a.address, a.size, load_host(host, a.size));
        return {};
      }
      b.push(BufferedStore{a.address, host, a.value, a.size, a.order == std::memory_order_release, false});
      return {true, 0};
    case AccessKind::kLoad:
    case AccessKind::kPlainLoad: {
      uint64_t v = 0;
      switch (b.forward(a.address, a.size, v)) {
        case StoreBuffer::Forward::kHit: return {true, v};
        case StoreBuffer::Forward::kOverlap: drain_all(self); break;
        case StoreBuffer::Forward::kMiss: break;
      }
      if (limits_.memory_model != MemoryModel::kWeak) return {};
      // Under weak the load may be satisfied from this CPU's stale view
      // (store_buffer.h, InvalidationQueue). A seq_cst load (arm64 ldar
      // after an stlr, and the kernel's fully ordered reads) sees every
      // store that reached memory: applied first. An acquire load may
      // itself read a stale value, but no later load may be satisfied
      // before it: applied after (the value is already taken).
      InvalidationQueue& q = queues_[self];
      if (a.order == std::memory_order_seq_cst) {
        q.apply_all();
        return {};
      }
      const bool stale = q.lookup(a.address, a.size, v) == InvalidationQueue::Lookup::kStale;
      if (is_acquire(a.order)) q.apply_all();
      return stale ? MemoryResult{true, v} : MemoryResult{};
    }
    case AccessKind::kRmw:
    case AccessKind::kCas:
      // Locked instructions (x86) and the kernel's value-returning atomics
      // (fully ordered) drain the buffer and, under weak, see every store
      // that reached memory; the RMW itself is then performed on memory,
      // atomically (a failed CAS leaves the old value: publishing it as
      // stale to the others is then harmless, it is the current one).
      drain_all(self);
      if (limits_.memory_model == MemoryModel::kWeak) {
        queues_[self].apply_all();
        published(self, a.address, a.size, load_host(host, a.size));
      }
      return {};
  }
  return {};
}

// Lock operations are RMWs or release stores of the lock word, fully
// ordered in the kernel's spinlock/mutex fast paths on x86 (locked
// instructions): the buffer drains. On arm64 an unlock is only a release;
// draining is stronger than that, so it can hide, never invent, a reordering.
void Scheduler::drain_own() {
  if (buffering()) drain_all(running_);
}

// Every store of a buffer reaches memory through here, so that under weak
// the other CPUs' invalidation queues learn of it.
void Scheduler::drain_all(unsigned cpu) {
  StoreBuffer& b = buffers_[cpu];
  while (!b.empty()) {
    const BufferedStore e = b.drain(0);
    published(cpu, e.address, e.size, e.value);
  }
}

// CPU `cpu`'s store to [address, size) reached memory, overwriting `old`:
// under weak every other CPU may go on seeing `old` until its next
// synchronization point or a choice applies the entry; `cpu` itself sees
// its own store from now on.
void Scheduler::published(unsigned cpu, uint64_t address, uint8_t size, uint64_t old) {
  if (limits_.memory_model != MemoryModel::kWeak) return;
  const unsigned n = static_cast<unsigned>(bodies_.size());
  for (unsigned i = 0; i < n; ++i) {
    if (i == cpu) {
      queues_[i].forget(address, size);
    } else {
      queues_[i].push(address, size, old);
    }
  }
}

// A lock acquire is an acquire (and, see above, drains like an RMW): the
// stale view goes too.
void Scheduler::on_acquire(const void* sync) {
  drain_own();
  if (buffering() && limits_.memory_model == MemoryModel::kWeak) queues_[running_].apply_all();
  if (detecting()) races_.acquire(running_, sync);
}

void Scheduler::on_release(const void* sync) {
  drain_own();
  if (detecting()) races_.release(running_, sync);
}

// smp_mb() drains (store->load order, the only one TSO relaxes); smp_wmb()
// under weak stops later stores from overtaking earlier ones (TSO keeps that
// order anyway); smp_rmb() and smp_mb() under weak apply the invalidation
// queue: no later load may be satisfied from before the fence (TSO never
// reorders loads, it has no queue).
void Scheduler::on_fence(std::memory_order mo) {
  if (buffering()) {
    const bool weak = limits_.memory_model == MemoryModel::kWeak;
    if (mo == std::memory_order_seq_cst || mo == std::memory_order_acq_rel) {
      drain_all(running_);
      if (weak) queues_[running_].apply_all();
    } else if (mo == std::memory_order_release && weak) {
      buffers_[running_].barrier();
    } else if (is_acquire(mo) && weak) {
      queues_[running_].apply_all();
    }
  }
  if (detecting()) races_.fence(running_, mo);
}

// The drain choices open now: id n + i drains CPU i's oldest store; under
// weak, 2n + i drains one of the stores allowed to overtake the older ones
// (which one is a second choice, see drain_choice()), and 3n + i applies
// the youngest entry of CPU i's invalidation queue.
CpuMask Scheduler::drainable() const {
  const unsigned n = static_cast<unsigned>(bodies_.size());
  const bool weak = limits_.memory_model == MemoryModel::kWeak;
  CpuMask m = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (weak && !queues_[i].empty()) m |= cpu_bit(3 * n + i);
    const StoreBuffer& b = buffers_[i];
    if (b.empty()) continue;
    m |= cpu_bit(n + i);
    if (weak && b.overtaking().choices != 0) m |= cpu_bit(2 * n + i);
  }
  return m;
}

// A drain chosen by the strategy: a step of its own (in the trace, and so
// that each decision has its own step for replays). For 2n + i the entry
// is a second choice of the strategy's (Strategy::pick_entry) among every
// store that may overtake the older ones, so that a buffer [a, b, c] can
// make b visible while a and c are not; when there is more than one, the
// choice is a step and a recorded decision of its own, before the drain's.
// False when a replay cannot follow it.
bool Scheduler::drain_choice(unsigned id) {
  const unsigned n = static_cast<unsigned>(bodies_.size());
  const unsigned cpu = id % n;
  ++step_;
  if (id >= 3 * n) {
    InvalidationQueue& q = queues_[cpu];
    trace_.add(step_, id, kInvalidateEvent, 0, q.size());
    q.apply_youngest();
    return true;
  }
  StoreBuffer& b = buffers_[cpu];
  size_t entry = 0;
  if (id >= 2 * n) {
    const StoreBuffer::Overtakers o = b.overtaking();
    int pick = std::countr_zero(o.choices);
    if ((o.choices & (o.choices - 1)) != 0) {
      pick = strategy_->pick_entry(PickContext{step_, o.choices, kNoCpu});
      if (pick < 0 || !contains(o.choices, static_cast<unsigned>(pick))) return false;
      decisions_.push_back(Decision{step_, static_cast<uint32_t>(pick)});
      trace_.add(step_, id, kEntryChoiceEvent, 0, static_cast<uint64_t>(pick));
      ++step_;  // the drain is a step of its own: every decision has its own step
    }
    entry = o.entry(static_cast<unsigned>(pick));
  }
  const BufferedStore e = b.drain(entry);
  published(cpu, e.address, e.size, e.value);
  trace_.add(step_, id, kDrainEvent, e.address, entry);
  return true;
}

// A race is a violation of the simulated kernel: into the watched log (the
// scheduler stops at the next step, as for any violation), or, for a
// scenario without one, the execution's verdict.
void Scheduler::report(const Race& race) {
  Violation v = make_violation(ViolationKind::kDataRace, race.describe());
  v.address = race.later.address;
  // Engine memory is physical: name the frame. (sched::Shared and lock
  // addresses have bit 62 or 63 set.)
  if (race.later.address < (uint64_t{1} << 62)) v.frame = Pfn(race.later.address >> kPageShift);
  report(std::move(v), race.later.cpu, race.later.step);
}

void Scheduler::report(Violation v, unsigned cpu, uint64_t step) {
  v.cpu = CpuId(cpu);
  v.step = step;
  if (log_ != nullptr) {
    log_->record(std::move(v));
    return;
  }
  if (aborting_ || !limits_.stop_on_violation) return;
  outcome_.failure_step = step;
  outcome_.failure_cpu = static_cast<int>(cpu);
  stop(Verdict::kViolation, v.to_string());
}

void Scheduler::on_point(uint32_t event, uint64_t address, uint64_t value) {
  const unsigned self = running_;
  if constexpr (kTsan) note_stop(event);
  ++step_;
  cpus_[self]->point_step = step_;
  trace_.add(step_, self, event, address, value);
  if (aborting_) [[unlikely]] {
    unwinding_point(event);
    return;
  }
  int current = static_cast<int>(self);
  if (priming_) [[unlikely]] {
    runnable_ |= cpu_bit(self);
    if (!priming_done(self)) {
      // Resumed by a decision (go on with the access), or to be unwound.
      if (aborting_) [[unlikely]] unwinding_point(event);
      return;
    }
    current = kNoCpu;
  }
  // An early end decided here unwinds this CPU from this point when it can
  // (unwinding_point()); otherwise the CPU runs on to its next one.
  if (violation_stops()) [[unlikely]] {
    stop(Verdict::kViolation, "");
    unwinding_point(event);
    return;
  }
  if (step_ > limits_.max_steps) [[unlikely]] {
    stop(Verdict::kStepBound, "step bound reached");
    unwinding_point(event);
    return;
  }
  Cpu& c = *cpus_[self];
  if (c.retrying) [[unlikely]] {
    // The retry after a block: it was chosen when the CPU was resumed, and
    // it is not progress (see the header) until a second point comes.
    if (!c.retry_point_used) {
      c.retry_point_used = true;
      return;
    }
    c.retrying = false;
  }
  if (waiting_ != 0) wake_all();
  if (!decide(current)) [[unlikely]] {
    stop(Verdict::kDiverged, diverged_message());
    unwinding_point(event);
  }
  // Resumed in an execution that ended meanwhile: unwind before the access.
  if (aborting_) [[unlikely]] unwinding_point(event);
}

void Scheduler::blocked(const SchedulePoint& p) {
  const unsigned self = running_;
  if constexpr (kTsan) note_stop(static_cast<uint32_t>(p.event));
  ++step_;
  trace_.add(step_, self, static_cast<uint32_t>(p.event) | kBlockedBit, p.address, 0);
  if (aborting_) [[unlikely]] {
    if (std::uncaught_exceptions() > 0) {
      // A destructor run by the unwinding waits for a lock: it can neither
      // switch nor throw. Nothing in the engine does this.
      std::fputs("hvo::sched: a destructor blocked while its execution was being aborted\n", stderr);
      std::abort();
    }
    throw ExecutionAborted{};
  }
  Cpu& c = *cpus_[self];
  runnable_ &= ~cpu_bit(self);
  waiting_ |= cpu_bit(self);
  c.retrying = false;
  int current = static_cast<int>(self);
  bool primed_and_resumed = false;
  if (priming_) [[unlikely]] {
    primed_and_resumed = !priming_done(self);
    current = kNoCpu;
  }
  if (!primed_and_resumed) {
    if (violation_stops()) abort_here(Verdict::kViolation, "");
    if (step_ > limits_.max_steps) abort_here(Verdict::kStepBound, "step bound reached");
    if (runnable_ == 0) {
      if (log_ != nullptr) {
        log_->record(make_violation(ViolationKind::kDeadlock, "deadlock: every CPU is blocked"));
        log_seen_ = log_->count();
      }
      abort_here(Verdict::kDeadlock, "deadlock: every CPU is blocked");
    }
    if (!decide(current)) abort_here(Verdict::kDiverged, diverged_message());
  }
  // Resumed: another CPU made progress and a strategy picked us, or the
  // execution ended meanwhile and main resumed us to unwind.
  if (aborting_) [[unlikely]] throw ExecutionAborted{};
  c.retrying = true;
  c.retry_point_used = false;
}

// Asks the strategy (only when there is a choice) and switches if it says
// so. `current` is the CPU that ran last (kNoCpu for the first decision):
// a choice other than it is recorded. False when the strategy cannot
// follow this execution (a replay that diverged): the caller ends it.
bool Scheduler::decide(int current) {
  const unsigned n = static_cast<unsigned>(bodies_.size());
  for (;;) {
    const CpuMask enabled = limits_.memory_model == MemoryModel::kSc ? runnable_ : runnable_ | drainable();
    int next;
    if ((enabled & (enabled - 1)) == 0) {
      next = std::countr_zero(enabled);  // forced: not a decision, not recorded
    } else {
      next = strategy_->pick(PickContext{step_, enabled, current});
      if (next < 0 || !contains(enabled, static_cast<unsigned>(next))) return false;
      if (next != current) decisions_.push_back(Decision{step_, static_cast<uint32_t>(next)});
    }
    if (static_cast<unsigned>(next) < n) {
      if (static_cast<unsigned>(next) != running_) switch_to(static_cast<unsigned>(next));
      return true;
    }
    if (!drain_choice(static_cast<unsigned>(next))) return false;  // then choose again
  }
}

std::string Scheduler::diverged_message() const {
  return "replay diverged at step " + std::to_string(step_) + ": the recorded choice is not runnable";
}

bool Scheduler::violation_stops() {
  if (log_ == nullptr) return false;
  const uint64_t n = log_->count();
  if (n == log_seen_) [[likely]]
    return false;
  log_seen_ = n;
  if (outcome_.failure_step == 0) {
    outcome_.failure_step = step_;
    outcome_.failure_cpu = running_ == kMain ? kNoCpu : static_cast<int>(running_);
  }
  return limits_.stop_on_violation;
}

// Marks the execution as ending early with verdict v (kPass: an error).
void Scheduler::stop(Verdict v, std::string message) {
  if (aborting_) return;
  aborting_ = true;
  outcome_.verdict = v;
  if (v != Verdict::kViolation || outcome_.failure_step == 0) {
    outcome_.failure_step = step_;
    outcome_.failure_cpu = running_ == kMain ? kNoCpu : static_cast<int>(running_);
  }
  if (v == Verdict::kViolation && message.empty() && log_ != nullptr) {
    const auto kept = log_->snapshot();
    if (!kept.empty()) message = kept.front().to_string();
  }
  outcome_.message = std::move(message);
}

void Scheduler::abort_here(Verdict v, std::string message) {
  stop(v, std::move(message));
  throw ExecutionAborted{};
}

// A schedule point while the execution is being aborted: unwind this CPU
// by throwing from here, unless that would terminate the program. Two cases
// return instead, and the CPU runs on to its next schedule point:
//   - an exception is already propagating (a destructor run by this very
//     unwinding makes the point);
//   - the point is a release (unlock, rcu_read_unlock): those are what lock
//     guards' destructors do, and a destructor is noexcept.
// So a CPU suspended at the unlock of a guard going out of scope finishes
// the unlock and is unwound at its next point; bodies must not make other
// schedule points from destructors (see the header).
void Scheduler::unwinding_point(uint32_t event) const {
  if (std::uncaught_exceptions() > 0) return;
  const auto e = static_cast<SchedEvent>(event & 0xff);
  if (e == SchedEvent::kLockRelease || e == SchedEvent::kRcuReadUnlock) return;
  throw ExecutionAborted{};
}

void Scheduler::prepare(size_t n) {
  HVO_CHECK(n >= 1 && n <= kMaxCpus, "a controlled execution needs 1 to 64 CPUs");
  while (cpus_.size() < n) cpus_.push_back(std::make_unique<Cpu>(static_cast<unsigned>(cpus_.size())));
  for (unsigned i = 0; i < n; ++i) {
    Cpu& c = *cpus_[i];
    reset_task(c.task, this);
    c.retrying = false;
    c.retry_point_used = false;
    c.tsan_sync_ignored = false;
    c.tsan_lock_annotation = false;
    if (!c.alive) {
      fibers_[i] = Fiber(std::allocator_arg, PooledStack(&c.stack),
                         [this, i](Fiber&& caller) { return worker(i, std::move(caller)); });
      c.tsan = tsan_create_fiber();
      c.alive = true;
    }
  }
}

// Forgets the TSan fibers of the workers that returned.
void Scheduler::reap() {
  for (auto& c : cpus_) {
    if (!c->alive && c->tsan != nullptr) {
      tsan_destroy_fiber(c->tsan);
      c->tsan = nullptr;
    }
  }
}

Outcome Scheduler::run(std::span<const std::function<void()>> cpus, Strategy& strategy, ViolationLog* log,
                       const Limits& limits) {
  HVO_CHECK(running_ == kMain && !priming_, "Scheduler::run is not reentrant");
  prepare(cpus.size());
  const unsigned n = static_cast<unsigned>(cpus.size());
  bodies_ = cpus;
  strategy_ = &strategy;
  log_ = log;
  limits_ = limits;
  step_ = 0;
  runnable_ = 0;
  waiting_ = 0;
  unfinished_ = n == kMaxCpus ? ~CpuMask{0} : cpu_bit(n) - 1;
  aborting_ = false;
  log_seen_ = log != nullptr ? log->count() : 0;
  trace_.reset();
  decisions_.clear();
  outcome_ = Outcome{};
  error_ = nullptr;
  main_task_ = hvo::detail::current_task;
  main_tsan_ = tsan_current_fiber();
  Scheduler* const outer = detail::active_scheduler;
  detail::active_scheduler = this;
  MemoryHook* const outer_hook = hvo::detail::memory_hook;
  HVO_CHECK(n * ids_per_cpu(limits.memory_model) <= kMaxCpus,
            "too many CPUs for the memory model's store-buffer choices (at most 32 under tso, 16 under weak)");
  // Under sc no store is ever buffered: the buffers stay empty, untouched.
  if (limits.memory_model != MemoryModel::kSc) {
    if (buffers_.size() < n) buffers_.resize(n);
    if (queues_.size() < n) queues_.resize(n);
    for (unsigned i = 0; i < n; ++i) {
      buffers_[i].clear();
      queues_[i].clear();
    }
  }
  if (limits.detect_races) {
    races_.begin(n);
    torn_.begin();
  }
  if (limits.detect_races || limits.memory_model != MemoryModel::kSc) hvo::detail::memory_hook = this;

  // Priming: CPU 0 runs up to its first stop and hands over to CPU 1, and
  // so on; the last one takes the first decision. Returns when every CPU
  // finished or the execution stopped.
  priming_ = true;
  switch_to(0);
  priming_ = false;
  // Unwind what an early end left behind, one CPU at a time.
  while (aborting_ && unfinished_ != 0) {
    switch_to(static_cast<unsigned>(std::countr_zero(unfinished_)));
  }
  reap();
  // What is still buffered reaches memory before the end check, in CPU
  // order (stores of different CPUs to one word: the last CPU's wins).
  if (limits.memory_model != MemoryModel::kSc)
    for (unsigned i = 0; i < n; ++i) buffers_[i].drain_all();

  if (!aborting_ && violation_stops()) stop(Verdict::kViolation, "");
  if (outcome_.verdict != Verdict::kDiverged && !strategy.complete() && !error_) {
    outcome_.verdict = Verdict::kDiverged;
    outcome_.failure_step = step_;
    outcome_.message = "replay diverged: recorded decisions were left unused";
  }
  hvo::detail::current_task = main_task_;
  detail::active_scheduler = outer;
  hvo::detail::memory_hook = outer_hook;
  outcome_.steps = step_;
  outcome_.trace_hash = trace_.value();
  bodies_ = {};
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return outcome_;
}

}  // namespace hvo::sched
