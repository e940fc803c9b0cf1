// The scenarios 6.10 and 7.1 share, around the mm/hugetlb.c life cycle, the
// pool's batched resize and the batched HVO both have
// (models/common/hugetlb_folio_6x.h, hugetlb_pool_bulk_6x.cc): the forced
// interleavings (each drives one pool operation on CPU 0 and runs the
// other side on CPU 1 at the point the kernel fix is about) and the
// parameterized suites whose bodies (pool_6x_test.cc) are written once and
// instantiated by each model's test file (pool_v6_10_test.cc,
// pool_v7_1_test.cc) with what differs between the generations.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/pte.h"
#include "engine/struct_page.h"
#include "tests/models/pool_interleaving.h"

namespace hvo::testing {

// What the shared pool tests need to know of one 6.x generation.
struct Pool6xModel {
  const char* name;  // "v6.10", "v7.1"
  // synchronize_rcu() per optimize or restore batch that HVO applies to:
  // one in 6.10 (bd225530a4c7, c2a967f6ab0e), none in 7.1.
  uint64_t grace_periods_per_batch;
  // The model's revertible fixes older than 6.7's batched resize: with one
  // of them reverted the pool resizes one folio at a time.
  std::vector<std::string> fixes_older_than_batched_resize;
};

// gtest prints a parameter by its model's name.
inline void PrintTo(const Pool6xModel& m, std::ostream* os) { *os << m.name; }

// The suites of pool_6x_test.cc. A model's test file instantiates them.
class Pool6xTest : public ::testing::TestWithParam<Pool6xModel> {};
// (model, one of its reverts).
class Pool6xRevertTest : public ::testing::TestWithParam<std::tuple<Pool6xModel, std::string>> {};

inline std::string test_name_of(std::string name) {
  for (char& ch : name)
    if (ch == '-' || ch == '.') ch = '_';
  return name;
}
inline std::string pool_6x_test_name(const ::testing::TestParamInfo<Pool6xModel>& info) {
  return test_name_of(info.param.name);
}
inline std::string pool_6x_revert_test_name(const ::testing::TestParamInfo<Pool6xRevertTest::ParamType>& info) {
  // "r" then the fix: a test name starts with a letter. (Appended, not
  // "r" + name: gcc 12 reports a false -Wrestrict on the latter.)
  std::string name(1, 'r');
  name.append(test_name_of(std::get<1>(info.param)));
  return name;
}

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

// The folio memory_failure() was aimed at, and the frame its poisoned
// tail's vmemmap page mapped read-only (6.10: the head's new page, 7.1:
// the zone's shared tail page): what a write to that tail would reach.
struct PoisonedTail {
  Pfn head{0};
  Pfn read_only_frame{0};
};
inline Pfn frame_of_poisoned_tail(PoolWorld& w, Pfn head) {
  return w.machine.page_tables().walk(pfn_to_page(head + kPoisonedTail)).frame;
}

// memory_failure() on a tail (CPU 1) right after the new folio's vmemmap
// was optimized, before the pool has it.
inline PoisonedTail memory_failure_right_after_hvo(PoolWorld& w) {
  PoisonedTail r;
  Script script({{at_head_copy, [&](const SchedulePoint& p) { r.head = head_of_copy(p); }},
                 {[](const SchedulePoint&) { return in_operation("free_vmemmap_page_list"); },
                  [&](const SchedulePoint&) {
                    on_cpu(1, [&] { w.model->memory_failure(*w.pool, r.head + kPoisonedTail); });
                  }}});
  grow_one_with(w, script);
  r.read_only_frame = frame_of_poisoned_tail(w, r.head);  // still optimized: the grow's mapping
  return r;
}

// memory_failure() on a tail (CPU 1) as the shrink starts restoring the
// folio's vmemmap: in the batched restore of update_and_free_pages_bulk()
// (6.7's batched resize) or in the single-folio one (with a fix older than
// 6.7 reverted, such as 32c877191e02 itself).
inline PoisonedTail memory_failure_as_the_restore_starts(PoolWorld& w) {
  w.pool->set_max_huge_pages(1);
  PoisonedTail r{only_folio(w), Pfn(0)};
  r.read_only_frame = frame_of_poisoned_tail(w, r.head);
  Script script({{[](const SchedulePoint&) {
                    return in_operation("hugetlb_vmemmap_restore_folios") || in_operation("hugetlb_vmemmap_restore_folio");
                  },
                  [&](const SchedulePoint&) {
                    on_cpu(1, [&] { w.model->memory_failure(*w.pool, r.head + kPoisonedTail); });
                  }}});
  w.task.hook = &script;
  w.pool->set_max_huge_pages(0);
  w.task.hook = nullptr;
  EXPECT_TRUE(script.done());
  return r;
}

// Free mode: CPU 1 grows the pool to 12 and shrinks it to 4 (set_max_huge_pages(),
// under resize_lock) while CPU 2 faults 8 hugepages with
// nr_overcommit_hugepages = 8, holds them and puts them back
// (alloc_surplus_hugetlb_folio() and free_huge_folio(), no resize_lock): their
// HVOs split the same PMD (7.1's first HVOs race to install the shared tail
// page), and restores run beside HVOs. Two resizes could not race
// (resize_lock). The caller checks what its model must leave, then shrinks
// to 0.
inline void resize_and_fault_surplus_from_two_threads(PoolWorld& w) {
  w.pool->set_nr_overcommit_huge_pages(8);
  std::thread a([&] { resize_on_cpu(w, 1, {12, 4}); });
  std::thread b([&] { fault_surplus_on_cpu(w, 2, 8); });
  a.join();
  b.join();
}

}  // namespace hvo::testing
