// The coverage sink: functions entered, error paths, interleaved pairs.
#include "engine/coverage.h"

#include <gtest/gtest.h>

#include "engine/task.h"

namespace hvo {
namespace {

constexpr const char* kA = "vmemmap_remap_free";
constexpr const char* kB = "kpageflags_read";
constexpr const char* kC = "memory_failure";

TEST(CoverageTest, CountsFunctionsErrorsAndInterleavedPairs) {
  CoverageSink s;
  s.begin_execution();
  s.enter(0, kA);
  s.enter(1, kB);  // while CPU 0 is in kA: the pair (kA, kB)
  s.leave(1, nullptr);
  s.enter(1, kC);  // (kA, kC)
  s.leave(1, nullptr);
  s.leave(0, nullptr);
  s.enter(1, kB);  // nobody else in a function: no pair
  s.error_path(error_path::kRestoreFailed);
  const CoverageReport r = s.report();
  EXPECT_EQ(r.functions.at(kA), 1u);
  EXPECT_EQ(r.functions.at(kB), 2u);
  EXPECT_EQ(r.errors.at(error_path::kRestoreFailed), 1u);
  ASSERT_EQ(r.pairs.size(), 2u);
  EXPECT_EQ(r.pairs.at({kB, kA}), 1u);  // stored in text order
  EXPECT_EQ(r.pairs.at({kC, kA}), 1u);
}

TEST(CoverageTest, NestedFunctionsRestoreTheOuterOne) {
  CoverageSink s;
  s.begin_execution();
  s.enter(0, kA);
  s.enter(0, kC);
  s.leave(0, kA);  // back in kA
  s.enter(1, kB);
  EXPECT_EQ(s.report().pairs.count({kB, kA}), 1u);
}

TEST(CoverageTest, NewItemsAreWhatASecondReportAdds) {
  CoverageSink a, b;
  a.enter(0, kA);
  b.enter(0, kA);
  b.enter(1, kB);
  b.error_path(error_path::kPoisonKept);
  CoverageReport seen = a.report();
  EXPECT_EQ(b.report().new_items(seen), 3u);  // kB, the pair, the error path
  seen += b.report();
  EXPECT_EQ(b.report().new_items(seen), 0u);
  EXPECT_EQ(seen.functions.at(kA), 2u);
}

TEST(CoverageTest, OperationScopeAndNoteErrorPathReachTheInstalledSink) {
  CoverageSink s;
  {
    const CoverageScope scope(&s);
    Task t{CpuId(2)};
    TaskScope ts(t);
    OperationScope op("vmemmap_split_pmd");
    note_error_path(error_path::kSplitFailed);
  }
  OperationScope outside("not counted");
  const CoverageReport r = s.report();
  EXPECT_EQ(r.functions.count("vmemmap_split_pmd"), 1u);
  EXPECT_EQ(r.functions.count("not counted"), 0u);
  EXPECT_EQ(r.errors.count(error_path::kSplitFailed), 1u);
}

}  // namespace
}  // namespace hvo
