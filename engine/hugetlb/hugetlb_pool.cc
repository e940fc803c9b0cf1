#include "engine/hugetlb/hugetlb_pool.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/coverage.h"
#include "engine/hugetlb/compound_page.h"
#include "engine/struct_page_peek.h"
#include "engine/task.h"

namespace hvo {

namespace {
// One lockdep class per hstate, as the kernel's
// __mutex_init(&h->resize_lock, "resize mutex", &h->resize_key): demote
// holds the source's and then the target's, which one class would report
// as recursive locking.
LockClass& resize_lock_class(Machine& machine, const Hstate& h) {
  return machine.lockdep().register_class(fmt::format("{}->resize_lock", h.name), LockKind::kMutex);
}
}  // namespace

HugetlbPool::HugetlbPool(Machine& machine, const Hstate& hstate, HugetlbVmemmapOps& ops)
    : machine_(machine),
      hstate_(hstate),
      ops_(ops),
      own_lock_(std::make_unique<SpinLock>(machine.lockdep().register_class("hugetlb_lock", LockKind::kSpin))),
      hugetlb_lock_(*own_lock_),
      resize_lock_(resize_lock_class(machine, hstate)) {
  // x86-64's 1 GiB hstate demotes to 2 MiB (demote_size defaults to the
  // next smaller hstate); 2 MiB has nothing below it to demote to.
  if (hstate_.gigantic())
    demote_pool_ = std::unique_ptr<HugetlbPool>(new HugetlbPool(machine, kHstate2M, ops, hugetlb_lock_));
}

HugetlbPool::HugetlbPool(Machine& machine, const Hstate& hstate, HugetlbVmemmapOps& ops, SpinLock& shared_lock)
    : machine_(machine),
      hstate_(hstate),
      ops_(ops),
      hugetlb_lock_(shared_lock),
      resize_lock_(resize_lock_class(machine, hstate)) {}

// --- the free list and the counters ------------------------------------------

void HugetlbPool::set_folio_state(Pfn head, FolioState state) {
  hugetlb_lock_.AssertHeld();
  auto it = folios_.find(head);
  if (it == folios_.end() || it->second.state == FolioState::kRemoved) {
    folios_[head] = FolioRecord{state, next_generation_++};
    return;
  }
  it->second.state = state;
}

void HugetlbPool::enqueue(Pfn head) {
  hugetlb_lock_.AssertHeld();
  free_list_.push_back(head);
  set_folio_state(head, FolioState::kFree);
  ++counters_.free_huge_pages;
}

void HugetlbPool::unlink_free(Pfn head) {
  hugetlb_lock_.AssertHeld();
  auto it = std::find(free_list_.begin(), free_list_.end(), head);
  HVO_CHECK(it != free_list_.end(), "free folio missing from the free list");
  if (unlink_free_observer_) unlink_free_observer_(head);
  free_list_.erase(it);
  --counters_.free_huge_pages;
}

void HugetlbPool::remove_hugetlb_folio(Pfn head, bool adjust_surplus) {
  hugetlb_lock_.AssertHeld();
  --counters_.nr_huge_pages;
  if (adjust_surplus) {
    --counters_.surplus_huge_pages;
    note_surplus_down();
  }
  set_folio_state(head, FolioState::kRemoved);
}

void HugetlbPool::add_hugetlb_folio(Pfn head, bool adjust_surplus) {
  SpinLockGuard g(hugetlb_lock_);
  add_hugetlb_folio_locked(head, adjust_surplus);
}

void HugetlbPool::add_hugetlb_folio_locked(Pfn head, bool adjust_surplus) {
  hugetlb_lock_.AssertHeld();
  HVO_CHECK(folios_.count(head) == 0 || folios_.at(head).state == FolioState::kRemoved,
            "add_hugetlb_folio of a folio already in the pool");
  if (auto it = dissolving_.find(head); it != dissolving_.end()) {
    adjust_surplus = it->second;  // dissolve's "add_hugetlb_folio(h, folio, adjust_surplus)"
    dissolving_.erase(it);
    ++counters_.max_huge_pages;  // "h->max_huge_pages++;"
  }
  ++counters_.nr_huge_pages;
  if (adjust_surplus) {
    ++counters_.surplus_huge_pages;
    note_other_surplus();
  }
  enqueue(head);
}

// The overcommit limit is what a fault checks (alloc_surplus_hugetlb_folio());
// surplus from elsewhere may stand above it, and only a fault's increment
// past the allowance breaks it.
void HugetlbPool::note_fault_surplus() {
  hugetlb_lock_.AssertHeld();
  PoolCounters& c = counters_;
  if (c.surplus_huge_pages > c.surplus_allowance)
    c.overcommitted = std::max(c.overcommitted, c.surplus_huge_pages - c.surplus_allowance);
}

void HugetlbPool::note_other_surplus() {
  hugetlb_lock_.AssertHeld();
  counters_.surplus_allowance = std::max(counters_.surplus_allowance, counters_.surplus_huge_pages);
}

void HugetlbPool::note_surplus_down() {
  hugetlb_lock_.AssertHeld();
  counters_.surplus_allowance =
      std::max(nr_overcommit_huge_pages_, std::min(counters_.surplus_allowance, counters_.surplus_huge_pages));
}

// --- growing ---------------------------------------------------------------------

std::optional<Pfn> HugetlbPool::alloc_fresh_folio_frames(Gfp gfp) {
  BuddyAllocator& buddy = machine_.buddy();
  std::optional<Pfn> head = hstate_.gigantic()
                                ? buddy.alloc_contig_pages(gfp, hstate_.nr_pages(), FrameState::kHugetlbData)
                                : buddy.alloc_pages(gfp, hstate_.order, FrameState::kHugetlbData);
  if (!head) {
    note_error_path(error_path::kHugepageAlloc);
    return std::nullopt;
  }
  // post_alloc_hook(): set_page_refcounted() on the head; the tails keep
  // the 0 they had as free pages.
  pages().store32(*head, PageWord32::kRefcount, 1);
  prep_compound_page(pages(), *head, hstate_.order);
  return head;
}

std::optional<Pfn> HugetlbVmemmapOps::alloc_fresh_hugetlb_folio(HugetlbPool& pool, Gfp gfp) {
  return pool.alloc_fresh_folio_frames(gfp);
}

bool HugetlbPool::alloc_pool_folio() {
  OperationScope op("alloc_fresh_hugetlb_folio");
  // GFP for a pool page: __GFP_COMP | __GFP_RETRY_MAYFAIL | __GFP_NOWARN.
  std::optional<Pfn> head = ops_.alloc_fresh_hugetlb_folio(*this, Gfp::kKernel | Gfp::kRetryMayFail | Gfp::kNoWarn);
  if (!head) return false;
  const bool unreferenced = ops_.prep_new_hugetlb_folio(*this, *head);
  SpinLockGuard g(hugetlb_lock_);
  // __prep_account_new_huge_page(), then free_huge_folio()'s enqueue when
  // the allocation's reference was the last one; otherwise the holder of
  // the other reference frees it into the pool with its put_page().
  ++counters_.nr_huge_pages;
  if (unreferenced)
    enqueue(*head);
  else
    set_folio_state(*head, FolioState::kInUse);
  return true;
}

uint64_t HugetlbPool::set_max_huge_pages(uint64_t count) {
  OperationScope op("set_max_huge_pages");
  // "resize_lock mutex prevents concurrent adjustments to number of pages
  // in hstate via the proc/sysfs interfaces": held to the end, the vmemmap
  // work of the shrink and the growth included. Only the fault-time
  // surplus allocation and a surplus folio's free run HVO beside it.
  MutexGuard resize(resize_lock_);
  shrink(count);
  if (ops_.pool_allocates_in_batches())
    grow_in_batches(count);
  else
    grow_one_at_a_time(count);
  // Not modelled: the kernel's last step, adjust_pool_surplus(h,
  // nodes_allowed, 1) while count < persistent_huge_pages(h), which counts
  // folios in use above the count as surplus. It runs after the lock was
  // dropped for update_and_free_pages_bulk(), so a folio freed meanwhile
  // (enqueued) can be counted too: a free folio counted as surplus. Folios
  // in use above the count stay persistent here until the next resize.
  // Free surplus folios exist anyway: a folio whose vmemmap could not be
  // restored comes back as one, which dissolve takes out as surplus (the
  // 2025 fix, in dissolve_free_hugetlb_folio()); without it fault injection
  // finds the count left above nr_huge_pages, as on the kernels before it.
  SpinLockGuard g(hugetlb_lock_);
  counters_.max_huge_pages = persistent();  // "h->max_huge_pages = persistent_huge_pages(h);"
  return counters_.nr_huge_pages;
}

void HugetlbPool::shrink(uint64_t count) {
  resize_lock_.AssertHeld();
  std::vector<Pfn> page_list;
  {
    SpinLockGuard g(hugetlb_lock_);
    // Surplus folios count towards a larger target first (adjust_pool_surplus).
    while (counters_.surplus_huge_pages > 0 && persistent() < count) {
      --counters_.surplus_huge_pages;
      note_surplus_down();
    }
    // "Collect pages to be removed on list without dropping lock": free
    // folios go, and so do free surplus ones (remove_pool_hugetlb_folio()
    // + return_unused_surplus_pages()).
    while (!free_list_.empty() && (persistent() > count || counters_.surplus_huge_pages > 0)) {
      const Pfn head = free_list_.back();
      const bool surplus = persistent() <= count;
      unlink_free(head);
      remove_hugetlb_folio(head, surplus);
      page_list.push_back(head);
    }
  }
  if (page_list.empty()) return;
  // "free the pages after dropping lock": update_and_free_pages_bulk()
  // restores vmemmap, which allocates and may sleep.
  OperationScope bulk("update_and_free_pages_bulk");
  ops_.update_and_free_pages_bulk(*this, page_list);
  HVO_CHECK(page_list.empty(), "update_and_free_pages_bulk left folios on its list");
}

void HugetlbPool::grow_one_at_a_time(uint64_t count) {
  resize_lock_.AssertHeld();
  for (;;) {
    {
      SpinLockGuard g(hugetlb_lock_);
      if (persistent() >= count) return;
    }
    if (!alloc_pool_folio()) return;
  }
}

void HugetlbPool::grow_in_batches(uint64_t count) {
  resize_lock_.AssertHeld();
  std::vector<Pfn> page_list;
  for (;;) {
    {
      SpinLockGuard g(hugetlb_lock_);
      // while (count > (persistent_huge_pages(h) + allocated)): the folios
      // on page_list are not in the counters until they are added.
      if (persistent() + page_list.size() >= count) break;
    }
    OperationScope alloc("alloc_pool_huge_folio");
    // GFP for a pool page: __GFP_COMP | __GFP_RETRY_MAYFAIL | __GFP_NOWARN.
    const std::optional<Pfn> head =
        ops_.alloc_pool_huge_folio(*this, Gfp::kKernel | Gfp::kRetryMayFail | Gfp::kNoWarn);
    // "if (!folio) { prep_and_add_allocated_folios(h, &page_list); goto out; }":
    // what was allocated still joins the pool.
    if (!head) break;
    page_list.push_back(*head);
  }
  if (page_list.empty()) return;
  // list_add(&folio->lru, &page_list) puts each at the list's head: the
  // batch runs last-allocated first.
  std::reverse(page_list.begin(), page_list.end());
  OperationScope prep("prep_and_add_allocated_folios");
  ops_.prep_and_add_allocated_folios(*this, page_list);
}

bool HugetlbPool::free_removed_folio(Pfn head) {
  OperationScope op("update_and_free_hugetlb_folio");
  // On failure the model has put the folio back (add_hugetlb_folio); on
  // success free_folio_frames() has forgotten it.
  return ops_.update_and_free_hugetlb_folio(*this, head);
}

void HugetlbVmemmapOps::update_and_free_pages_bulk(HugetlbPool& pool, std::vector<Pfn>& folio_list) {
  // Before 6.7: "list_for_each_entry_safe(page, t_page, list, lru) {
  // update_and_free_page(h, page, false); cond_resched(); }".
  for (Pfn head : folio_list) {
    OperationScope op("update_and_free_hugetlb_folio");
    (void)update_and_free_hugetlb_folio(pool, head);
  }
  folio_list.clear();
}

std::optional<Pfn> HugetlbVmemmapOps::alloc_pool_huge_folio(HugetlbPool& pool, Gfp gfp) {
  return alloc_fresh_hugetlb_folio(pool, gfp);
}

void HugetlbVmemmapOps::prep_and_add_allocated_folios(HugetlbPool& pool, const std::vector<Pfn>& folio_list) {
  static_cast<void>(pool);
  static_cast<void>(folio_list);
  HVO_CHECK(false, "prep_and_add_allocated_folios() of a model that does not allocate in batches");
}

void HugetlbPool::free_folio_frames(Pfn head) {
  {
    // The pool lets go of the folio before its frames can reach buddy:
    // once there, they may come straight back as a new folio at this head.
    SpinLockGuard g(hugetlb_lock_);
    auto it = folios_.find(head);
    HVO_CHECK(it != folios_.end() && it->second.state == FolioState::kRemoved,
              "freeing the frames of a folio still in the pool");
    folios_.erase(it);
    dissolving_.erase(head);
  }
  // The model moved any poison to its raw page (folio_clear_hugetlb_hwpoison(),
  // hwpoison_subpage_deliver()); memory_failure's take_page_off_buddy()
  // keeps that page out of the allocator, which the simulation leaves to
  // the ledger: the poison is retired with the folio.
  if (!hwpoison_.empty()) check_kept_poison_moved(head);
  hwpoison_.retire_range(head, hstate_.nr_pages());
  // __free_pages(): put_page_testzero() of the reference the model's
  // set_page_refcounted() gave. A speculative holder keeps the compound
  // page alive; its put_page() frees it (free_compound_page()).
  const RmwResult<int32_t> put = pages().add_return32(head, PageWord32::kRefcount, -1);
  if (!put.ok || put.value != 0) return;
  free_compound_page(pages(), machine_.buddy(), machine_.violations(), head);
}

void HugetlbPool::check_kept_poison_moved(Pfn head) {
  // Host-side reads (no schedule point): a check, not the kernel's code.
  for (Pfn raw : hwpoison_.kept_pages_in(head, hstate_.nr_pages())) {
    if (peek_page_flag(machine_, raw, PG_hwpoison)) continue;
    Violation v = make_violation(
        ViolationKind::kInvariantBroken,
        fmt::format("folio {:#x} kept the poison of pfn {:#x} but its frames leave the pool with the raw page not "
                    "showing PG_hwpoison{}: the poisoned page reaches buddy as a healthy one",
                    head.value(), raw.value(),
                    peek_page_flag(machine_, head, PG_hwpoison) ? " (the head still does)" : ""));
    v.invariant = Invariant::kHwpoisonConservation;
    v.pfn = raw;
    machine_.violations().record(std::move(v));
  }
}

// --- owners ---------------------------------------------------------------------

std::optional<Pfn> HugetlbPool::alloc_hugetlb_folio() {
  OperationScope op("alloc_hugetlb_folio");
  {
    SpinLockGuard g(hugetlb_lock_);
    // dequeue_hugetlb_folio_node_exact(): the most recently freed first,
    // "if (folio_test_hwpoison(folio)) continue;": a folio whose poison is
    // being handled or that kept one (in use when poisoned, or its dissolve
    // failed) is never handed out. Host-side: the ledger, not a struct page
    // read, so no schedule point is added.
    auto it = free_list_.rbegin();
    if (!hwpoison_.empty())
      while (it != free_list_.rend() && hwpoison_.poisoned_in(*it, hstate_.nr_pages())) ++it;
    if (it != free_list_.rend()) {
      const Pfn head = *it;
      unlink_free(head);
      set_folio_state(head, FolioState::kInUse);
      // folio_ref_unfreeze(folio, 1) / set_page_refcounted(), under the lock.
      // release: folio_ref_unfreeze() is atomic_set_release(), the partner of
      // the acquire load of _refcount in page_ref_add_unless() (6.x): a
      // speculative walker that sees the count see what came before it.
      pages().store32(head, PageWord32::kRefcount, 1, std::memory_order_release);
      return head;
    }
  }
  // "if (!folio) { spin_unlock_irq(&hugetlb_lock);
  // folio = alloc_buddy_hugetlb_folio_with_mpol(h, vma, addr);": nothing
  // free (no reservation is modelled), so a surplus folio if the overcommit
  // limit allows one.
  const std::optional<Pfn> head = alloc_surplus_hugetlb_folio();
  if (!head) return std::nullopt;
  SpinLockGuard g(hugetlb_lock_);
  // "spin_lock_irq(&hugetlb_lock); list_add(&folio->lru,
  // &h->hugepage_activelist); folio_ref_unfreeze(folio, 1);" (6.x; before,
  // the surplus page kept the allocation's reference, which the model's
  // preparation has put, so it is set again here). Release as above.
  pages().store32(*head, PageWord32::kRefcount, 1, std::memory_order_release);
  return head;
}

std::optional<Pfn> HugetlbPool::alloc_surplus_hugetlb_folio() {
  OperationScope op("alloc_surplus_hugetlb_folio");
  // "if (hstate_is_gigantic(h)) return NULL;"
  if (hstate_.gigantic()) return std::nullopt;
  {
    SpinLockGuard g(hugetlb_lock_);
    if (counters_.surplus_huge_pages >= nr_overcommit_huge_pages_ && planted_ != PoolPlantedBug::kIgnoreOvercommit)
      return std::nullopt;
  }
  // alloc_fresh_hugetlb_folio() with hugetlb_lock dropped and no
  // resize_lock: the allocation and the folio's own HVO (the model's
  // prep_new_hugetlb_folio(), as a per-folio grow runs it), concurrent with
  // a resize's and with other faults'.
  // GFP: alloc_buddy_hugetlb_folio() adds __GFP_COMP | __GFP_RETRY_MAYFAIL |
  // __GFP_NOWARN to the fault's htlb_alloc_mask(), as for a pool page.
  const std::optional<Pfn> head =
      ops_.alloc_fresh_hugetlb_folio(*this, Gfp::kKernel | Gfp::kRetryMayFail | Gfp::kNoWarn);
  if (!head) return std::nullopt;
  const bool unreferenced = ops_.prep_new_hugetlb_folio(*this, *head);
  bool temporary = false;
  {
    SpinLockGuard g(hugetlb_lock_);
    // "nr_huge_pages needs to be adjusted within the same lock cycle as
    // surplus_pages": __prep_account_new_huge_page().
    ++counters_.nr_huge_pages;
    set_folio_state(*head, FolioState::kInUse);
    if (!unreferenced) {
      // A speculative reference outlived the preparation, which put the
      // allocation's own (the model's prep_new_hugetlb_folio()): the folio
      // is the holder's until its put_page(), whose free_huge_folio() sheds
      // it as surplus. The fault gets nothing.
      ++counters_.surplus_huge_pages;
      note_fault_surplus();
      return std::nullopt;
    }
    // "We could have raced with the pool size change. Double check that
    // and simply deallocate the new page if we would end up overcommiting
    // the surpluses. Abuse temporary page to workaround the nasty
    // free_huge_folio codeflow": free_huge_folio() of a temporary folio is
    // remove_hugetlb_folio(h, folio, false) and update_and_free_hugetlb_folio().
    if (counters_.surplus_huge_pages >= nr_overcommit_huge_pages_ && planted_ == PoolPlantedBug::kNone) {
      remove_hugetlb_folio(*head, /*adjust_surplus=*/false);
      temporary = true;
    } else {
      ++counters_.surplus_huge_pages;
      note_fault_surplus();
    }
  }
  if (!temporary) return head;
  // If its vmemmap cannot be restored, update_and_free_hugetlb_folio()
  // keeps it in the pool as a free surplus folio, as the kernel does.
  (void)free_removed_folio(*head);
  return std::nullopt;
}

void HugetlbPool::set_nr_overcommit_huge_pages(uint64_t n) {
  // hugetlb_overcommit_handler(): "spin_lock_irq(&hugetlb_lock);
  // h->nr_overcommit_huge_pages = tmp;"
  SpinLockGuard g(hugetlb_lock_);
  nr_overcommit_huge_pages_ = n;
  counters_.nr_overcommit_huge_pages = n;
  // Lowered below the surplus: "the surplus pages will be freed as they're
  // released" (set_max_huge_pages()'s comment); until then they stand.
  counters_.surplus_allowance = std::max(n, counters_.surplus_huge_pages);
}

uint64_t HugetlbPool::nr_overcommit_huge_pages() const {
  SpinLockGuard g(hugetlb_lock_);
  return nr_overcommit_huge_pages_;
}

void HugetlbPool::free_huge_folio(Pfn head) {
  OperationScope op("free_huge_folio");
  bool shed = false;
  {
    SpinLockGuard g(hugetlb_lock_);
    auto it = folios_.find(head);
    if (it == folios_.end() || it->second.state != FolioState::kInUse) {
      // The last reference of a folio the pool holds as free (or has taken
      // out) was put: a reference the pool never handed out, e.g. a
      // speculative get_page_unless_zero() on a folio that was not frozen
      // (2b21624fc232). The kernel would enqueue it twice and corrupt the
      // free list (or trip free_huge_folio()'s VM_BUG_ON_FOLIO on the
      // refcount); here it is a finding, and the pool is left as it was.
      Violation v = make_violation(
          ViolationKind::kBadPageState,
          fmt::format("free_huge_folio() of folio {:#x}, which the pool holds as {}: its refcount reached 0 by a "
                      "reference the pool never handed out",
                      head.value(), it == folios_.end() ? "unknown" : it->second.state == FolioState::kFree ? "free" : "removed"));
      v.invariant = Invariant::kStructPageContents;
      machine_.violations().record(std::move(v));
      return;
    }
    if (counters_.surplus_huge_pages > 0) {
      // "remove the page from active list": remove_hugetlb_folio(h, folio,
      // true), then, with the lock dropped and no resize_lock,
      // update_and_free_hugetlb_folio(h, folio, true): the vmemmap restore
      // runs concurrently with resizes (the kernel defers an optimized
      // folio's to free_hpage_workfn(), a worker, which does the same).
      remove_hugetlb_folio(head, /*adjust_surplus=*/true);
      shed = true;
    } else {
      enqueue(head);
    }
  }
  if (shed) (void)free_removed_folio(head);
}

DissolveResult HugetlbPool::dissolve_free_hugetlb_folio(Pfn pfn, const std::function<void(Pfn head)>& under_lock) {
  OperationScope op("dissolve_free_hugetlb_folio");
  Pfn head{0};
  {
    SpinLockGuard g(hugetlb_lock_);
    auto it = folios_.upper_bound(pfn);
    if (it == folios_.begin()) return DissolveResult::kNotHugetlb;
    --it;
    if (pfn - it->first >= hstate_.nr_pages()) return DissolveResult::kNotHugetlb;
    if (it->second.state != FolioState::kFree) return DissolveResult::kInUse;  // -EBUSY
    head = it->first;
    unlink_free(head);
    // "bool adjust_surplus = false; ... if (h->surplus_huge_pages_node[nid])
    // adjust_surplus = true;": Jinjiang Tu's "mm/hugetlb: fix surplus pages
    // in dissolve_free_huge_page()" (6.14, 2025; backported to the stable
    // trees), which every model carries as a later fix folded in. Before
    // it (the 5.x kernels, 6.x to 6.13) the removal and the re-add passed
    // false, so a free surplus folio left surplus_huge_pages behind, above
    // nr_huge_pages (docs/models.md). One node here.
    const bool adjust_surplus = counters_.surplus_huge_pages > 0;
    remove_hugetlb_folio(head, adjust_surplus);
    --counters_.max_huge_pages;  // "h->max_huge_pages--;"
    dissolving_[head] = adjust_surplus;
    if (under_lock) under_lock(head);
  }
  if (!free_removed_folio(head)) return DissolveResult::kRestoreFailed;  // put back persistent (dissolving_)
  return DissolveResult::kDissolved;
}

// --- statistics and observation ------------------------------------------------

void HugetlbPool::note_optimized(uint64_t freed) {
  optimized_.fetch_add(1, std::memory_order_relaxed);
  pages_freed_.fetch_add(freed, std::memory_order_relaxed);
}
void HugetlbPool::note_restored(uint64_t allocated) {
  restored_.fetch_add(1, std::memory_order_relaxed);
  pages_allocated_.fetch_add(allocated, std::memory_order_relaxed);
}
void HugetlbPool::note_restore_failure() {
  restore_failures_.fetch_add(1, std::memory_order_relaxed);
  note_error_path(error_path::kRestoreFailed);
}

void HugetlbPool::add_allocated_folios(const std::vector<Pfn>& heads) {
  SpinLockGuard g(hugetlb_lock_);
  for (Pfn head : heads) {
    HVO_CHECK(folios_.count(head) == 0 || folios_.at(head).state == FolioState::kRemoved,
              "a new folio's head is already in the pool");
    ++counters_.nr_huge_pages;  // __prep_account_new_huge_page()
    enqueue(head);              // enqueue_hugetlb_folio()
  }
}

VmemmapStats HugetlbPool::vmemmap_stats() const {
  VmemmapStats s;
  s.optimized = optimized_.load(std::memory_order_relaxed);
  s.restored = restored_.load(std::memory_order_relaxed);
  s.restore_failures = restore_failures_.load(std::memory_order_relaxed);
  s.pages_freed = pages_freed_.load(std::memory_order_relaxed);
  s.pages_allocated = pages_allocated_.load(std::memory_order_relaxed);
  s.pages_saved_now = s.pages_freed - std::min(s.pages_freed, s.pages_allocated);
  s.demoted = demoted_.load(std::memory_order_relaxed);
  return s;
}

PoolCounters HugetlbPool::counters() const {
  SpinLockGuard g(hugetlb_lock_);
  return counters_;
}

std::vector<FolioSnapshot> HugetlbPool::folios() const {
  SpinLockGuard g(hugetlb_lock_);
  std::vector<FolioSnapshot> out;
  out.reserve(folios_.size());
  for (const auto& [head, rec] : folios_) out.push_back(FolioSnapshot{head, rec.state, rec.generation});
  return out;
}

std::optional<FolioState> HugetlbPool::folio_state(Pfn head) const {
  hugetlb_lock_.AssertHeld();
  auto it = folios_.find(head);
  if (it == folios_.end()) return std::nullopt;
  return it->second.state;
}

std::optional<FolioSnapshot> HugetlbPool::folio_of(Pfn pfn) const {
  SpinLockGuard g(hugetlb_lock_);
  auto it = folios_.upper_bound(pfn);
  if (it == folios_.begin()) return std::nullopt;
  --it;
  if (pfn - it->first >= hstate_.nr_pages()) return std::nullopt;
  return FolioSnapshot{it->first, it->second.state, it->second.generation};
}

bool HugetlbPool::check_counters() const {
  PoolCounters c;
  uint64_t in_pool = 0, free = 0;
  {
    SpinLockGuard g(hugetlb_lock_);
    c = counters_;
    for (const auto& [head, rec] : folios_) {
      in_pool += rec.state != FolioState::kRemoved;
      free += rec.state == FolioState::kFree;
    }
    if (free != free_list_.size()) free = ~uint64_t{0};
  }
  // overcommit-limit, from the same snapshot (one hold of the lock for both).
  const bool overcommit_ok = c.overcommitted == 0 && c.surplus_huge_pages <= c.surplus_allowance;
  if (!overcommit_ok) {
    Violation v = make_violation(
        ViolationKind::kInvariantBroken,
        fmt::format("{} surplus hugepages of {} with nr_overcommit_hugepages {} (allowance {}): a fault went {} past it",
                    c.surplus_huge_pages, hstate_.size_name, c.nr_overcommit_huge_pages, c.surplus_allowance,
                    c.overcommitted));
    v.invariant = Invariant::kOvercommitLimit;
    machine_.violations().record(std::move(v));
  }
  if (c.nr_huge_pages == in_pool && c.free_huge_pages == free && c.surplus_huge_pages <= c.nr_huge_pages)
    return overcommit_ok;
  Violation v = make_violation(ViolationKind::kInvariantBroken,
                               fmt::format("pool counters nr {} free {} surplus {} but the pool holds {} folios, {} free",
                                           c.nr_huge_pages, c.free_huge_pages, c.surplus_huge_pages, in_pool, free));
  v.invariant = Invariant::kPoolCounters;
  machine_.violations().record(std::move(v));
  return false;
}

}  // namespace hvo
