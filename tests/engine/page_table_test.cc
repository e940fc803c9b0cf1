#include "engine/page_table.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::InjectAtPoint;
using testing::small_config;

TEST(PageTables, BasePagePopulationMapsEveryStructPageOnDistinctWritableFrames) {
  Machine m(small_config(VmemmapMapping::kBasePages));
  const uint64_t nr_vmemmap_pages = m.mem().nr_frames() * kStructPageSize / kPageSize;
  std::set<uint64_t> frames;
  for (uint64_t i = 0; i < nr_vmemmap_pages; ++i) {
    const SoftWalk w = m.page_tables().walk(pfn_to_page(Pfn(i * kStructPagesPerPage)));
    ASSERT_TRUE(w.present) << i;
    EXPECT_EQ(w.level, SoftWalk::Level::kPte);
    EXPECT_TRUE(w.writable);
    EXPECT_FALSE(w.pmd_leaf);
    EXPECT_EQ(m.mem().state(w.frame), FrameState::kVmemmap);
    frames.insert(w.frame.value());
  }
  EXPECT_EQ(frames.size(), nr_vmemmap_pages);
  // Past the end of memory nothing is mapped.
  EXPECT_FALSE(m.page_tables().walk(pfn_to_page(m.mem().end_pfn()) + kPmdSize).present);
}

TEST(PageTables, PmdLeafPopulationMaps2MiBBlocks) {
  Machine m(small_config(VmemmapMapping::kPmdLeaves));
  const SoftWalk first = m.page_tables().walk(pfn_to_page(Pfn(0)));
  ASSERT_TRUE(first.present);
  EXPECT_TRUE(first.pmd_leaf);
  EXPECT_EQ(first.level, SoftWalk::Level::kPmd);
  // The 4 KiB pieces of one leaf are consecutive frames.
  const SoftWalk third = m.page_tables().walk(pfn_to_page(Pfn(2 * kStructPagesPerPage)));
  EXPECT_EQ(third.frame, first.frame + 2);
  EXPECT_EQ(m.summary().page_table_frames, 3u);  // pgd, pud, pmd: no PTE table
}

TEST(PageTables, EntryRoundTripsUnderEveryPolicy) {
  for (PteAccess policy : {PteAccess::kOnce, PteAccess::kPlain, PteAccess::kPlainTorn}) {
    Machine m(small_config(VmemmapMapping::kBasePages, policy));
    const SoftWalk w = m.page_tables().walk(pfn_to_page(Pfn(0x100)));
    const PteValue v = pfn_pte(Pfn(0x654321), kPageKernelRo);
    m.page_tables().write_entry(w.entry, v);
    EXPECT_EQ(m.page_tables().read_entry(w.entry), v);
  }
}

// A plain-torn read is two halves; a writer that runs between them is seen
// half old, half new: the torn PTE READ_ONCE() exists to prevent on 32-bit
// page tables. A plain read (64-bit kernel) is one load: never torn.
TEST(PageTables, PlainTornReadCanTearAndPlainAndOnceReadsCannot) {
  for (PteAccess policy : {PteAccess::kPlainTorn, PteAccess::kPlain, PteAccess::kOnce}) {
    Machine m(small_config(VmemmapMapping::kBasePages, policy));
    const PhysAddr entry = m.page_tables().walk(pfn_to_page(Pfn(0x100))).entry;
    const PteValue old_v = pfn_pte(Pfn(0x123456), kPageKernel);
    const PteValue new_v = pfn_pte(Pfn(0x654321), kPageKernelRo);
    m.page_tables().write_entry(entry, old_v, PteAccess::kOnce);

    Task reader{CpuId(1)};
    InjectAtPoint hook(2, [&] { m.page_tables().write_entry(entry, new_v, PteAccess::kOnce); });
    reader.hook = &hook;
    TaskScope s(reader);
    const PteValue seen = m.page_tables().read_entry(entry);
    if (policy == PteAccess::kPlainTorn) {
      const uint64_t torn = (new_v.value() & 0xffffffff00000000ULL) | (old_v.value() & 0xffffffffULL);
      EXPECT_EQ(seen.value(), torn);
      EXPECT_NE(seen, old_v);
      EXPECT_NE(seen, new_v);
    } else {
      EXPECT_EQ(seen, old_v);  // one access: the writer ran after it
    }
  }
}

TEST(PageTables, CmpxchgInstallsOnlyOverTheExpectedValue) {
  Machine m(small_config());
  const SoftWalk w = m.page_tables().walk(pfn_to_page(Pfn(0x100)));
  PteValue expected(0);
  EXPECT_FALSE(m.page_tables().cmpxchg_entry(w.entry, expected, PteValue(0)));
  EXPECT_EQ(expected, w.value);
  EXPECT_TRUE(m.page_tables().cmpxchg_entry(w.entry, expected, pte_wrprotect(w.value)));
  EXPECT_FALSE(pte_write(m.page_tables().read_entry(w.entry)));
}

TEST(PageTables, EntryAccessesAreSchedulePoints) {
  Machine m(small_config(VmemmapMapping::kBasePages, PteAccess::kPlainTorn));
  const PhysAddr entry = m.page_tables().walk(pfn_to_page(Pfn(0x100))).entry;
  Task t{CpuId(2)};
  TaskScope s(t);
  (void)m.page_tables().read_entry(entry);                   // two halves: two points
  (void)m.page_tables().read_entry(entry, PteAccess::kOnce);  // one
  (void)m.page_tables().read_entry(entry, PteAccess::kPlain);  // one plain 64-bit load
  EXPECT_EQ(t.schedule_points, 4u);
}

// Issue 14: --pte-access plain is the v17 walk on a 64-bit kernel, where
// only the walk's `*pte` reads were plain: set_pte_at() is one 64-bit store
// (WRITE_ONCE), one schedule point, never seen half written. plain-torn
// (32-bit page tables) writes in two halves.
TEST(PageTables, PlainWritesAreOneStoreAndPlainTornWritesTwoHalves) {
  for (PteAccess policy : {PteAccess::kPlain, PteAccess::kPlainTorn}) {
    Machine m(small_config(VmemmapMapping::kBasePages, policy));
    const PhysAddr entry = m.page_tables().walk(pfn_to_page(Pfn(0x100))).entry;
    const PteValue old_v = pfn_pte(Pfn(0x123456), kPageKernel);
    const PteValue new_v = pfn_pte(Pfn(0x654321), kPageKernelRo);
    m.page_tables().write_entry(entry, old_v, PteAccess::kOnce);
    Task writer{CpuId(1)};
    std::optional<PteValue> seen;
    // Between the writer's first and second schedule point (there is a
    // second only when the store is split), another CPU reads the entry.
    InjectAtPoint hook(2, [&] {
      Task reader{CpuId(2)};
      TaskScope r(reader);
      seen = m.page_tables().read_entry(entry, PteAccess::kOnce);
    });
    writer.hook = &hook;
    {
      TaskScope s(writer);
      m.page_tables().write_entry(entry, new_v);
    }
    EXPECT_EQ(writer.schedule_points, policy == PteAccess::kPlain ? 1u : 2u) << to_string(policy);
    if (policy == PteAccess::kPlainTorn) {
      ASSERT_TRUE(seen.has_value());
      EXPECT_NE(*seen, old_v);
      EXPECT_NE(*seen, new_v);
    } else {
      EXPECT_FALSE(seen.has_value());
    }
    EXPECT_EQ(m.page_tables().read_entry(entry, PteAccess::kOnce), new_v);
  }
}

}  // namespace
}  // namespace hvo
