// The forced interleavings that 6.10 and 7.1 share, around the mm/hugetlb.c
// life cycle and the batched HVO both have (models/common/hugetlb_folio_6x.h):
// each drives one pool operation on CPU 0 and runs the other side on CPU 1
// at the point the kernel fix is about. The tests of each model assert what
// its reverted and fixed variants must show.
#pragma once

#include <cstdint>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "tests/models/pool_interleaving.h"

namespace hvo::testing {

// The point where vmemmap_remap_free() copies the head's vmemmap page into
// the head's new page: the folio's struct pages are still mapped as before,
// the split and its flush are done. Its address is the head's struct page.
inline bool at_head_copy(const SchedulePoint& p) {
  return p.event == SchedEvent::kMemCopy && current().operation == "vmemmap_remap_free";
}
inline Pfn head_of_copy(const SchedulePoint& p) { return page_to_pfn(VmemmapAddr(p.address)); }

// 2b21624fc232: a speculative get_page_unless_zero() on the head (CPU 1)
// between the copy of the head's vmemmap page and the switch of its PTE.
struct LostUpdate {
  Pfn head{0};
  bool got = false;
};
inline LostUpdate reference_the_head_during_its_copy(PoolWorld& w) {
  LostUpdate r;
  Script script({{at_head_copy, [&](const SchedulePoint& p) { r.head = head_of_copy(p); }},
                 {[](const SchedulePoint&) { return true; },  // the next point: the copy is done
                  [&](const SchedulePoint&) { on_cpu(1, [&] { r.got = w.model->get_page_unless_zero(r.head); }); }}});
  grow_one_with(w, script);
  return r;
}

// flush-before-free: CPU 1 reads an aligned tail's struct page (in vmemmap
// page 1) just before the remap, so its TLB caches the translation to the
// old frame, and again as soon as that old frame has been freed.
struct StaleTlb {
  Pfn head{0};
  Pfn old_frame{0};
};
inline StaleTlb read_a_tail_across_the_free(PoolWorld& w) {
  StaleTlb r;
  auto read_tail = [&] { on_cpu(1, [&] { (void)w.machine.pages().load(r.head + 64, PageWord::kCompoundHead); }); };
  Script script({{at_head_copy,
                  [&](const SchedulePoint& p) {
                    r.head = head_of_copy(p);
                    r.old_frame = w.machine.page_tables().walk(pfn_to_page(r.head) + kPageSize).frame;
                    read_tail();
                  }},
                 {[&](const SchedulePoint&) { return w.machine.mem().state(r.old_frame) == FrameState::kFree; },
                  [&](const SchedulePoint&) { read_tail(); }}});
  grow_one_with(w, script);
  return r;
}

// The hugetlb mark, d8f5f7e445f0 and 32c877191e02: memory_failure() on a
// tail in a read-only vmemmap page (vmemmap page 1: 6.10's alias of the new
// head page, 7.1's shared tail page).
constexpr uint64_t kPoisonedTail = 64 + 5;

// memory_failure() on a tail (CPU 1) right after the new folio's vmemmap
// was optimized, before the pool has it.
inline Pfn memory_failure_right_after_hvo(PoolWorld& w) {
  Pfn head{0};
  Script script({{at_head_copy, [&](const SchedulePoint& p) { head = head_of_copy(p); }},
                 {[](const SchedulePoint&) { return in_operation("free_vmemmap_page_list"); },
                  [&](const SchedulePoint&) { on_cpu(1, [&] { w.model->memory_failure(*w.pool, head + kPoisonedTail); }); }}});
  grow_one_with(w, script);
  return head;
}

// memory_failure() on a tail (CPU 1) as the shrink starts restoring the
// folio's vmemmap: in the batched restore of update_and_free_pages_bulk()
// (6.10 with 6.7's batched resize) or in the single-folio one (7.1 here,
// and 6.10 with a fix older than 6.7 reverted).
inline Pfn memory_failure_as_the_restore_starts(PoolWorld& w) {
  w.pool->set_max_huge_pages(1);
  const Pfn head = only_folio(w);
  Script script({{[](const SchedulePoint&) {
                    return in_operation("hugetlb_vmemmap_restore_folios") || in_operation("hugetlb_vmemmap_restore_folio");
                  },
                  [&](const SchedulePoint&) { on_cpu(1, [&] { w.model->memory_failure(*w.pool, head + kPoisonedTail); }); }}});
  w.task.hook = &script;
  w.pool->set_max_huge_pages(0);
  w.task.hook = nullptr;
  EXPECT_TRUE(script.done());
  return head;
}

}  // namespace hvo::testing
