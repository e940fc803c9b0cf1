// The 6.x vmemmap walk skeleton (models/common/vmemmap_remap_6x.h) run with
// a test generation whose walk->remap_pte callbacks only record what the
// walk hands them: which PTEs, in which order, with which walk. What the
// real callbacks do to the PTEs is tested through the models
// (pool_v6_10_test.cc, pool_v7_1_test.cc).
#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <vector>

#include "engine/machine.h"
#include "engine/task.h"
#include "models/common/vmemmap_remap_6x.h"

namespace hvo {
namespace {

using models::RemapPte;
using models::VmemmapRemapWalk;
using models::VmemmapResult;

class RecordingRemapper : public models::VmemmapRemapper6x {
 public:
  explicit RecordingRemapper(Machine& m)
      : VmemmapRemapper6x(m, models::SplitFixes{}, RemapPte::of<&RecordingRemapper::remap_pte>(*this),
                          RemapPte::of<&RecordingRemapper::restore_pte>(*this)) {}

  using VmemmapRemapper6x::vmemmap_remap_alloc;
  using VmemmapRemapper6x::vmemmap_remap_free;

  std::vector<VmemmapAddr> remapped;
  std::vector<VmemmapAddr> restored;
  std::optional<Pfn> tail_seen;

 private:
  void remap_pte(PhysAddr /*pte*/, VmemmapAddr addr, VmemmapRemapWalk& walk) {
    remapped.push_back(addr);
    tail_seen = walk.vmemmap_tail;
  }
  void restore_pte(PhysAddr /*pte*/, VmemmapAddr addr, VmemmapRemapWalk& walk) {
    restored.push_back(addr);
    // list_first_entry() + list_del(), as the real callbacks do; the page
    // goes back, it is not mapped here.
    m_.page_alloc().free_pages(walk.vmemmap_pages->front(), Order(0));
    walk.vmemmap_pages->pop_front();
  }
};

class VmemmapRemap6xTest : public ::testing::Test {
 protected:
  static MachineConfig config() {
    MachineConfig c;
    c.memory_bytes = uint64_t{512} << 20;
    c.vmemmap_mapping = VmemmapMapping::kPmdLeaves;  // so that the walk has a PMD to split
    c.nr_cpus = 1;
    return c;
  }

  // A 2 MiB folio's walk (vmemmap_range()): the head's vmemmap page is the
  // reuse address, [reuse + PAGE_SIZE, reuse + 8 pages) the range.
  static constexpr Pfn kFolio{0x8000};
  static constexpr uint64_t kVmemmapPages = 8;
  VmemmapAddr reuse() const { return pfn_to_page(kFolio); }
  VmemmapAddr start() const { return reuse() + kPageSize; }
  VmemmapAddr end() const { return reuse() + kVmemmapPages * kPageSize; }
  std::vector<VmemmapAddr> pages_from(VmemmapAddr first) const {
    std::vector<VmemmapAddr> v;
    for (VmemmapAddr a = first; a != end(); a = a + kPageSize) v.push_back(a);
    return v;
  }
  bool pmd_leaf() { return machine.page_tables().walk(reuse()).pmd_leaf; }

  Machine machine{config()};
  Task task{CpuId(0)};
  TaskScope scope{task};
  RecordingRemapper remap{machine};
};

TEST_F(VmemmapRemap6xTest, RemapFreeCallsRemapPteOnEveryPageTheReuseOneIncludedWithTheWalksTailPage) {
  ASSERT_TRUE(pmd_leaf());
  std::deque<Pfn> vmemmap_pages;
  const Pfn tail(0x1234);
  EXPECT_EQ(remap.vmemmap_remap_free(start(), end(), reuse(), tail, vmemmap_pages, 0), VmemmapResult::kOk);
  // The walk brought the head's new page: the reuse address is remapped too.
  EXPECT_EQ(remap.remapped, pages_from(reuse()));
  EXPECT_EQ(remap.tail_seen, tail);
  EXPECT_TRUE(remap.restored.empty());
  EXPECT_FALSE(pmd_leaf()) << "vmemmap_pmd_entry() did not split the leaf";
  // The new head page is on the list (the recording callback does not take
  // it off, as vmemmap_remap_pte() does): the caller frees it.
  ASSERT_EQ(vmemmap_pages.size(), 1u);
  remap.free_vmemmap_page_list(vmemmap_pages);
  EXPECT_TRUE(vmemmap_pages.empty());
}

TEST_F(VmemmapRemap6xTest, RemapAllocCallsRestorePteAfterTheReusePageFoundFirst) {
  EXPECT_EQ(remap.vmemmap_remap_alloc(start(), end(), reuse(), std::nullopt, 0), VmemmapResult::kOk);
  EXPECT_EQ(remap.restored, pages_from(start()));
  EXPECT_TRUE(remap.remapped.empty());
}

TEST_F(VmemmapRemap6xTest, RemapSplitSplitsThePmdAndCallsNoCallback) {
  ASSERT_TRUE(pmd_leaf());
  EXPECT_EQ(remap.vmemmap_remap_split(start(), end(), reuse()), VmemmapResult::kOk);
  EXPECT_FALSE(pmd_leaf());
  EXPECT_TRUE(remap.remapped.empty());
  EXPECT_TRUE(remap.restored.empty());
}

TEST_F(VmemmapRemap6xTest, ARangeNotAfterTheReusePageIsABug) {
  std::deque<Pfn> vmemmap_pages;
  EXPECT_EQ(remap.vmemmap_remap_free(end(), end() + kPageSize, reuse(), std::nullopt, vmemmap_pages, 0),
            VmemmapResult::kBug);
  EXPECT_TRUE(machine.violations().any());
  EXPECT_TRUE(remap.remapped.empty());
  remap.free_vmemmap_page_list(vmemmap_pages);
}

TEST(RemapPteTest, ADefaultOneIsTheSplitOnlyWalksNone) { EXPECT_FALSE(RemapPte{}); }

}  // namespace
}  // namespace hvo
