// PAGE_POISON in the pages allocated for the vmemmap, and the two checks
// that find it where only initialised memory may be: at publication (a
// vmemmap PTE set to the page) and at use (a struct page read).
#include "engine/page_poison.h"

#include <gtest/gtest.h>

#include "tests/engine/test_machine.h"

namespace hvo {
namespace {

using testing::small_config;

class PagePoisonTest : public ::testing::Test {
 protected:
  PagePoisonTest() : m_(small_config()), t_(CpuId(1)), scope_(t_) {}

  Pfn alloc(Gfp gfp, FrameState use) {
    const std::optional<Pfn> p = m_.page_alloc().alloc_pages(gfp, Order(0), use);
    EXPECT_TRUE(p.has_value());
    return p.value_or(Pfn(0));
  }
  // Maps the vmemmap page of kPfn's struct page to `page` (set_pte_at()).
  void publish(Pfn page) {
    const SoftWalk w = m_.page_tables().walk(pfn_to_page(kPfn));
    m_.page_tables().write_entry(w.entry, pfn_pte(page, kPageKernel));
    m_.mmu().flush_tlb_all();
  }
  // Every word of `page` written, as a copy_page() or an init would.
  void fill(Pfn page, uint64_t words) {
    for (uint64_t i = 0; i < words; ++i)
      m_.mem().store<uint64_t>(pfn_to_phys(page) + i * sizeof(uint64_t), i, std::memory_order_relaxed);
  }

  Machine m_;
  Task t_;
  TaskScope scope_;
  const Pfn kPfn{0x9000};
};

TEST_F(PagePoisonTest, OnlyAPageForTheVmemmapIsHandedOutPoisoned) {
  EXPECT_EQ(first_poisoned_word(m_.mem(), alloc(Gfp::kKernel, FrameState::kVmemmap)), uint64_t{0});
  EXPECT_EQ(first_poisoned_word(m_.mem(), alloc(Gfp::kKernel | Gfp::kZero, FrameState::kVmemmap)), std::nullopt);
  EXPECT_EQ(first_poisoned_word(m_.mem(), alloc(Gfp::kKernel, FrameState::kBuddy)), std::nullopt);
}

TEST_F(PagePoisonTest, PublishingAPageBeforeItsLastWordIsWrittenIsCaught) {
  const Pfn page = alloc(Gfp::kKernel, FrameState::kVmemmap);
  fill(page, kPageSize / sizeof(uint64_t) - 1);
  EXPECT_EQ(first_poisoned_word(m_.mem(), page), kPageSize - sizeof(uint64_t));
  publish(page);
  ASSERT_EQ(m_.violations().count(ViolationKind::kUninitialisedPublish), 1u);
  EXPECT_EQ(m_.violations().snapshot().front().frame, page);
}

TEST_F(PagePoisonTest, PublishingAnInitialisedPageIsNot) {
  const Pfn page = alloc(Gfp::kKernel, FrameState::kVmemmap);
  m_.mem().copy_page(page, m_.page_tables().walk(pfn_to_page(kPfn)).frame);
  publish(page);
  EXPECT_FALSE(m_.violations().any());
  EXPECT_EQ(m_.pages().load(kPfn, PageWord::kFlags), m_.pages().load(kPfn + 1, PageWord::kFlags));
  EXPECT_FALSE(m_.violations().any());
}

TEST_F(PagePoisonTest, AStructPageReadOfThePoisonIsCaught) {
  const Pfn page = alloc(Gfp::kKernel, FrameState::kVmemmap);
  // The read side stands on its own: the publication's own report is
  // cleared, as if the check had been missed (a store buffer's view).
  const SoftWalk w = m_.page_tables().walk(pfn_to_page(kPfn));
  m_.page_tables().write_entry(w.entry, pfn_pte(page, kPageKernel));
  m_.violations().clear();
  m_.mmu().flush_tlb_all();
  EXPECT_EQ(m_.pages().load(kPfn, PageWord::kCompoundHead), kPagePoison64);
  EXPECT_EQ(m_.violations().count(ViolationKind::kUninitialisedRead), 1u);
  EXPECT_EQ(static_cast<uint32_t>(m_.pages().page_ref_count(kPfn)), kPagePoison32);
  EXPECT_EQ(m_.violations().count(ViolationKind::kUninitialisedRead), 2u);
  EXPECT_EQ(invariant_of(ViolationKind::kUninitialisedRead), Invariant::kInitialisedBeforePublished);
}

}  // namespace
}  // namespace hvo
