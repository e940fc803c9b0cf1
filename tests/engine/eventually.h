// A bounded wait for the engine's threaded tests (locks, RCU): polls a
// condition another thread makes true.
#pragma once

#include <chrono>
#include <thread>

namespace hvo::testing {

// Waits (bounded) for `pred` to hold. The bound only turns a hang into a
// failure; it is never what a test proves.
template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace hvo::testing
