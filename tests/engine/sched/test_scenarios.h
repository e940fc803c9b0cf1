// Small scenarios shared by the scheduler's tests.
#pragma once

#include <atomic>
#include <set>
#include <string>

#include "engine/locks/lockdep.h"
#include "engine/locks/spinlock.h"
#include "engine/sched/scenario.h"
#include "engine/sched/shared.h"
#include "engine/violation.h"

namespace hvo::sched::testing {

// `cpus` CPUs, each making `steps` stores to one shared variable and
// nothing else: every step is exactly one schedule point. When `orders` is
// given, the check adds the execution's interleaving ("aabb", ...) to it.
inline Scenario steps_scenario(unsigned cpus, unsigned steps, std::set<std::string>* orders = nullptr) {
  return Scenario{"steps", [=](Execution& e) {
                    struct State {
                      Shared<int> x{0};
                      std::string order;
                    };
                    auto& s = e.make<State>();
                    for (unsigned c = 0; c < cpus; ++c) {
                      e.cpu([&s, c, steps] {
                        for (unsigned i = 0; i < steps; ++i) {
                          s.x.store(static_cast<int>(c));
                          s.order += static_cast<char>('a' + c);
                        }
                      });
                    }
                    e.check([&s, orders] {
                      if (orders != nullptr) orders->insert(s.order);
                      return Verdict::kPass;
                    });
                  }};
}

// Message passing with the two stores in the wrong order: CPU 0 sets the
// flag before the data, so a reader scheduled between them sees the flag
// and stale data; it records a violation in the watched log (mid-run, so
// the failure has a step).
inline Scenario mp_wrong_order_scenario() {
  return Scenario{"mp-wrong-order",
                  [](Execution& e) {
                    struct State {
                      ViolationLog log;
                      Shared<int> data{0};
                      Shared<int> flag{0};
                    };
                    auto& s = e.make<State>();
                    e.watch(s.log);
                    e.cpu([&s] {
                      s.flag.store(1, std::memory_order_release);  // the bug: published too early
                      s.data.store(42, std::memory_order_relaxed);
                    });
                    e.cpu([&s] {
                      if (s.flag.load(std::memory_order_acquire) == 1 &&
                          s.data.load(std::memory_order_relaxed) != 42)
                        s.log.record(make_violation(ViolationKind::kBugOn, "reader saw the flag before the data"));
                      s.data.load(std::memory_order_relaxed);  // one more step, after the record
                    });
                  },
                  Verdict::kViolation};
}

}  // namespace hvo::sched::testing
