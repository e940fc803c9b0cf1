#include "models/v7_1/vmemmap_tails.h"

#include <atomic>

#include "engine/check.h"
#include "engine/gfp.h"
#include "engine/hugetlb/compound_page.h"
#include "engine/page_poison.h"
#include "engine/schedule_point.h"
#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::v7_1 {

namespace {
// The shared page's allocation: GFP_KERNEL, may sleep; a failure makes the
// folio's optimization fail with -ENOMEM (it stays unoptimized).
constexpr Gfp kGfpTailPage = Gfp::kKernel;

uint64_t struct_page_ptr(Pfn page) { return pfn_to_page(page).value(); }
Pfn page_of_ptr(uint64_t ptr) { return page_to_pfn(VmemmapAddr(ptr)); }
}  // namespace

void VmemmapTails::init_tail_page(Pfn page, Order order) {
  PhysMem& mem = m_.mem();
  const uint64_t info = compound_info_mask(order);
  // A schedule point before the stores: they go through the direct map,
  // and whether anyone else can see the page meanwhile depends on where its
  // publication (vmemmap_get_tail()) stands. Should it come first, another
  // CPU runs here and finds PAGE_POISON. One point, not one per struct
  // page: each point dilutes a random schedule's other windows (measured:
  // 64 of them doubled the median executions of two catalogue races).
  sched_point(SchedEvent::kMemInit, pfn_to_phys(page).value(), kStructPagesPerPage);
  for (uint64_t i = 0; i < kStructPagesPerPage; ++i) {
    const PhysAddr p = pfn_to_phys(page) + i * kStructPageSize;
    auto word = [&](PageWord w, uint64_t v) {
      mem.store<uint64_t>(p + static_cast<uint64_t>(w), v, std::memory_order_relaxed);
    };
    // What prep_compound_tail() leaves in an ordinary tail (and the engine's
    // buddy in the rest): no flags (one zone, no zone bits), the mask,
    // TAIL_MAPPING, _mapcount -1, _refcount 0.
    word(PageWord::kFlags, 0);
    word(PageWord::kCompoundHead, info);  // set_compound_head(): the order's mask | 1
    word(PageWord::kCompoundInfo, 0);
    word(PageWord::kMapping, kTailMapping);
    word(PageWord::kIndex, 0);
    word(PageWord::kPrivate, 0);
    mem.store<uint32_t>(p + static_cast<uint64_t>(PageWord32::kMapcount), static_cast<uint32_t>(-1),
                        std::memory_order_relaxed);
    mem.store<uint32_t>(p + static_cast<uint64_t>(PageWord32::kRefcount), 0, std::memory_order_relaxed);
    word(PageWord::kMemcgData, 0);
  }
}

std::optional<Pfn> VmemmapTails::vmemmap_get_tail(Order order, bool planted_leak) {
  OperationScope op("vmemmap_get_tail");
  HVO_CHECK(order.value() <= kMaxFolioOrder, "an order above MAX_FOLIO_ORDER");
  std::atomic<uint64_t>& slot = vmemmap_tails_[order.value()];
  const uint64_t slot_addr = slot_address(order.value());
  // READ_ONCE(): the kernel relies on the address dependency from the
  // pointer to the page it names; acquire is the C++ form of that order
  // (it pairs with the fully ordered cmpxchg() that published the page).
  sched_point(SchedEvent::kAtomic, slot_addr);
  const uint64_t tail = slot.load(std::memory_order_acquire);
  if (tail != 0) return page_of_ptr(tail);
  const std::optional<Pfn> page = m_.page_alloc().alloc_pages(kGfpTailPage, Order(0), FrameState::kVmemmap);
  if (!page) {
    note_error_path(error_path::kTailFailed);
    return std::nullopt;
  }
  // Planted (tests only): published first, initialised after: a CPU that
  // reads the slot in between maps a page of PAGE_POISON.
  const bool publish_first = planted_.has(PlantedBugs::kTailPublishedBeforeFilled);
  if (!publish_first) init_tail_page(*page, order);
  if (publish_first) {
    (void)check_published(m_.mem(), m_.violations(), *page, "installed in zone->vmemmap_tails[]");
    sched_point(SchedEvent::kAtomic, slot_addr, struct_page_ptr(*page));
    uint64_t none = 0;
    if (!slot.compare_exchange_strong(none, struct_page_ptr(*page), std::memory_order_seq_cst)) {
      m_.page_alloc().free_pages(*page, Order(0));
      return page_of_ptr(none);
    }
    init_tail_page(*page, order);
    return page;
  }
  // The moment of publication: whoever reads the slot from now on maps the
  // page, so it must be filled already (engine/page_poison.h).
  (void)check_published(m_.mem(), m_.violations(), *page, "installed in zone->vmemmap_tails[]");
  if (!use_cmpxchg_) {
    // Reverted: WRITE_ONCE(zone->vmemmap_tails[idx], tail). Release keeps
    // the initialisation before the pointer; what is lost is exclusivity.
    sched_point(SchedEvent::kAtomic, slot_addr, struct_page_ptr(*page));
    slot.store(struct_page_ptr(*page), std::memory_order_release);
    return page;
  }
  // cmpxchg(&zone->vmemmap_tails[idx], NULL, tail): fully ordered.
  sched_point(SchedEvent::kAtomic, slot_addr, struct_page_ptr(*page));
  uint64_t expected = 0;
  if (slot.compare_exchange_strong(expected, struct_page_ptr(*page), std::memory_order_seq_cst)) return page;
  // Another CPU installed its page first: "__free_page(tail)", and use the
  // winner's (the value the failed cmpxchg() returned).
  if (!planted_leak) m_.page_alloc().free_pages(*page, Order(0));  // planted: the loser's page leaked
  return page_of_ptr(expected);
}

std::optional<Pfn> VmemmapTails::peek(Order order) const {
  if (order.value() > kMaxFolioOrder) return std::nullopt;
  const uint64_t tail = vmemmap_tails_[order.value()].load(std::memory_order_relaxed);
  return tail == 0 ? std::nullopt : std::optional<Pfn>(page_of_ptr(tail));
}

std::vector<Pfn> VmemmapTails::installed() const {
  std::vector<Pfn> pages;
  for (const std::atomic<uint64_t>& slot : vmemmap_tails_)
    if (const uint64_t tail = slot.load(std::memory_order_relaxed); tail != 0) pages.push_back(page_of_ptr(tail));
  return pages;
}

}  // namespace hvo::v7_1
