// The --json forms of hvo-stress's output, built with Boost.JSON. Each
// command prints exactly one JSON object on one line of stdout, so scripts
// can read it with a single parse.
#pragma once

#include <boost/json.hpp>
#include <ostream>

namespace hvo {
struct MachineSummary;  // engine/machine.h; only describe needs the machine
}  // namespace hvo

namespace hvo::cli {

// `describe --json`. Addresses are hex strings: vmemmap addresses exceed
// 2^53 and would lose bits in JSON readers that use doubles (jq, JavaScript).
[[nodiscard]] boost::json::object to_json(const MachineSummary& s);

// `list invariants --json`: {"invariants": [{"name", "description"}, ...]}.
[[nodiscard]] boost::json::object invariants_json();

// `list violations --json`: {"violations": [{"kind", "invariant"}, ...]}.
[[nodiscard]] boost::json::object violation_kinds_json();

// Serializes `v` on one line followed by a newline.
void print_json(std::ostream& out, const boost::json::value& v);

}  // namespace hvo::cli
