// Coverage of the modelled kernel code: which kernel functions ran (every
// OperationScope names one), which error paths were taken
// (note_error_path()), and which pairs of functions ran interleaved on two
// CPUs (one entered while the other was under way on another CPU), with
// counts: what a campaign exercised, and so what it never did.
//
// Cheap by construction: a sink is a fixed table keyed by the name's
// pointer (every name is a string literal, so its address identifies it
// within a translation unit; the report merges equal texts), counters in
// arrays indexed by the slot, and for pairs each CPU's innermost slot. No
// string work and no allocation on the hot path; the report builds strings.
//
// One sink per OS thread (detail::coverage_sink, installed by a campaign for
// its executions): controlled mode runs all the simulated CPUs of an
// execution on one thread, so the sink sees every CPU and records pairs;
// a free-mode thread sees only its own CPU, so free mode records functions
// and error paths, not pairs. Not thread-safe; merged after the threads end.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hvo {

struct CoverageReport {
  std::map<std::string, uint64_t> functions;  // kernel function -> times entered
  std::map<std::string, uint64_t> errors;     // error path -> times taken
  std::map<std::pair<std::string, std::string>, uint64_t> pairs;  // (a <= b) -> times interleaved
  CoverageReport& operator+=(const CoverageReport& o);
  // Items (functions, error paths, pairs) present here and not in `seen`.
  [[nodiscard]] uint64_t new_items(const CoverageReport& seen) const;
  [[nodiscard]] uint64_t items() const { return functions.size() + errors.size() + pairs.size(); }
};

class CoverageSink {
 public:
  static constexpr unsigned kMaxNames = 96;
  static constexpr unsigned kMaxCpus = 64;

  CoverageSink();
  // An execution begins: no CPU is in any function.
  void begin_execution() { current_.fill(kNone); }
  // `cpu` entered the function `name`; `prev` is the one it was in (or
  // null), restored by leave().
  void enter(unsigned cpu, const char* name);
  void leave(unsigned cpu, const char* prev);
  void error_path(const char* what);
  [[nodiscard]] CoverageReport report() const;

 private:
  static constexpr int16_t kNone = -1;
  // The slot of `name`, claimed on first sight; kNone when the table is full.
  int16_t slot(const char* name);

  std::array<const char*, kMaxNames> names_{};
  std::array<uint64_t, kMaxNames> entered_{};
  std::array<uint64_t, kMaxNames> taken_{};
  std::vector<uint32_t> pairs_;  // kMaxNames x kMaxNames, [min][max]
  std::array<int16_t, kMaxCpus> current_{};
};

namespace detail {
// The sink of the calling OS thread, or null (no coverage is kept).
inline thread_local CoverageSink* coverage_sink = nullptr;
}  // namespace detail

// Installs a sink on the calling thread for the scope's lifetime.
class CoverageScope {
 public:
  explicit CoverageScope(CoverageSink* sink) : prev_(detail::coverage_sink) { detail::coverage_sink = sink; }
  ~CoverageScope() { detail::coverage_sink = prev_; }
  CoverageScope(const CoverageScope&) = delete;
  CoverageScope& operator=(const CoverageScope&) = delete;

 private:
  CoverageSink* prev_;
};

// The error paths the models take, by name: inline, so one address each.
namespace error_path {
inline constexpr const char* kHugepageAlloc = "alloc_fresh_hugetlb_folio: -ENOMEM";
inline constexpr const char* kRestoreFailed = "update_and_free_hugetlb_folio: vmemmap restore -ENOMEM, folio kept";
inline constexpr const char* kRemapFreeFailed = "vmemmap_remap_free: -ENOMEM, walked back";
inline constexpr const char* kPoisonKept = "memory_failure: dissolve failed, poison kept";
inline constexpr const char* kSplitFailed = "vmemmap_split_pmd: pte_alloc_one_kernel -ENOMEM";
inline constexpr const char* kTailFailed = "vmemmap_get_tail: alloc_pages -ENOMEM";
}  // namespace error_path

// The modelled kernel took the error path `what` (a string literal, named
// as the kernel's function and its error: "vmemmap_remap_alloc: -ENOMEM").
inline void note_error_path(const char* what) {
  if (CoverageSink* s = detail::coverage_sink) s->error_path(what);
}

}  // namespace hvo
