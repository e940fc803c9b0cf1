// What the HTML report shows of one controlled execution, worked out from
// its full step log: the steps (compact, with their interned call stacks),
// the steps the violation names (highlighted and joined), and the history
// of the page-table entries, TLB entries and struct pages it involves, as
// far as the recorded steps tell it.
//
// What a step can tell: a PTE store carries the value written (the frame
// and RO/RW); a PTE load, the entry's physical address only; a TLB fill,
// the virtual address whose walk follows it (the walk's PTE loads come
// next on that CPU); a flush, its range. Entries written before the CPUs
// started (boot, the initial pool) have no recorded store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "engine/violation.h"
#include "stress/step_log.h"

namespace hvo::stress {

// A highlighted step: what the violation names it ("the racing write",
// "TLB fill", ...). `role` is a short class name for the page.
struct MarkedStep {
  uint64_t step = 0;
  std::string role;   // access, race, fill, flush, free, pte-store, seen
  std::string label;  // one line for a kernel developer
};

// The two accesses of a data race as the detector's message names them
// ("... by CPU 1 at step 812 and ... by CPU 0 at step 900 ..."): cpu and
// step of each, earlier first. Empty when the message does not parse.
struct RaceAccess {
  unsigned cpu = 0;
  uint64_t step = 0;
};
[[nodiscard]] std::vector<RaceAccess> race_accesses(const std::string& message);

// The steps to highlight, in step order. `v` is the replayed violation
// (absent for a deadlock or a step bound: then only the failure step).
[[nodiscard]] std::vector<MarkedStep> marked_steps(const StepLog& log, const std::optional<Violation>& v,
                                                   uint64_t failure_step);

// Everything the page's script draws, as one JSON object (report_html.cc
// documents its fields where it reads them).
[[nodiscard]] boost::json::object trace_json(const StepLog& log, unsigned nr_cpus,
                                             const std::optional<Violation>& v, uint64_t failure_step,
                                             const std::vector<std::pair<uint64_t, uint32_t>>& decisions);

}  // namespace hvo::stress
