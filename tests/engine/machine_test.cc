#include "engine/machine.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::small_config;

TEST(Machine, BootFiguresForBasePages) {
  Machine m(small_config(VmemmapMapping::kBasePages));
  const MachineSummary s = m.summary();
  EXPECT_EQ(s.nr_frames, 65536u);                 // 256 MiB
  EXPECT_EQ(s.vmemmap_frames, 65536u * 64 / 4096);  // 4 MiB of struct pages
  EXPECT_EQ(s.page_table_frames, 5u);             // pgd, pud, pmd, 2 PTE tables
  EXPECT_EQ(s.boot_reserved_frames, 4096u);       // 16 MiB
  EXPECT_EQ(s.free_frames, s.nr_frames - s.vmemmap_frames - s.page_table_frames - s.boot_reserved_frames);
  EXPECT_EQ(s.vmemmap_start, kVmemmapBase);
  EXPECT_EQ(s.vmemmap_end - s.vmemmap_start, uint64_t{4} << 20);
  EXPECT_EQ(s.vmemmap_mapping, "base");
  EXPECT_EQ(s.pte_access, "once");
  EXPECT_TRUE(m.buddy().validate());
  EXPECT_FALSE(m.violations().any());
}

TEST(Machine, BootFiguresForPmdLeaves) {
  Machine m(small_config(VmemmapMapping::kPmdLeaves));
  const MachineSummary s = m.summary();
  EXPECT_EQ(s.vmemmap_frames, 1024u);  // two 2 MiB blocks
  EXPECT_EQ(s.page_table_frames, 3u);
  EXPECT_EQ(s.vmemmap_mapping, "pmd");
}

TEST(Machine, MemmapInitMarksReservedPagesAndResetsMapcounts) {
  Machine m(small_config());
  Task t{CpuId(0)};
  TaskScope s(t);
  StructPageAccess& p = m.pages();
  // A boot-reserved page (pfn 0) and a vmemmap frame are PG_reserved with refcount 1.
  EXPECT_TRUE(p.test_flag(Pfn(0), PG_reserved));
  EXPECT_EQ(p.page_ref_count(Pfn(0)), 1);
  const Pfn vmemmap_frame = m.page_tables().walk(pfn_to_page(Pfn(0))).frame;
  EXPECT_TRUE(p.test_flag(vmemmap_frame, PG_reserved));
  // A free page: no flags, refcount 0, mapcount -1.
  const Pfn last = Pfn(m.mem().nr_frames() - 1);
  EXPECT_EQ(m.mem().state(last), FrameState::kFree);
  EXPECT_EQ(p.flags(last), 0u);
  EXPECT_EQ(p.page_ref_count(last), 0);
  EXPECT_EQ(p.load32(last, PageWord32::kMapcount), -1);
}

TEST(Machine, InvalidConfigurationsAreRejectedBeforeBooting) {
  MachineConfig c = small_config();
  c.memory_bytes += kPageSize;
  EXPECT_THROW(Machine{c}, std::invalid_argument);
  c = small_config();
  c.nr_cpus = 0;
  EXPECT_THROW(Machine{c}, std::invalid_argument);
  c = small_config();
  c.memory_bytes = uint64_t{32} << 20;
  EXPECT_THROW(Machine{c}, std::invalid_argument);
  c = small_config();
  c.tlb_entries = 48;
  EXPECT_THROW(Machine{c}, std::invalid_argument);
  EXPECT_EQ(small_config().validate(), "");
}

TEST(Machine, ParsesItsPolicyNames) {
  EXPECT_EQ(pte_access_from_string("plain"), PteAccess::kPlain);
  EXPECT_EQ(pte_access_from_string("plain-torn"), PteAccess::kPlainTorn);
  EXPECT_EQ(pte_access_from_string("once"), PteAccess::kOnce);
  EXPECT_FALSE(pte_access_from_string("ONCE").has_value());
  EXPECT_EQ(vmemmap_mapping_from_string("pmd"), VmemmapMapping::kPmdLeaves);
  EXPECT_FALSE(vmemmap_mapping_from_string("huge").has_value());
}

}  // namespace
}  // namespace hvo
