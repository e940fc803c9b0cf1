// Every step of one controlled execution, for the HTML report
// (report_trace.h): what the StepRing keeps of the last 256 steps, kept for
// the whole execution up to a cap.
//
// The cap, kMaxSteps = 200,000, is run --max-steps' default: an execution
// that was not cut fits whole. A longer one keeps its *last* kMaxSteps
// steps (the violation is at the end) and says how many were dropped. A
// record is about 200 bytes, so the log stays under 40 MiB.
#pragma once

#include <cstdint>
#include <deque>

#include "stress/interleaving_view.h"

namespace hvo::stress {

class StepLog final : public StepSink {
 public:
  static constexpr size_t kMaxSteps = 200'000;

  explicit StepLog(size_t cap = kMaxSteps) : cap_(cap) {}

  void clear() override {
    records_.clear();
    steps_ = 0;
  }
  void add(StepRecord r) override {
    r.step = ++steps_;
    if (records_.size() == cap_) records_.pop_front();
    records_.push_back(r);
  }

  // Every step recorded, the dropped ones included.
  [[nodiscard]] uint64_t steps() const { return steps_; }
  // The steps not kept: those before records().front().
  [[nodiscard]] uint64_t dropped() const { return steps_ - records_.size(); }
  // The kept steps, oldest first; their `step` numbers are consecutive.
  [[nodiscard]] const std::deque<StepRecord>& records() const { return records_; }
  [[nodiscard]] size_t cap() const { return cap_; }

 private:
  size_t cap_;
  std::deque<StepRecord> records_;
  uint64_t steps_ = 0;
};

}  // namespace hvo::stress
