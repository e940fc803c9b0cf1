// The narrow interface through which the controlled scheduler's side decides
// whether one allocation fails (engine/sched/alloc_choice.h), installed on the
// machine's AllocFailureInjector for the length of an execution.
//
// The injector asks it only about allocations that may fail in the kernel
// (should_fail_alloc_page()'s filter: not __GFP_NOFAIL, at or above the
// configured min order), so every call is one decision point.
#pragma once

#include "engine/gfp.h"
#include "engine/types.h"

namespace hvo {

class AllocDecider {
 public:
  virtual ~AllocDecider() = default;
  // True: fail this allocation. Called once per eligible allocation, in the
  // order the execution makes them (one OS thread in controlled mode).
  [[nodiscard]] virtual bool fail(Gfp gfp, Order order) = 0;
};

}  // namespace hvo
