// SIGINT and SIGTERM during a campaign: the first one asks the campaign to
// stop at its next safe point (the free campaign's next round barrier, the
// controlled search's next execution), so that a finding being written is
// completed and the partial summary is printed; a second one ends the
// process at once (status 128 + signal), for a campaign that does not stop.
//
// The handler does no work: it stores the signal number in a lock-free
// atomic (async-signal-safe, and seen by the campaign's threads without a
// data race) or, on the second signal, calls _exit(). Everything else reads
// the flag.
#pragma once

namespace hvo::stress {

// Installs the handlers (sigaction) for its lifetime and clears the flag;
// the destructor restores the previous dispositions. One at a time.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

// The first signal received in the current InterruptScope (SIGINT,
// SIGTERM), or 0. Cheap: one relaxed atomic load.
[[nodiscard]] int interrupt_signal();
[[nodiscard]] inline bool interrupt_requested() { return interrupt_signal() != 0; }

// The exit status a shell reports for a process ended by `signal`: 128 + it
// (130 for SIGINT, 143 for SIGTERM).
[[nodiscard]] constexpr int interrupted_exit_status(int signal) { return 128 + signal; }

}  // namespace hvo::stress
