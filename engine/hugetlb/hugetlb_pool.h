// The HugeTLB pool of one hstate (mm/hugetlb.c): growing and shrinking it as
// a write to nr_hugepages does, handing folios to owners and taking them
// back, dissolving free folios, and the counters.
//
// Lock rules (as the kernel's): hugetlb_lock (a spinlock) protects the free
// list, the folio states and the counters. Nothing that may sleep runs
// under it: the model's HVO and vmemmap restore run after the folio has
// been taken off the lists and the lock dropped, as in
// update_and_free_pages_bulk().
//
// resize_lock (struct hstate's mutex, 29383967 "hugetlb: add per-hstate
// mutex to synchronize user adjustments") is held across
// set_max_huge_pages() and demote_store(), so two resizes of one hstate
// never run at once; demote also takes the target hstate's resize_lock
// (the larger hstate's first), as demote_free_hugetlb_folios() does. Order:
// resize_lock -> hugetlb_lock. Each hstate's resize_lock is its own lockdep
// class (the kernel's h->resize_key).
//
// HVO and its restore run concurrently only on the kernel's paths that do
// not take resize_lock: alloc_surplus_hugetlb_folio() at fault time (the
// free list empty, nr_overcommit_hugepages above surplus_huge_pages: a
// fresh folio is made and optimized with no pool lock held; over the limit
// when checked again, freed again), free_huge_folio() of a surplus folio
// (removed and restored) and dissolve_free_hugetlb_folio() (memory_failure,
// offlining: removed and restored), against a resize and each other. Two
// resizes never overlap.
//
// Folio life cycle (host-side bookkeeping, the kernel's lists):
//   (buddy) --alloc_pool_folio--> kFree <--> kInUse (owner)
//   (buddy) --alloc_surplus_hugetlb_folio--> kInUse (the faulting owner; surplus)
//                                                   --over the limit--> kRemoved --model frees--> (buddy)
//   kFree --remove (shrink, dissolve, surplus free)--> kRemoved --model frees--> (buddy)
//   kInUse --put, surplus to shed (free_huge_folio)--> kRemoved --model frees--> (buddy)
//   kRemoved --restore failed: add_hugetlb_folio(surplus)--> kFree
//   kFree --demote: remove--> kRemoved --demoted--> 512 kFree folios of the demote pool
//   kRemoved --demote's restore failed: add_hugetlb_folio(not surplus)--> kFree
//
// Hstates: the pool of a gigantic hstate (1 GiB) owns the pool of its demote
// target (2 MiB: demote_size's default, h->demote_order), and the two share
// one hugetlb_lock, as every hstate of the kernel shares the one global
// hugetlb_lock. Each pool's fields are GUARDED_BY its hugetlb_lock_, a
// reference to that one lock; no code holds it for both pools at once (the
// kernel's demote touches the source's counters and the target's in
// separate lock holds), so the analysis needs no aliasing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "engine/hugetlb/hstate.h"
#include "engine/hugetlb/hugetlb_vmemmap_ops.h"
#include "engine/hugetlb/hwpoison_ledger.h"
#include "engine/locks/mutex.h"
#include "engine/locks/spinlock.h"
#include "engine/machine.h"

