#include "stress/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "stress/exit_code.h"

namespace hvo::stress {

namespace {

std::atomic<int> g_signal{0};
// Lock-free, or the handler's store would not be async-signal-safe.
static_assert(std::atomic<int>::is_always_lock_free);

struct sigaction g_old_int {};
struct sigaction g_old_term {};

extern "C" void on_interrupt(int sig) {
  int expected = 0;
  // relaxed: the flag carries no data; readers only need to see it soon.
  if (!g_signal.compare_exchange_strong(expected, sig, std::memory_order_relaxed)) _exit(128 + sig);
}

}  // namespace

InterruptScope::InterruptScope() {
  g_signal.store(0, std::memory_order_relaxed);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a write() of a finding interrupted by the signal goes on
  // rather than failing with EINTR.
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

}  // namespace hvo::stress

namespace hvo::cli {

ExitCode interrupted_exit_code() {
  return stress::interrupt_signal() == SIGTERM ? ExitCode::kInterruptedTerm : ExitCode::kInterruptedInt;
}

}  // namespace hvo::cli
