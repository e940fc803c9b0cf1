// The vmemmap page-table walk of 6.x (mm/hugetlb_vmemmap.c): struct
// vmemmap_remap_walk with its flags, and what a walk returns.
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
// anything the old translations reach is freed (fix 5 of HVO-HISTORY.md).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "engine/types.h"

namespace hvo::v6_10 {

using VmemmapWalkFlags = unsigned;
inline constexpr VmemmapWalkFlags VMEMMAP_SPLIT_NO_TLB_FLUSH = 1u << 0;
inline constexpr VmemmapWalkFlags VMEMMAP_REMAP_NO_TLB_FLUSH = 1u << 1;
inline constexpr VmemmapWalkFlags VMEMMAP_SYNCHRONIZE_RCU = 1u << 2;

// The walk's int results as values: 0, -ENOMEM, and a BUG() the kernel
// would not have survived (the walk stopped where the BUG left it).
enum class VmemmapResult : uint8_t { kOk, kNoMemory, kBug };

class VmemmapRemapper;

// struct vmemmap_remap_walk.
struct VmemmapRemapWalk {
  // Called for each PTE after the reuse one; null for a split-only walk.
  void (VmemmapRemapper::*remap_pte)(PhysAddr pte, VmemmapAddr addr, VmemmapRemapWalk& walk) = nullptr;
  uint64_t nr_walked = 0;         // PTEs walked, the reuse one included
  std::optional<Pfn> reuse_page;  // set by the caller (the new head page) or found first in the walk
  VmemmapAddr reuse_addr{0};
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

}  // namespace hvo::v6_10
