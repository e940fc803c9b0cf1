// The controlled scheduler: every simulated CPU is a fiber on the calling
// OS thread, and at each schedule point the Strategy decides who runs next,
// so one (scenario, strategy, seed) names exactly one execution.
//
// Model. Each CPU stops *before* each shared access (hvo::sched_point). A
// decision chooses whose pending access executes next: the running CPU
// continues, or another runnable CPU takes over (a preemption when the
// running one could have continued). Before the first decision every CPU
// is run up to its first schedule point ("priming"): code before it is
// local by definition, so no choice is lost, and the first decision is
// between the CPUs' first accesses.
//
// Blocking. A lock that cannot be taken calls hvo::sched_blocked() in its
// retry loop (lock_word.h, rcu.cc). The CPU is then *waiting*: no strategy
// may pick it until another CPU makes progress (any schedule point outside
// a retry, or finishing), which may have released what it waits for. Its
// retry (the next schedule point after it is resumed, then the attempt) is
// not progress, so two CPUs that keep failing their retries do not wake
// each other: when every unfinished CPU is waiting, that is a deadlock,
// reported as Verdict::kDeadlock (and, when the scenario has a log, as a
// kDeadlock violation "deadlock: every CPU is blocked"). A CPU that blocks
// is never picked right back: the scheduler is livelock-free.
//
// Ending. An execution ends when every CPU finished, or early: a deadlock,
// the step bound (Limits::max_steps schedule points; steps, never time),
// a violation recorded in the scenario's log (with stop_on_violation), or a
// replay that diverged. Early, the unfinished CPUs are unwound by an
// ExecutionAborted exception thrown from their pending schedule point, so
// their destructors run (lock guards release), and their fibers are retired
// (with any lock annotation TSan had open for them closed); fibers of CPUs
// that finished are reused by the next execution: no allocation per
// execution or step.
//
// Limits of the fiber model (documented, not checked): a CPU body must not
// reach a schedule point inside a catch block (the C++ runtime's exception
// stack is per OS thread, not per fiber), must not catch ExecutionAborted
// without rethrowing, must not hold a host lock (HostMutex) across a
// schedule point, and its destructors may release locks (unlock,
// rcu_read_unlock: the guards) but make no other schedule point, since a
// destructor cannot be unwound by an exception. One Scheduler per OS thread
// at a time.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/sched/fiber.h"
#include "engine/sched/memory_access.h"
#include "engine/sched/memory_model.h"
#include "engine/sched/race_detector.h"
#include "engine/sched/store_buffer.h"
#include "engine/sched/torn_pte_detector.h"
#include "engine/sched/strategy.h"
#include "engine/sched/trace.h"
#include "engine/sched/verdict.h"
#include "engine/schedule_point.h"
#include "engine/task.h"

namespace hvo {
class ViolationLog;
struct Violation;
}

namespace hvo::sched {

// Thrown into a CPU's body to unwind it when its execution ends early. Not
// a std::exception, so `catch (const std::exception&)` lets it through.
struct ExecutionAborted {};

struct Limits {
  uint64_t max_steps = UINT64_MAX;  // schedule points per execution
  bool stop_on_violation = true;    // end the execution at the first recorded violation
  // Run the data-race detector (race_detector.h) over the execution's
  // simulated memory (PhysMem words, sched::Shared, lock words, fences,
  // TLB-flush IPIs). A race is a kDataRace violation in the watched log or,
  // without a log, the execution's verdict (kViolation).
  bool detect_races = true;
  // sc, tso or weak (memory_model.h). Under tso and weak each CPU's stores
  // go through a store buffer, and draining an entry is a choice offered to
  // the strategy at every decision, next to the CPUs (as the schedule ids
  // n + i, 2n + i for weak's out-of-order drain, and 3n + i for applying
  // an entry of weak's invalidation queue): recorded, replayed and counted
  // like any other choice. Needs n * ids_per_cpu(model) <= 64.
  MemoryModel memory_model = MemoryModel::kSc;
};

// How one execution ended, as far as the scheduler knows: kPass means every
// CPU finished (the scenario's end check still has to run).
struct Outcome {
  Verdict verdict = Verdict::kPass;
  uint64_t steps = 0;         // schedule points, blocks and finishes, all CPUs
  uint64_t trace_hash = 0;
  uint64_t failure_step = 0;  // the step at which a violation was first seen, or the execution stopped
  int failure_cpu = kNoCpu;
  std::string message;
};

class Scheduler final : public ScheduleHook, public MemoryHook {
 public:
  Scheduler();
  ~Scheduler() override;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs one execution: CPU i runs cpus[i] as hvo::current() = a Task with
  // cpu i whose hook is this scheduler. `log` (may be null) is the
  // scenario's violation log, watched at every step. Returns when the
  // execution ended; rethrows an exception that escaped a CPU body (other
  // than ExecutionAborted and lockdep's SelfDeadlock, which ends its CPU).
  Outcome run(std::span<const std::function<void()>> cpus, Strategy& strategy, ViolationLog* log,
              const Limits& limits);