namespace hvo {

enum class FolioState : uint8_t { kFree, kInUse, kRemoved };

struct PoolCounters {
  uint64_t nr_huge_pages = 0;
  uint64_t free_huge_pages = 0;
  uint64_t surplus_huge_pages = 0;
  uint64_t nr_overcommit_huge_pages = 0;
  // h->max_huge_pages, what reading /proc/sys/vm/nr_hugepages returns:
  // set_max_huge_pages() leaves it at the persistent count; a dissolve
  // takes one off (unsigned: below 0 it wraps, as the kernel's does when a
  // surplus folio is dissolved at 0) and gives it back if the folio could
  // not be freed.
  uint64_t max_huge_pages = 0;
  // For the overcommit-limit invariant. The surplus the pool may hold
  // without a fault having broken the limit: nr_overcommit_huge_pages, or
  // more while surplus that did not come from a fault (a lowered limit, a
  // folio put back as surplus when its vmemmap could not be restored) is
  // still there. It follows surplus_huge_pages down to the limit.
  uint64_t surplus_allowance = 0;
  // The most surplus_huge_pages ever stood above surplus_allowance right
  // after a fault accounted a surplus folio: 0 unless a fault overcommitted.
  uint64_t overcommitted = 0;
};

// Vmemmap figures, kept with relaxed atomics (statistics, not invariants).
struct VmemmapStats {
  uint64_t optimized = 0;        // folios optimized (cumulative)
  uint64_t restored = 0;         // folios restored (cumulative)
  uint64_t restore_failures = 0; // restores that could not allocate
  uint64_t pages_freed = 0;      // vmemmap pages freed by HVO (cumulative)
  uint64_t pages_allocated = 0;  // vmemmap pages allocated by restores (cumulative)
  uint64_t pages_saved_now = 0;  // vmemmap pages currently not backed thanks to HVO
  uint64_t demoted = 0;          // folios of this hstate demoted into the demote pool (cumulative)
};

struct FolioSnapshot {
  Pfn head;
  FolioState state;
  // Bumped each time a folio enters the pool at this head: two snapshots
  // with the same generation and state saw the same folio, untouched.
  uint64_t generation;
  friend bool operator==(const FolioSnapshot&, const FolioSnapshot&) = default;
};

enum class DissolveResult : uint8_t { kNotHugetlb, kInUse, kDissolved, kRestoreFailed };

// What demote_store() returns, as the kernel's error codes mean it.
enum class DemoteStatus : uint8_t {
  kOk,            // every folio asked for was demoted, or the free list ran out (count < asked)
  kNoMemory,      // -ENOMEM: a source's vmemmap could not be restored; it is back in the pool
  kBusy,          // -EBUSY: every free folio is hwpoisoned
  kNotSupported,  // no demote target (a 2 MiB pool), or the model has no demote
};
struct DemoteOutcome {
  uint64_t demoted = 0;
  DemoteStatus status = DemoteStatus::kOk;
};

// Bugs a test may plant in the pool (never set outside tests): each breaks
// one kernel rule, so that a test shows a checker or a campaign catches it.
enum class PoolPlantedBug : uint8_t {
  kNone,
  // alloc_surplus_hugetlb_folio() checks nr_overcommit_hugepages before the
  // allocation only, not again after it: two faults racing past the first
  // check both account their folio.
  kNoOvercommitRecheck,
  // ... and not before it either: every fault makes a surplus folio.
  kIgnoreOvercommit,
};

class HugetlbPool {
 public:
  // The pool of `hstate`, owning hugetlb_lock; for a gigantic hstate also
  // the pool of its demote target (demote_pool()).
  HugetlbPool(Machine& machine, const Hstate& hstate, HugetlbVmemmapOps& ops);
  HugetlbPool(const HugetlbPool&) = delete;
  HugetlbPool& operator=(const HugetlbPool&) = delete;

