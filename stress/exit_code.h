// The process exit codes of hvo-stress, named once (docs/architecture.md, CLI
// contract). Scripts and CI branch on these numbers, so they never change.
#pragma once

namespace hvo::cli {

enum class ExitCode : int {
  kOk = 0,         // ran, no violation found
  kViolation = 1,  // ran, the simulated kernel broke an invariant
  kUsage = 2,      // bad command line or input; nothing was run
  kInternal = 3,   // hvo-stress itself failed (InternalError or another exception)
  // A campaign stopped by a signal (stress/interrupt.h) after printing its
  // partial summary: 128 + the signal, as a shell reports a process the
  // signal killed, so that scripts treat both alike.
  kInterruptedInt = 130,   // SIGINT
  kInterruptedTerm = 143,  // SIGTERM
};

[[nodiscard]] constexpr int to_int(ExitCode c) { return static_cast<int>(c); }

// kInterruptedInt or kInterruptedTerm for the signal that stopped the
// campaign (stress/interrupt.h).
[[nodiscard]] ExitCode interrupted_exit_code();

}  // namespace hvo::cli
