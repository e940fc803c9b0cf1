#include "stress/coverage.h"

#include <algorithm>

#include <fmt/format.h>

namespace hvo::stress {

namespace json = boost::json;

namespace {

// Error paths every model has: the hugepage allocation, the restore of an
// optimized folio's vmemmap (the folio stays in the pool), HVO walking back
// after -ENOMEM, and memory_failure() keeping a poison its dissolve could
// not complete.
constexpr std::string_view kHugepageAllocFailed = error_path::kHugepageAlloc;
constexpr std::string_view kRestoreFailed = error_path::kRestoreFailed;
constexpr std::string_view kPoisonKept = error_path::kPoisonKept;
constexpr std::string_view kSplitFailed = error_path::kSplitFailed;
constexpr std::string_view kTailFailed = error_path::kTailFailed;

}  // namespace

ModelCoverageExpectations coverage_expectations(std::string_view model) {
  ModelCoverageExpectations e;
  e.error_paths = {kHugepageAllocFailed, kRestoreFailed, kPoisonKept};
  // The walkers and speculative referencers against HVO and its restore.
  std::string_view optimize = "vmemmap_remap_free", restore = "vmemmap_remap_alloc";
  if (model == "v6.10" || model == "v7.1") {
    optimize = "__hugetlb_vmemmap_optimize_folio";
    restore = "__hugetlb_vmemmap_restore_folio";
  }
  // v17 maps the vmemmap with base pages: nothing to split, and its
  // remap allocates nothing, so neither can fail there. HVO's walk-back
  // (kRemapFreeFailed) needs a walk over several PMDs, so a 1 GiB page: it
  // is counted when taken but not expected of every campaign.
  if (model != "v17") e.error_paths.push_back(kSplitFailed);
  if (model == "v7.1") e.error_paths.push_back(kTailFailed);
  for (std::string_view other : {"kpageflags_read", "speculative_ref", "memory_failure"}) {
    e.racy_pairs.emplace_back(optimize, other);
    e.racy_pairs.emplace_back(restore, other);
  }
  e.racy_pairs.emplace_back(optimize, restore);
  return e;
}

std::vector<std::string> coverage_warnings(std::string_view model, const CoverageReport& r, bool pairs_recorded) {
  std::vector<std::string> w;
  const ModelCoverageExpectations e = coverage_expectations(model);
  for (std::string_view p : e.error_paths)
    if (r.errors.count(std::string(p)) == 0) w.push_back(fmt::format("error path never taken: {}", p));
  if (!pairs_recorded) return w;
  for (const auto& [a, b] : e.racy_pairs) {
    std::string x(a), y(b);
    if (y < x) std::swap(x, y);
    if (r.pairs.count({x, y}) == 0) w.push_back(fmt::format("racy pair never interleaved: {} / {}", a, b));
  }
  return w;
}

json::object to_json(const CoverageReport& r, const std::vector<std::string>& warnings) {
  json::object o;
  json::object fns, errs;
  for (const auto& [k, v] : r.functions) fns[k] = v;
  for (const auto& [k, v] : r.errors) errs[k] = v;
  json::array pairs;
  for (const auto& [k, v] : r.pairs) pairs.emplace_back(json::object{{"a", k.first}, {"b", k.second}, {"count", v}});
  json::array ws;
  for (const std::string& s : warnings) ws.emplace_back(s);
  o["functions"] = std::move(fns);
  o["error_paths"] = std::move(errs);
  o["interleaved_pairs"] = std::move(pairs);
  o["never_exercised"] = std::move(ws);
  return o;
}

void print_coverage(std::ostream& out, const CoverageReport& r, const std::vector<std::string>& warnings) {
  uint64_t taken = 0;
  for (const auto& [k, v] : r.errors) taken += v;
  out << fmt::format("coverage        {} kernel functions entered, {} error paths taken ({} times), {} pairs "
                     "interleaved (--json lists them)\n",
                     r.functions.size(), r.errors.size(), taken, r.pairs.size());
  for (const auto& [k, v] : r.errors) out << fmt::format("  error path    {} x {}\n", k, v);
  for (const std::string& s : warnings) out << "warning         " << s << "\n";
}

}  // namespace hvo::stress