  // The switches of the last execution: enough to replay it.
  [[nodiscard]] const DecisionRecord& decisions() const { return decisions_; }

  // ScheduleHook: called by hvo::sched_point() / sched_blocked() on a CPU.
  void point(const SchedulePoint& p) override;
  void blocked(const SchedulePoint& p) override;
  // A schedule point of a sched::Shared access: the same as point(), with
  // the access kind and memory order in the trace, then (once this CPU is
  // resumed, right before the access) the race detector's view of it.
  MemoryResult access(const MemoryAccess& a, void* host);

  // MemoryHook: PhysMem word accesses, lock words and fences of the running
  // CPU, for the race detector (installed only while detect_races).
  MemoryResult on_access(const MemoryAccess& a, void* host) override;
  void on_acquire(const void* sync) override;
  void on_release(const void* sync) override;
  void on_fence(std::memory_order mo) override;
  void visit_buffered(uint64_t begin, uint64_t end, const BufferedVisitor& visit) const override;

 private:
  struct Cpu;
  static constexpr unsigned kMain = kMaxCpus;  // the context run() was called on

  Fiber worker(unsigned i, Fiber&& caller);
  bool run_body(unsigned i);
  void finish(unsigned i);
  // The path of every schedule point (point(), access() -> on_point() ->
  // decide() -> switch_to()): forced inline into its callers, so that a
  // step pays for one call frame, not four (their prologues and register
  // spills cost as much as their bodies). Defined in scheduler.cc, the only
  // place they are used.
  [[gnu::always_inline]] inline void on_point(uint32_t event, uint64_t address, uint64_t value);
  [[gnu::always_inline]] [[nodiscard]] inline bool decide(int current);
  // on_access()'s body, inline into access() (a sched::Shared access).
  [[gnu::always_inline]] inline MemoryResult memory_access(const MemoryAccess& a, void* host);
  [[nodiscard]] bool priming_done(unsigned i);
  [[nodiscard]] std::string diverged_message() const;
  [[gnu::always_inline]] inline void switch_to(unsigned next);  // inline: see on_point()
  [[gnu::always_inline]] inline void land(Fiber&& caller);
  void note_stop(uint32_t event);
  Fiber& slot(unsigned who);
  void wake_all() {
    runnable_ |= waiting_;
    waiting_ = 0;
  }
  [[nodiscard]] bool violation_stops();
  void stop(Verdict v, std::string message);
  [[noreturn]] void abort_here(Verdict v, std::string message);
  void unwinding_point(uint32_t event) const;
  void prepare(size_t n);
  void reap();
  void report(const Race& race);
  void report(Violation v, unsigned cpu, uint64_t step);
  [[nodiscard]] bool detecting() const { return limits_.detect_races && running_ != kMain; }
  [[nodiscard]] bool buffering() const { return limits_.memory_model != MemoryModel::kSc && running_ != kMain; }
  [[nodiscard]] CpuMask drainable() const;
  [[nodiscard]] bool drain_choice(unsigned id);
  void drain_own();
  void flush_ordering();
  void drain_all(unsigned cpu);
  void published(unsigned cpu, uint64_t address, uint8_t size, uint64_t old);

  std::vector<std::unique_ptr<Cpu>> cpus_;
  std::span<const std::function<void()>> bodies_;
  Strategy* strategy_ = nullptr;
  ViolationLog* log_ = nullptr;
  Limits limits_;

  // The execution's state.
  uint64_t step_ = 0;
  CpuMask runnable_ = 0;     // may be picked
  CpuMask waiting_ = 0;      // blocked until another CPU makes progress
  CpuMask unfinished_ = 0;
  bool priming_ = false;
  bool aborting_ = false;
  bool shutdown_ = false;
  uint64_t log_seen_ = 0;    // violations already accounted for
  TraceHash trace_;
  RaceDetector races_;
  TornPteDetector torn_;             // with detect_races: kTornPte
  std::vector<TornRead> torn_found_;  // scratch, reused
  std::vector<StoreBuffer> buffers_;  // per CPU, under tso and weak
  std::vector<InvalidationQueue> queues_;  // per CPU, under weak: its stale view
  DecisionRecord decisions_;
  Outcome outcome_;
  std::exception_ptr error_;

  // The switch protocol: who runs, who switched to it.
  unsigned running_ = kMain;
  unsigned from_ = kMain;
  // The suspended contexts: CPU i's at i, main's (run()'s caller) at
  // kMain; empty while that context runs or a CPU has no fiber. One array,
  // so that a switch finds its target without a branch on kMain.
  std::array<Fiber, kMaxCpus + 1> fibers_;
  void* main_tsan_ = nullptr;
  Task* main_task_ = nullptr;
  // ASan builds: main's stack (learnt at the first switch) and fake stack.
  const void* main_stack_bottom_ = nullptr;
  std::size_t main_stack_size_ = 0;
  void* main_asan_fake_stack_ = nullptr;
};

namespace detail {
// The scheduler running an execution on this thread, for sched::Shared.
inline thread_local Scheduler* active_scheduler = nullptr;
}  // namespace detail

}  // namespace hvo::sched
