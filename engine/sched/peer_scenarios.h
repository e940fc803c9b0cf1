// The classic litmus scenarios other checkers publish figures for (Relacy's
// test suite, CDSChecker's benchmarks), written with the scenario API: the
// benchmark compares executions per second with those peers and the tests
// check they pass on every schedule.
#pragma once

#include "engine/sched/scenario.h"

namespace hvo::sched {

// mp2: message passing. CPU 0 writes data (relaxed) then a flag (release);
// CPU 1 reads the flag (acquire) and, when it is set, the data, which must
// be the one written. Passes on every execution.
Scenario mp2_scenario();

// cas4: 4 CPUs each add 1 to one counter 3 times with a CAS loop
// (load relaxed, compare_exchange_weak acq_rel); the counter ends at 12.
Scenario cas4_scenario();

}  // namespace hvo::sched
