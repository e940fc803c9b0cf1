// How one controlled execution ended: a closed set (relacy's test_result).
#pragma once

#include <cstdint>
#include <string_view>

namespace hvo::sched {

enum class Verdict : uint8_t {
  kPass,       // every CPU finished and the scenario's check passed
  kViolation,  // a Violation was recorded or the check failed
  kDeadlock,   // every unfinished CPU was blocked
  kStepBound,  // the execution reached Options::max_steps (not a finding)
  kDiverged,   // a replay's recorded choice was not runnable: not the same execution
};
inline constexpr int kNumVerdicts = static_cast<int>(Verdict::kDiverged) + 1;

constexpr std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kViolation: return "violation";
    case Verdict::kDeadlock: return "deadlock";
    case Verdict::kStepBound: return "step-bound";
    case Verdict::kDiverged: return "diverged";
  }
  return "?";
}

// A finding: what a search is looking for. A step bound is not one (the
// execution was merely long), nor is a pass.
constexpr bool is_failure(Verdict v) {
  return v == Verdict::kViolation || v == Verdict::kDeadlock || v == Verdict::kDiverged;
}

}  // namespace hvo::sched
