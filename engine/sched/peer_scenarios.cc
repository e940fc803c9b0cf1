#include "engine/sched/peer_scenarios.h"

#include <atomic>

#include "engine/sched/shared.h"

namespace hvo::sched {

Scenario mp2_scenario() {
  return Scenario{"mp2", [](Execution& e) {
                    struct State {
                      Shared<int> data{0};
                      Shared<int> flag{0};
                      bool stale = false;  // CPU 1 saw the flag but not the data
                    };
                    State& s = e.make<State>();
                    e.cpu([&s] {
                      // relaxed: the release store below publishes it.
                      s.data.store(42, std::memory_order_relaxed);
                      // release: orders the data store before the flag (pairs with the acquire).
                      s.flag.store(1, std::memory_order_release);
                    });
                    e.cpu([&s] {
                      // acquire: what was written before the flag's release is visible after.
                      if (s.flag.load(std::memory_order_acquire) == 1) {
                        // relaxed: ordered by the acquire above.
                        if (s.data.load(std::memory_order_relaxed) != 42) s.stale = true;
                      }
                    });
                    e.check([&s] { return s.stale ? Verdict::kViolation : Verdict::kPass; });
                  }};
}

Scenario cas4_scenario() {
  return Scenario{"cas4", [](Execution& e) {
                    struct State {
                      Shared<int> counter{0};
                    };
                    State& s = e.make<State>();
                    for (int cpu = 0; cpu < 4; ++cpu) {
                      e.cpu([&s] {
                        for (int i = 0; i < 3; ++i) {
                          // relaxed: only a guess for the CAS, which re-reads on failure.
                          int v = s.counter.load(std::memory_order_relaxed);
                          // acq_rel: a counter other code may use as a ticket; relaxed
                          // on failure, nothing was published.
                          while (!s.counter.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel,
                                                                  std::memory_order_relaxed)) {
                          }
                        }
                      });
                    }
                    e.check([&s] { return s.counter.peek() == 12 ? Verdict::kPass : Verdict::kViolation; });
                  }};
}

}  // namespace hvo::sched
