// struct hstate's resize_lock under the controlled scheduler: two writes to
// nr_hugepages never prepare folios at once, while a fault's surplus
// allocation (alloc_surplus_hugetlb_folio(), no resize_lock) does run its
// preparation beside a resize's, which is how the catalogue's concurrent
// first HVOs happen (and how this test shows its probe can see an overlap).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/sched/scenario.h"
#include "engine/schedule_point.h"
#include "engine/task.h"
#include "tests/engine/no_hvo_ops.h"
#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

// No HVO; counts preparations in flight, with a schedule point in the
// middle of each so that another CPU can run there.
class OverlapProbeOps final : public HugetlbVmemmapOps {
 public:
  // Counts the preparations in flight across a schedule point, then does
  // what the generation without HVO does.
  bool prep_new_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    const int now = in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
    max_in_flight_.store(std::max(max_in_flight_.load(std::memory_order_relaxed), now), std::memory_order_relaxed);
    sched_point(SchedEvent::kAtomic);
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return no_hvo_.prep_new_hugetlb_folio(pool, head);
  }
  bool update_and_free_hugetlb_folio(HugetlbPool& pool, Pfn head) override {
    return no_hvo_.update_and_free_hugetlb_folio(pool, head);
  }
  [[nodiscard]] int max_in_flight() const { return max_in_flight_.load(std::memory_order_relaxed); }

 private:
  testing::NoHvoOps no_hvo_;
  std::atomic<int> in_flight_{0}, max_in_flight_{0};
};

struct PoolState {
  PoolState() : machine(testing::small_config()), pool(machine, kHstate2M, ops) {}
  Machine machine;
  OverlapProbeOps ops;
  HugetlbPool pool;
};

enum class SecondCpu { kResizes, kFaultsSurplus };

// CPU 0 writes nr_hugepages = 2; CPU 1 writes 3, or faults a hugepage with
// nr_overcommit_hugepages = 1. Executions in which two preparations
// overlapped are counted in `overlaps`; the verdict is a violation when
// lockdep or a checker recorded anything or the counters are off.
sched::Scenario two_cpus(SecondCpu second, std::atomic<unsigned>& overlaps) {
  return sched::Scenario{"resize-lock", [second, &overlaps](sched::Execution& e) {
                           auto& s = e.make<PoolState>();
                           e.watch(s.machine.violations());
                           s.pool.set_nr_overcommit_huge_pages(1);
                           e.cpu([&s] { (void)s.pool.set_max_huge_pages(2); });
                           e.cpu([&s, second] {
                             if (second == SecondCpu::kResizes)
                               (void)s.pool.set_max_huge_pages(3);
                             else
                               (void)s.pool.alloc_hugetlb_folio();
                           });
                           e.check([&s, &overlaps] {
                             if (s.ops.max_in_flight() > 1) overlaps.fetch_add(1, std::memory_order_relaxed);
                             return s.pool.check_counters() ? sched::Verdict::kPass : sched::Verdict::kViolation;
                           });
                         }};
}

TEST(HugetlbPoolResizeLock, TwoWritesToNrHugepagesNeverPrepareFoliosAtOnce) {
  for (sched::StrategyKind k : {sched::StrategyKind::kRandom, sched::StrategyKind::kPct}) {
    std::atomic<unsigned> overlaps{0};
    const sched::Report r = sched::explore(two_cpus(SecondCpu::kResizes, overlaps), {.strategy = k, .executions = 300});
    EXPECT_EQ(r.count(sched::Verdict::kPass), 300u)
        << sched::to_string(k) << ": " << (r.first_failure ? r.first_failure->message : "");
    EXPECT_EQ(overlaps.load(), 0u) << sched::to_string(k);
  }
}

// The probe sees an overlap where one can happen: a fault's surplus folio
// is prepared without resize_lock, beside the resize's.
TEST(HugetlbPoolResizeLock, AFaultsSurplusAllocationPreparesBesideAResize) {
  std::atomic<unsigned> overlaps{0};
  const sched::Report r = sched::explore(two_cpus(SecondCpu::kFaultsSurplus, overlaps),
                                         {.strategy = sched::StrategyKind::kRandom, .executions = 300});
  EXPECT_EQ(r.count(sched::Verdict::kPass), 300u) << (r.first_failure ? r.first_failure->message : "");
  EXPECT_GT(overlaps.load(), 0u);
}

}  // namespace
}  // namespace hvo
