// The vmemmap page-table walk of 6.x (mm/hugetlb_vmemmap.c), as 6.10 and
// 7.1 share it: struct vmemmap_remap_walk with its flags and its remap_pte
// callback, and what a walk returns.
//
// Since 6.4 the walk is the generic one (walk_page_range_novma() over
// init_mm with vmemmap_remap_ops = {vmemmap_pmd_entry, vmemmap_pte_entry});
// since 6.7 (the batched HVO work) a walk carries flags that defer its TLB
// flushes to the caller, which flushes once per batch:
//
//   VMEMMAP_SPLIT_NO_TLB_FLUSH  a PMD split does not flush the old leaf
//   VMEMMAP_REMAP_NO_TLB_FLUSH  a remap does not flush the range it changed
//   VMEMMAP_SYNCHRONIZE_RCU     synchronize_rcu() before the remap
//                               (c2a967f6ab0e; the walk itself ignores it)
//
// Whoever sets a NO_TLB_FLUSH flag owns the flush, and must make it before
// anything the old translations reach is freed (fix 5 of docs/hvo-history.md).
// The walk itself is models/common/vmemmap_remap_6x.h; what each generation
// does to one PTE (vmemmap_remap_pte(), vmemmap_restore_pte()) stays with it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "engine/types.h"

namespace hvo::models {

using VmemmapWalkFlags = unsigned;
inline constexpr VmemmapWalkFlags VMEMMAP_SPLIT_NO_TLB_FLUSH = 1u << 0;
inline constexpr VmemmapWalkFlags VMEMMAP_REMAP_NO_TLB_FLUSH = 1u << 1;
inline constexpr VmemmapWalkFlags VMEMMAP_SYNCHRONIZE_RCU = 1u << 2;

// The walk's int results as values: 0, -ENOMEM, and a BUG() the kernel
// would not have survived (the walk stopped where the BUG left it).
enum class VmemmapResult : uint8_t { kOk, kNoMemory, kBug };

struct VmemmapRemapWalk;

// struct vmemmap_remap_walk's `void (*remap_pte)(pte_t *pte, unsigned long
// addr, struct vmemmap_remap_walk *walk)`. The kernel's callback reaches
// everything through the walk; here it is a member of the generation's
// remapper (it needs the machine and the generation's reverts), so the
// pointer comes with the object it is called on, as a C callback comes with
// its `void *data`. One indirect call per PTE, as in the kernel, and no
// virtual dispatch: the member itself is a template argument, called
// directly from the trampoline.
class RemapPte {
 public:
  RemapPte() = default;  // null: a split-only walk

  // RemapPte::of<&Remapper::vmemmap_remap_pte>(remapper).
  template <auto Callback, class Remapper>
  [[nodiscard]] static RemapPte of(Remapper& remapper) {
    return RemapPte(&remapper, [](void* r, PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) {
      (static_cast<Remapper*>(r)->*Callback)(pte, addr, walk);
    });
  }

  explicit operator bool() const { return fn_ != nullptr; }
  void operator()(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) const { fn_(remapper_, pte, addr, walk); }

 private:
  using Fn = void (*)(void* remapper, PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk);
  RemapPte(void* remapper, Fn fn) : remapper_(remapper), fn_(fn) {}

  void* remapper_ = nullptr;
  Fn fn_ = nullptr;
};

// struct vmemmap_remap_walk, 6.10's fields and 7.1's vmemmap_tail.
struct VmemmapRemapWalk {
  // Called for each PTE after the reuse one; null for a split-only walk.
  RemapPte remap_pte;
  uint64_t nr_walked = 0;         // PTEs walked, the reuse one included
  std::optional<Pfn> reuse_page;  // set by the caller (the new head page) or found first in the walk
  VmemmapAddr reuse_addr{0};      // the head's vmemmap page
  // 7.1: the zone's shared tail page for the folio's order; unset in 6.10.
  std::optional<Pfn> vmemmap_tail;
  // The vmemmap pages to free (remap) or to map (restore): list_add() to
  // the front, list_first_entry() from the front, as the kernel's list.
  std::deque<Pfn>* vmemmap_pages = nullptr;
  VmemmapWalkFlags flags = 0;
  bool bugged = false;  // a BUG_ON fired: stop walking
};

// struct mm_walk's action, as vmemmap_pmd_entry() sets it.
enum class WalkAction : uint8_t {
  kSubtree,   // ACTION_SUBTREE: go on to the PTEs under this PMD
  kContinue,  // ACTION_CONTINUE: do not descend (a split-only walk)
};

}  // namespace hvo::models
