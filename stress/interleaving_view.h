// What the CPUs of one controlled execution did just before it failed, and
// its picture: the last steps side by side, one column per CPU.
//
// The scheduler keeps no history (it hashes each step and forgets it), so
// each CPU body installs a RecordingHook in front of the scheduler's hook:
// it notes every schedule point, block and finish in a ring buffer, in the
// order the scheduler numbers them (only one CPU runs at a time), then
// hands over. Step numbers are the scheduler's as long as every step goes
// through the task's hook; StepRing::steps() lets the caller check that
// against the execution's step count.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schedule_point.h"

namespace hvo::stress {

struct StepRecord {
  uint64_t step = 0;
  unsigned cpu = 0;
  enum class Kind : uint8_t { kPoint, kBlocked, kFinish } kind = Kind::kPoint;
  SchedEvent event = SchedEvent::kAtomic;
  uint64_t address = 0;
  uint64_t value = 0;
  std::string_view operation;  // the task's innermost operation (a static string)
  // The operations under way, outermost first (Task::operations): the
  // kernel call stack of the step, as far as the models name it.
  std::array<std::string_view, 8> stack{};
  uint8_t depth = 0;
};

// Where a RecordingHook puts the steps: the ring below (the last steps, for
// the text view) or the report's full log (step_log.h).
class StepSink {
 public:
  virtual ~StepSink() = default;
  virtual void clear() = 0;
  virtual void add(StepRecord r) = 0;
};

class StepRing final : public StepSink {
 public:
  static constexpr size_t kCapacity = 256;

  void clear() override { steps_ = 0; }
  void add(StepRecord r) override {
    r.step = ++steps_;
    ring_[(r.step - 1) % kCapacity] = r;
  }
  [[nodiscard]] uint64_t steps() const { return steps_; }
  // The records kept with step <= last, oldest first, at most `count`.
  [[nodiscard]] std::vector<StepRecord> before(uint64_t last, size_t count) const;

 private:
  std::array<StepRecord, kCapacity> ring_{};
  uint64_t steps_ = 0;
};

// Installed on the current task for the scope's lifetime: records into
// `ring`, then forwards to the hook it replaced (the scheduler).
class RecordingHook final : public ScheduleHook {
 public:
  RecordingHook(StepSink& ring, unsigned cpu);
  ~RecordingHook() override;
  RecordingHook(const RecordingHook&) = delete;
  RecordingHook& operator=(const RecordingHook&) = delete;

  void point(const SchedulePoint& p) override;
  void blocked(const SchedulePoint& p) override;
  // The CPU's body returned: the scheduler counts that as a step too.
  void finished();

 private:
  StepSink& ring_;
  unsigned cpu_;
  ScheduleHook* inner_;
};

// Where the violation happened, when the violation names it: the last step
// of that CPU at that address before the failure step is its access (the
// scheduler sees the violation only at the next step).
struct ViolationSite {
  unsigned cpu = 0;
  uint64_t address = 0;
};

// The step of the violating access among the kept ones, or 0.
[[nodiscard]] uint64_t violating_step(const StepRing& ring, uint64_t failure_step, const ViolationSite& site);

// The interleaving as text: the last `count` steps up to `failure_step`,
// one column per CPU, the failure step marked with '>' and the violating
// access (when `site` names one that is kept) with '*'.
[[nodiscard]] std::string render_interleaving(const StepRing& ring, unsigned nr_cpus, uint64_t failure_step,
                                              const std::optional<ViolationSite>& site = std::nullopt,
                                              size_t count = 20);

}  // namespace hvo::stress
