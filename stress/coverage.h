// What a campaign exercised of its model (engine/coverage.h's report), for
// the text summary and the JSON, and what it never did: each error path the
// model has and each pair of its functions that race by design (its "racy
// pairs": the interleavings the race catalogue's bugs live in) that a
// campaign ended with at zero is a warning, so that a clean campaign is not
// mistaken for one that looked everywhere.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "engine/coverage.h"

namespace hvo::stress {

// The error paths the model can take (named as note_error_path() names
// them) and its racy pairs (kernel function names as OperationScope names
// them), for the never-exercised warnings.
struct ModelCoverageExpectations {
  std::vector<std::string_view> error_paths;
  std::vector<std::pair<std::string_view, std::string_view>> racy_pairs;
};
[[nodiscard]] ModelCoverageExpectations coverage_expectations(std::string_view model);

// "never exercised: ..." lines, one per expected item at zero. Pairs are
// only looked for when `pairs_recorded` (controlled mode).
[[nodiscard]] std::vector<std::string> coverage_warnings(std::string_view model, const CoverageReport& r,
                                                         bool pairs_recorded);

[[nodiscard]] boost::json::object to_json(const CoverageReport& r, const std::vector<std::string>& warnings);
// The text summary's coverage lines (a few lines; the full table is in --json).
void print_coverage(std::ostream& out, const CoverageReport& r, const std::vector<std::string>& warnings);

}  // namespace hvo::stress