  // --- what users of the pool do ------------------------------------------
  // set_max_huge_pages(): a write of `count` to nr_hugepages. Grows with fresh folios until the persistent count is
  // reached or an allocation fails (one at a time, or allocated first and
  // prepared as one batch when the model's kernel does:
  // pool_allocates_in_batches()); shrinks by taking free folios (and free
  // surplus ones) off the pool in one hold of hugetlb_lock and handing the
  // list to the model's update_and_free_pages_bulk(). Returns the resulting
  // nr_huge_pages.
  // All of it under resize_lock.
  uint64_t set_max_huge_pages(uint64_t count) EXCLUDES(resize_lock_, hugetlb_lock_);
  // An owner takes a folio at fault time (alloc_hugetlb_folio()): a free
  // one leaves the free list with refcount 1; with none free,
  // alloc_surplus_hugetlb_folio() makes a surplus one if
  // nr_overcommit_hugepages allows, handed over with refcount 1. nullopt
  // when neither gives a folio.
  [[nodiscard]] std::optional<Pfn> alloc_hugetlb_folio() EXCLUDES(resize_lock_, hugetlb_lock_);
  // alloc_surplus_hugetlb_folio() alone (alloc_hugetlb_folio()'s fallback):
  // the overcommit limit checked under hugetlb_lock, the lock dropped, a
  // fresh folio allocated and prepared (the model's HVO), the lock taken
  // again and the limit checked again: over it, the folio is freed again
  // (the kernel's "temporary" folio through update_and_free_hugetlb_folio()),
  // else it is accounted (nr_huge_pages++, surplus_huge_pages++) and in use,
  // at the refcount the model's preparation left (0: frozen; the caller
  // unfreezes it). No resize_lock: it runs concurrently with resizes.
  // nullopt for a gigantic hstate (the kernel makes no gigantic surplus),
  // at the limit, when the allocation fails, or when a speculative
  // reference outlived the preparation (its holder's put_page() frees it).
  [[nodiscard]] std::optional<Pfn> alloc_surplus_hugetlb_folio() EXCLUDES(resize_lock_, hugetlb_lock_);
  // free_huge_folio(): the owner dropped the last reference (refcount 0).
  // Enqueued, or, if the pool has surplus to shed, removed and freed with
  // update_and_free_hugetlb_folio() (vmemmap restored, no resize_lock).
  void free_huge_folio(Pfn head) EXCLUDES(hugetlb_lock_);
  // echo n > nr_overcommit_hugepages (hugetlb_overcommit_handler()): the
  // most surplus folios faults may make. 0 (the default): none.
  void set_nr_overcommit_huge_pages(uint64_t n) EXCLUDES(hugetlb_lock_);
  [[nodiscard]] uint64_t nr_overcommit_huge_pages() const EXCLUDES(hugetlb_lock_);
  // dissolve_free_hugetlb_folio(pfn): if pfn belongs to a free folio, take
  // it out of the pool and free it to buddy (memory_failure, offlining).
  // `under_lock`, if given, runs on the removed folio's head with
  // hugetlb_lock still held (memory_failure's hwpoison_subpage_set()).
  DissolveResult dissolve_free_hugetlb_folio(Pfn pfn, const std::function<void(Pfn head)>& under_lock = {})
      EXCLUDES(hugetlb_lock_);
  // demote_store(): `echo nr > hugepages-1048576kB/demote`. Up to nr free
  // folios become free folios of demote_pool(), in batches taken off the
  // free list under hugetlb_lock (demote_pool_huge_page(): one folio at a
  // time before c0f398c3b2cf, all of them after; the model's
  // sources_per_batch()) and handed to the model's
  // demote_free_hugetlb_folios() with the lock dropped; those it could not
  // demote are put back, and demote stops. Defined in hugetlb_demote.cc.
  // All of it under resize_lock.
  DemoteOutcome demote(uint64_t nr) EXCLUDES(resize_lock_, hugetlb_lock_);

  // --- for the models ------------------------------------------------------
  // alloc_buddy_hugetlb_folio() / alloc_gigantic_folio(): frames from buddy
  // (kHugetlbData), head refcount 1, prep_compound_page() done.
  [[nodiscard]] std::optional<Pfn> alloc_fresh_folio_frames(Gfp gfp) EXCLUDES(hugetlb_lock_);
  // __free_pages() / free_gigantic_folio() of a destroyed folio whose head
  // the model set_page_refcounted(): the reference is put, and at zero the
  // free_pages_prepare() checks run and the frames go back to buddy.
  void free_folio_frames(Pfn head) EXCLUDES(hugetlb_lock_);
  // add_hugetlb_folio(): (re)enters a folio into the pool, on the free list.
  void add_hugetlb_folio(Pfn head, bool adjust_surplus) EXCLUDES(hugetlb_lock_);
  void note_optimized(uint64_t vmemmap_pages_freed);
  void note_restored(uint64_t vmemmap_pages_allocated);
  void note_restore_failure();
  // For demote (hugetlb_demote.cc). The pool lets go of a removed source
  // before its frames become the destinations' (its head becomes the first
  // destination's head).
  void forget_demoted_folio(Pfn head) EXCLUDES(hugetlb_lock_);
  // prep_and_add_allocated_folios()'s locked part: __prep_account_new_huge_page()
  // and enqueue_hugetlb_folio() of each folio, frozen at refcount 0, in one
  // hold of hugetlb_lock.
  void add_allocated_folios(const std::vector<Pfn>& heads) EXCLUDES(hugetlb_lock_);

