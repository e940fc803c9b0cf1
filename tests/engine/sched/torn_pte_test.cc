// Torn `plain` PTE reads in controlled mode (engine/sched/torn_pte_detector.h):
// a PTE rewritten in two halves is seen half old, half new by the hardware
// walk of another CPU or by a software reader of the two halves; never
// under `once`, and never when the new value differs in one half only.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/machine.h"
#include "engine/sched/scenario.h"
#include "engine/sched/torn_pte_detector.h"
#include "engine/violation.h"

namespace hvo::sched {
namespace {

enum class Reader { kHardwareWalk, kSoftwarePlain };

// CPU 0 rewrites the PTE mapping pfn 5000's struct page with `flip` toggled
// (bits that keep it present and pointing to the same frame); CPU 1 reads
// it. `torn` counts the executions whose log got a kTornPte.
Scenario rewrite_vs_read(PteAccess policy, uint64_t flip, Reader reader, uint64_t* torn) {
  return Scenario{"torn-pte", [=](Execution& e) {
                    MachineConfig config;
                    config.memory_bytes = MachineConfig::kMinMemory;
                    config.nr_cpus = 2;
                    config.pte_access = policy;
                    auto& m = e.make<Machine>(config);
                    e.watch(m.violations());
                    const SoftWalk w = m.page_tables().walk(pfn_to_page(Pfn(5000)));
                    e.cpu([&m, w, policy, flip] {
                      m.page_tables().write_entry(w.entry, PteValue(w.value.value() ^ flip), policy);
                    });
                    e.cpu([&m, w, policy, reader] {
                      if (reader == Reader::kHardwareWalk) {
                        (void)m.pages().load(Pfn(5000), PageWord::kFlags);
                      } else {
                        (void)m.page_tables().read_entry(w.entry, policy);
                      }
                    });
                    e.check([&m, torn] {
                      if (m.violations().count(ViolationKind::kTornPte) > 0) ++*torn;
                      return Verdict::kPass;
                    });
                  }};
}

// The NX bit (63) and the accessed bit (5): one in each half.
constexpr uint64_t kBothHalves = (uint64_t{1} << 63) | (uint64_t{1} << 5);
constexpr uint64_t kLowHalfOnly = uint64_t{1} << 5;
constexpr uint64_t kExecutions = 300;

uint64_t torn_executions(PteAccess policy, uint64_t flip, Reader reader) {
  uint64_t torn = 0;
  // Past the data race (reported first): the execution goes on to the tear.
  const Report r = explore(rewrite_vs_read(policy, flip, reader, &torn),
                           Options{.strategy = StrategyKind::kRandom, .executions = kExecutions,
                                   .stop_on_violation = false});
  EXPECT_EQ(r.executions, kExecutions);
  return torn;
}

TEST(TornPteTest, TheHardwareWalkSeesAPlainPteHalfWritten) {
  EXPECT_GT(torn_executions(PteAccess::kPlainTorn, kBothHalves, Reader::kHardwareWalk), 0u);
}

TEST(TornPteTest, ASoftwareReaderOfTheHalvesSeesThemFromTwoValues) {
  EXPECT_GT(torn_executions(PteAccess::kPlainTorn, kBothHalves, Reader::kSoftwarePlain), 0u);
}

TEST(TornPteTest, NeverUnderOnceNorWhenOneHalfChanges) {
  for (const Reader reader : {Reader::kHardwareWalk, Reader::kSoftwarePlain}) {
    EXPECT_EQ(torn_executions(PteAccess::kOnce, kBothHalves, reader), 0u);
    EXPECT_EQ(torn_executions(PteAccess::kPlainTorn, kLowHalfOnly, reader), 0u);
  }
}

TEST(TornPteTest, TheDetectorAlone) {
  TornPteDetector d;
  d.begin();
  uint64_t mem = 0x1111111122222222;
  std::vector<TornRead> out;
  auto half = [&](AccessKind k, unsigned h, uint32_t v) {
    return MemoryAccess{k, std::memory_order_relaxed, std::memory_order_relaxed, 4, 0x1000 + 4 * h, v};
  };
  const MemoryAccess whole{AccessKind::kLoad, std::memory_order_relaxed, std::memory_order_relaxed, 8, 0x1000, 0};
  // CPU 0 writes 0x3333333344444444 low half first; CPU 1 reads the whole word in between.
  d.access(0, 1, half(AccessKind::kPlainStore, 0, 0x44444444), &mem, out);
  mem = 0x1111111144444444;
  d.access(1, 2, whole, &mem, out);
  d.access(0, 3, half(AccessKind::kPlainStore, 1, 0x33333333), reinterpret_cast<char*>(&mem) + 4, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].reader, 1u);
  EXPECT_EQ(out[0].reader_step, 2u);
  EXPECT_EQ(out[0].writer, 0u);
  EXPECT_EQ(out[0].seen, 0x1111111144444444u);
  EXPECT_EQ(out[0].before, 0x1111111122222222u);
  EXPECT_EQ(out[0].after, 0x3333333344444444u);
  EXPECT_NE(out[0].describe().find("torn PTE read of 0x1000: CPU 1 at step 2 saw 0x1111111144444444"),
            std::string::npos)
      << out[0].describe();
}

}  // namespace
}  // namespace hvo::sched