  void plant_for_test(PoolPlantedBug bug) { planted_ = bug; }
  // A checker's look at every folio taken off the free list (by an owner's
  // dequeue, a shrink, a dissolve), made under hugetlb_lock at that moment:
  // what the free list hands out must be a finished folio. Host-side only
  // (no schedule point, no lock, nothing that reads through the MMU), so
  // the schedules stay those of a run without it. Set before any CPU runs.
  using UnlinkFreeObserver = std::function<void(Pfn head)>;
  void set_unlink_free_observer(UnlinkFreeObserver o) { unlink_free_observer_ = std::move(o); }

  // --- observation -----------------------------------------------------------
  [[nodiscard]] PoolCounters counters() const EXCLUDES(hugetlb_lock_);
  [[nodiscard]] VmemmapStats vmemmap_stats() const;
  [[nodiscard]] std::vector<FolioSnapshot> folios() const EXCLUDES(hugetlb_lock_);
  // The state of the pool folio at `head`, nullopt when the pool has none
  // there (get_huge_page_for_hwpoison()'s folio_test_hugetlb_freed() /
  // folio_test_hugetlb_migratable(), read under hugetlb_lock).
  [[nodiscard]] std::optional<FolioState> folio_state(Pfn head) const REQUIRES(hugetlb_lock_);
  // The head of the pool folio containing pfn, whatever its state.
  [[nodiscard]] std::optional<FolioSnapshot> folio_of(Pfn pfn) const EXCLUDES(hugetlb_lock_);
  // memory_failure()'s record of the poison it handled (hwpoison_ledger.h):
  // the models report to it; free_folio_frames() checks that each kept
  // poison of the frames it frees is on its raw page and retires them;
  // alloc_hugetlb_folio() skips a folio with one being handled or kept.
  [[nodiscard]] HwpoisonLedger& hwpoison() { return hwpoison_; }
  [[nodiscard]] const HwpoisonLedger& hwpoison() const { return hwpoison_; }
  // pool-counters invariant: the counters match the folio states; and the
  // overcommit-limit invariant (PoolCounters::overcommitted, allowance).
  [[nodiscard]] bool check_counters() const EXCLUDES(hugetlb_lock_);

  [[nodiscard]] const Hstate& hstate() const { return hstate_; }
  [[nodiscard]] Machine& machine() const { return machine_; }
  [[nodiscard]] StructPageAccess& pages() const { return machine_.pages(); }
  SpinLock& hugetlb_lock() RETURN_CAPABILITY(hugetlb_lock_) { return hugetlb_lock_; }
  // h->resize_lock: demote_free_hugetlb_folios() takes the target's.
  Mutex& resize_lock() RETURN_CAPABILITY(resize_lock_) { return resize_lock_; }
  // The pool of this hstate's demote target (2 MiB for 1 GiB), sharing
  // hugetlb_lock; nullptr for a hstate that cannot be demoted.
  [[nodiscard]] HugetlbPool* demote_pool() const { return demote_pool_.get(); }

 private:
  // One more persistent folio: allocate, let the model prepare it, enqueue.
  bool alloc_pool_folio() EXCLUDES(hugetlb_lock_);
  // set_max_huge_pages()'s growth up to `count` persistent folios: one
  // folio at a time (before 6.7), or every folio allocated first and
  // prep_and_add_allocated_folios() of the list (6.7+).
  void grow_one_at_a_time(uint64_t count) REQUIRES(resize_lock_) EXCLUDES(hugetlb_lock_);
  void grow_in_batches(uint64_t count) REQUIRES(resize_lock_) EXCLUDES(hugetlb_lock_);
  // set_max_huge_pages()'s shrink to `count`: the free folios gathered in
  // one hold of hugetlb_lock, then update_and_free_pages_bulk().
  void shrink(uint64_t count) REQUIRES(resize_lock_) EXCLUDES(hugetlb_lock_);
  // The demote target's pool: same machine and model, the source's lock.
  HugetlbPool(Machine& machine, const Hstate& hstate, HugetlbVmemmapOps& ops, SpinLock& shared_lock);
  // add_hugetlb_folio() with hugetlb_lock held.
  void add_hugetlb_folio_locked(Pfn head, bool adjust_surplus) REQUIRES(hugetlb_lock_);
  // demote_pool_huge_page()'s first half: up to nr free folios that are not
  // hwpoisoned, removed (not surplus). Empty when all are poisoned.
  [[nodiscard]] std::vector<Pfn> remove_folios_for_demote(uint64_t nr) REQUIRES(hugetlb_lock_);
  // enqueue_hugetlb_folio() / dequeue: the free list is LIFO like the kernel's.
  void enqueue(Pfn head) REQUIRES(hugetlb_lock_);
  void unlink_free(Pfn head) REQUIRES(hugetlb_lock_);
  // remove_hugetlb_folio(): off the lists and out of the counters.
  void remove_hugetlb_folio(Pfn head, bool adjust_surplus) REQUIRES(hugetlb_lock_);
  [[nodiscard]] uint64_t persistent() const REQUIRES(hugetlb_lock_) {
    return counters_.nr_huge_pages - counters_.surplus_huge_pages;
  }
  // The overcommit bookkeeping (PoolCounters::surplus_allowance), after
  // surplus_huge_pages changed: by a fault, by another path, or down.
  void note_fault_surplus() REQUIRES(hugetlb_lock_);
  void note_other_surplus() REQUIRES(hugetlb_lock_);
  void note_surplus_down() REQUIRES(hugetlb_lock_);
  // hwpoison-conservation as a folio's frames leave the pool: each poison it
  // kept shows PG_hwpoison on its raw page (folio_clear_hugetlb_hwpoison()
  // moved it there), or it would reach buddy as a healthy page.
  void check_kept_poison_moved(Pfn head);
  // Hands a removed folio to the model's update_and_free; false if it failed.
  bool free_removed_folio(Pfn head) EXCLUDES(hugetlb_lock_);

  Machine& machine_;
  const Hstate hstate_;
  HugetlbVmemmapOps& ops_;
  // The pool of a top-level hstate owns hugetlb_lock; a demote target's
  // pool refers to its source's.
  std::unique_ptr<SpinLock> own_lock_;
  SpinLock& hugetlb_lock_;
  // struct hstate's resize_lock, taken before hugetlb_lock.
  Mutex resize_lock_ ACQUIRED_BEFORE(hugetlb_lock_);
  PoolCounters counters_ GUARDED_BY(hugetlb_lock_);
  uint64_t nr_overcommit_huge_pages_ GUARDED_BY(hugetlb_lock_) = 0;
  HwpoisonLedger hwpoison_;
  PoolPlantedBug planted_ = PoolPlantedBug::kNone;  // set before any CPU runs
  UnlinkFreeObserver unlink_free_observer_;         // set before any CPU runs
  // Folios being dissolved, with the adjust_surplus their removal used: if
  // the model's update_and_free cannot restore one, it goes back as it
  // left, as dissolve_free_hugetlb_folio()'s own "add_hugetlb_folio(h,
  // folio, adjust_surplus); h->max_huge_pages++;" puts it, not as the
  // surplus folio that
  // __update_and_free_hugetlb_folio()'s failure makes for its other
  // callers (add_hugetlb_folio_locked() reads this).
  std::map<Pfn, bool> dissolving_ GUARDED_BY(hugetlb_lock_);
  std::vector<Pfn> free_list_ GUARDED_BY(hugetlb_lock_);
  struct FolioRecord {
    FolioState state;
    uint64_t generation;
  };
  // Sets a folio's state; a folio entering the pool gets a new generation.
  void set_folio_state(Pfn head, FolioState state) REQUIRES(hugetlb_lock_);
  std::map<Pfn, FolioRecord> folios_ GUARDED_BY(hugetlb_lock_);
  uint64_t next_generation_ GUARDED_BY(hugetlb_lock_) = 1;

  std::atomic<uint64_t> optimized_{0}, restored_{0}, restore_failures_{0};
  std::atomic<uint64_t> pages_freed_{0}, pages_allocated_{0};
  std::atomic<uint64_t> demoted_{0};
  // Last: it refers to hugetlb_lock_, which must outlive it.
  std::unique_ptr<HugetlbPool> demote_pool_;
};

}  // namespace hvo
