#include "stress/actors.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/struct_page.h"
#include "engine/task.h"
#include "models/v6_10/v6_10_model.h"
#include "stress/demote_actor.h"

namespace hvo::stress {

ActorCounters& ActorCounters::operator+=(const ActorCounters& o) {
  for (int i = 0; i < kNumActorKinds; ++i) ops[i] += o.ops[i];
  folios_owned += o.folios_owned;
  speculative_refs += o.speculative_refs;
  kpageflags_checked += o.kpageflags_checked;
  return *this;
}

ActorKind pick_actor(const Workload& w, Rng& rng) {
  const ActorWeights& weights =
      w.cpu_weights.empty() ? w.weights : w.cpu_weights[current().cpu.value() % w.cpu_weights.size()];
  const unsigned total = std::accumulate(weights.begin(), weights.end(), 0u);
  uint64_t r = rng.below(total);
  for (int i = 0; i < kNumActorKinds; ++i) {
    if (r < weights[i]) return static_cast<ActorKind>(i);
    r -= weights[i];
  }
  return ActorKind::kResizer;
}

void set_up_pool(const Workload& w, ActorWorld& world) {
  // echo N > nr_overcommit_hugepages: at most as many surplus hugepages as
  // the resizer's ceiling of persistent ones.
  if (w.overcommit)
    world.pool.set_nr_overcommit_huge_pages(w.overcommit_limit != 0 ? w.overcommit_limit : world.max_pool_pages);
}

namespace {

// Half of the pfns an actor picks lie in a pool folio (where HVO happens),
// the rest anywhere in memory.
Pfn pick_pfn(ActorWorld& w, Rng& rng) {
  if (rng.chance(50)) {
    const std::vector<FolioSnapshot> folios = w.pool.folios();
    if (!folios.empty()) {
      const FolioSnapshot& f = folios[rng.below(folios.size())];
      return f.head + rng.below(w.pool.hstate().nr_pages());
    }
  }
  return Pfn(rng.below(w.machine.mem().nr_frames()));
}

void resize(ActorWorld& w, Rng& rng) {
  OperationScope op("nr_hugepages_store");
  const uint64_t nr = w.pool.counters().nr_huge_pages;
  const int64_t delta = static_cast<int64_t>(rng.below(9)) - 4;
  const uint64_t target = std::clamp<int64_t>(static_cast<int64_t>(nr) + delta, 0,
                                              static_cast<int64_t>(w.max_pool_pages));
  (void)w.pool.set_max_huge_pages(target);
}

// alloc_hugetlb_folio() (which unfreezes the folio's refcount to 1) and
// what an owner does with it once mapped: get_page() and its writes to the
// head and first tails. The owner holds the folio until
// give_back_hugetlb_folio().
std::optional<Pfn> take_hugetlb_folio(ActorWorld& w, Rng& rng, ActorCounters& c) {
  std::optional<Pfn> head = w.pool.alloc_hugetlb_folio();
  if (!head) return std::nullopt;
  ++c.folios_owned;
  StructPageAccess& pages = w.machine.pages();
  pages.add_return32(*head, PageWord32::kRefcount, 1);  // get_page()
  // Mapping it: the compound mapcount lives in page[1] (folio->_entire_mapcount).
  pages.add_return32(*head + 1, PageWord32::kMapcount, 1);
  pages.set_flag(*head, PG_dirty);                            // set_page_dirty()
  pages.store(*head + 2, PageWord::kPrivate, rng.next() | 1);  // hugetlb cgroup pointer
  return head;
}

void give_back_hugetlb_folio(ActorWorld& w, Pfn head) {
  StructPageAccess& pages = w.machine.pages();
  pages.store(head + 2, PageWord::kPrivate, 0);
  pages.clear_flag(head, PG_dirty);
  pages.add_return32(head + 1, PageWord32::kMapcount, -1);
  w.model.put_page(w.pool, head);  // the extra reference
  w.model.put_page(w.pool, head);  // the allocation's: free_huge_folio() back to the pool
}

void own(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("hugetlb_owner");
  if (const std::optional<Pfn> head = take_hugetlb_folio(w, rng, c)) give_back_hugetlb_folio(w, *head);
}

// A process that faults a hugepage and keeps it mapped: the one it held from
// its last operation is unmapped first (its put: free_huge_folio() restores
// and frees a surplus one), then the fault (alloc_hugetlb_folio(): with none
// free and the workload overcommitting, alloc_surplus_hugetlb_folio() makes
// and optimizes one, no resize_lock), held past the operation. A scenario
// of one operation per CPU thus runs the fault's HVO alone, its restore
// left to the end of the campaign (release_held_folios()), and stays short.
void surplus_own(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("hugetlb_owner");
  const unsigned cpu = current().cpu.value();
  if (const std::optional<Pfn> before = w.held.exchange(cpu, std::nullopt)) give_back_hugetlb_folio(w, *before);
  (void)w.held.exchange(cpu, take_hugetlb_folio(w, rng, c));
}

// stable_page_flags() of one pfn, checked as the kernel's hugepage-vmemmap
// selftest checks it: a pool hugepage's head reads COMPOUND_HEAD|HUGE, every
// other pfn of it COMPOUND_TAIL|HUGE, never a head. Only a folio seen in the
// same pool state and generation before and after the reads is checked.
void walk_pfn(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("stable_page_flags");
  const Pfn pfn = pick_pfn(w, rng);
  const std::optional<FolioSnapshot> before = w.pool.folio_of(pfn);
  // KPF_COMPOUND_HEAD is PageHead(), KPF_COMPOUND_TAIL PageTail(): as the
  // model's generation computes them (fake heads included).
  const bool reads_head = w.model.page_head(pfn);
  const bool reads_tail = w.model.compound_head(pfn) != pfn;
  const bool huge = w.model.page_huge(pfn);
  const std::optional<FolioSnapshot> after = w.pool.folio_of(pfn);
  if (!before || !after || *before != *after || before->state == FolioState::kRemoved) return;
  ++c.kpageflags_checked;
  const uint64_t index = pfn - before->head;
  const bool ok = huge && (index == 0 ? reads_head : reads_tail && !reads_head);
  if (ok) return;
  Violation v = make_violation(
      ViolationKind::kInvariantBroken,
      fmt::format("kpageflags: pfn {:#x} (page {} of hugepage {:#x}) reads {}{}{}", pfn.value(), index,
                  before->head.value(), reads_head ? "COMPOUND_HEAD" : "", reads_tail ? "COMPOUND_TAIL" : "",
                  huge ? "|HUGE" : " (not HUGE)"));
  v.invariant = Invariant::kStructPageContents;
  v.pfn = pfn;
  v.address = pfn_to_page(pfn).value();
  w.machine.violations().record(std::move(v));
}

// A speculative PFN walker (compaction's isolate_migratepages_block(),
// page_idle, ...): it looks at a pfn, and only if it looks like a page it
// could use (an order-0 page, not part of a compound page, in use) does it
// try get_page_unless_zero() — a moment later, by which time the page may
// have been freed and reused (the race of bd225530a4c7).
void try_speculative_ref(ActorWorld& w, Pfn pfn, ActorCounters& c) {
  StructPageAccess& pages = w.machine.pages();
  const bool compound = (pages.flags(pfn) & page_flag(PG_head)) != 0 ||
                        is_tail_word(pages.load(pfn, PageWord::kCompoundHead));
  if (compound || pages.page_ref_count(pfn) == 0) return;
  if (!w.model.get_page_unless_zero(pfn)) return;
  ++c.speculative_refs;
  // What a PFN walker does with its reference: look at the page.
  (void)w.machine.pages().flags(pfn);
  w.model.put_page(w.pool, pfn);
}

void speculative_ref(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("speculative_ref");
  try_speculative_ref(w, pick_pfn(w, rng), c);
}

// Grows the pool by one hugepage (up to the ceiling). Two writes to
// nr_hugepages never overlap (resize_lock); its first HVO (and, from 5.18,
// the split of the vmemmap PMD) races with a fault's surplus folio's
// (alloc_surplus_hugetlb_folio()), with a surplus folio's restore, and
// with everything that does not resize.
void grow(ActorWorld& w) {
  OperationScope op("nr_hugepages_store");
  const uint64_t nr = w.pool.counters().nr_huge_pages;
  (void)w.pool.set_max_huge_pages(std::min(nr + 1, w.max_pool_pages));
}

// A pfn of a tail in some hugepage-sized block whose frames hold hugepage
// data: a pool folio, or one being made (not in the pool yet) or being torn
// down (out of it already). Falls back to pick_pfn() when there is none.
std::optional<Pfn> pick_huge_head(ActorWorld& w, Rng& rng) {
  const uint64_t n = w.pool.hstate().nr_pages();
  const uint64_t blocks = w.machine.mem().nr_frames() / n;
  std::vector<Pfn> heads;
  for (uint64_t b = 0; b < blocks; ++b)
    if (w.machine.mem().state(Pfn(b * n)) == FrameState::kHugetlbData) heads.push_back(Pfn(b * n));
  if (heads.empty()) return std::nullopt;
  return heads[rng.below(heads.size())];
}

Pfn pick_huge_tail(ActorWorld& w, Rng& rng) {
  const std::optional<Pfn> head = pick_huge_head(w, rng);
  if (!head) return pick_pfn(w, rng);
  return *head + (1 + rng.below(w.pool.hstate().nr_pages() - 1));
}

// A speculative PFN walker that takes its reference on whatever head it
// finds (compaction looking at a compound page), without first checking
// what the page is: get_page_unless_zero() then put_page().
void speculative_ref_head(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("speculative_ref");
  const std::optional<Pfn> head = pick_huge_head(w, rng);
  if (!head || !w.model.get_page_unless_zero(*head)) return;
  ++c.speculative_refs;
  (void)w.machine.pages().flags(*head);
  w.model.put_page(w.pool, *head);
}

// A PFN walker that stays on one hugepage-backed block (in the pool, being
// made or being torn down) and reads page->flags of random pfns of it, as a
// /proc/kpageflags or /proc/kpagecount reader looping over one hugepage
// does. Its CPU's TLB keeps the translations of the block's vmemmap pages
// between reads: if HVO remaps those pages and frees the old frames before
// the TLB flush (revert flush-before-free), the next read through a cached
// entry reaches a freed frame.
constexpr unsigned kBlockWalkerReads = 64;

void walk_block(ActorWorld& w, Rng& rng) {
  OperationScope op("kpageflags_read");
  const std::optional<Pfn> head = pick_huge_head(w, rng);
  if (!head) return;
  const uint64_t n = w.pool.hstate().nr_pages();
  for (unsigned i = 0; i < kBlockWalkerReads; ++i) (void)w.machine.pages().flags(*head + rng.below(n));
}

// pageblock_order on x86-64: HUGETLB_PAGE_ORDER, a 2 MiB block of 512
// pages, whatever the pool's hugepage size.
Order pageblock_order() { return kHstate2M.order; }

// The order-0 pages of an ordinary user: a pageblock allocated at once and
// split into 512 order-0 pages, each with its own reference (split_page(),
// as when a THP is split into base pages), then freed one by one. Once
// every page is back, the block merges again and the buddy allocator, which
// hands out the lowest free block, gives it to the next 2 MiB hugepage the
// pool allocates: that hugepage is made of the very pages this user had
// (the reuse of bd225530a4c7).
void use_order0_pages(ActorWorld& w) {
  OperationScope op("order0_user");
  const Order order = pageblock_order();
  const std::optional<Pfn> block = w.machine.page_alloc().alloc_pages(Gfp::kKernel, order, FrameState::kBuddy);
  if (!block) return;
  // split_page(): set_page_refcounted() of every page after the first.
  for (uint64_t i = 1; i < order.nr_pages(); ++i) w.machine.pages().store32(*block + i, PageWord32::kRefcount, 1);
  // put_page() of each: freed at 0, or by a speculative holder's put_page().
  for (uint64_t i = 0; i < order.nr_pages(); ++i) w.machine.page_alloc().free_pages(*block + i, Order(0));
}

// The first pfn of a pageblock that holds order-0 pages in use by an
// ordinary user (frames allocated from buddy for no other use), or nullopt
// when none does.
std::optional<Pfn> pick_order0_pageblock(ActorWorld& w, Rng& rng) {
  const uint64_t n = pageblock_order().nr_pages();
  const uint64_t blocks = w.machine.mem().nr_frames() / n;
  std::vector<Pfn> candidates;
  for (uint64_t b = 0; b < blocks; ++b) {
    for (uint64_t i = 0; i < n; ++i) {
      if (w.machine.mem().state(Pfn(b * n + i)) != FrameState::kBuddy) continue;
      candidates.push_back(Pfn(b * n));
      break;
    }
  }
  if (candidates.empty()) return std::nullopt;
  return candidates[rng.below(candidates.size())];
}

// Compaction's migrate scanner (isolate_migratepages_block()): over every
// pfn of a pageblock holding order-0 pages in use (any pageblock when none
// does: the scanner walks the zone whatever it holds), it looks at the page
// and takes a speculative reference on each that looks like an in-use
// order-0 page, then drops it (here, instead of isolating and migrating
// it). The reference is taken a moment after the look, and inside
// get_page_unless_zero() the cmpxchg a moment after the read of _refcount:
// the page may have been freed and become part of a hugepage by then.
void compaction_scan(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("isolate_migratepages_block");
  const uint64_t n = pageblock_order().nr_pages();
  const Pfn block = pick_order0_pageblock(w, rng).value_or(Pfn(rng.below(w.machine.mem().nr_frames() / n) * n));
  for (uint64_t i = 0; i < n; ++i) try_speculative_ref(w, block + i, c);
}

// Whether an optimized folio of this generation maps a tail's vmemmap page
// onto the head's (5.18-7.0: pages 1..7 alias page 0), so that an aligned
// tail reads PG_head: a "fake head".
bool has_fake_heads(const Model& m, const Hstate& h) {
  const std::vector<ExpectedVmemmapPage> shape = m.optimized_shape(h);
  for (size_t i = 1; i < shape.size(); ++i)
    if (shape[i].alias_of == 0) return true;
  return false;
}

// A PFN walker over one hugepage-backed block (in the pool, being made or
// being torn down: restored, destroyed, freed), as a /proc/kpageflags reader
// or a scanner resolving compound_head() of each pfn it meets. Its check is
// the compound page's shape, whatever the model's tail encoding: a pfn of
// the block other than its head reads either as a page of its own (not yet
// part of the compound page, or no longer) or as a tail whose
// compound_head() is the block's head, the only compound page that covers
// it; and it never reads as a head (PageHead()), except in a generation
// with fake heads: 5.18's PageHead() reads page->flags twice, so a reader
// racing a restore can see PG_head through the old read-only alias of the
// head and then no fake head through the new page (in the kernel too). A
// struct page read through a restored vmemmap page whose contents this CPU
// cannot see yet (its PTE visible before the copies: `restore-wmb`) shows
// whatever the frame held before: another folio's tails, or its head.
// Each read is checked only when the block stayed hugepage data of one
// generation across it (the frame's shadow state is the simulator's, not a
// memory access).
//
// A pfn reading as a page of its own passes, except, in a generation without
// fake heads, while the block is a complete hugetlb folio (with fake heads,
// 5.18's restore copies the head's vmemmap page, head included, into every
// restored page, and once the static key is off those copies read as pages of
// their own while PG_hugetlb is still set): from the moment it was in the
// pool (all its tails prepared and, the enqueue being under hugetlb_lock, in
// memory) until the head's PG_hugetlb is cleared, which every fixed
// generation does only after the vmemmap is restored (32c877191e02;
// d8f5f7e445f0 sets it only once the compound page is prepared), no tail of
// it is anything but a tail. So such a read is followed by smp_rmb() and a
// read of the head's flags, as page_folio() then folio_test_hugetlb() order
// them (7.1's stable_page_flags()): PG_hugetlb still set, with the block's
// generation unchanged, means the tail's zero came from before its copy, not
// from a teardown (free_compound_page() clears the tails after the flag is
// cleared, a release (spin_unlock()) between them). This is how 7.1's
// restore-wmb shows: its restored pages hold copies of a tail identical to
// the stale ones, or zeroes. Whether the folio was in the pool is ghost
// state, asked once per walk under the pool's lock (an acquire: the walk's
// loads see what the enqueue published). A folio still being made is not
// checked so: whether a weak-memory reader that sees its PG_hugetlb also sees
// its tails prepared depends on what the generation puts between the two
// (7.1: folio_ref_freeze()'s cmpxchg), and the check must not.
constexpr unsigned kCompoundWalkerReads = 48;

void walk_compound(ActorWorld& w, Rng& rng) {
  OperationScope op("kpageflags_read");
  const std::optional<Pfn> head = pick_huge_head(w, rng);
  if (!head) return;
  const uint64_t n = w.pool.hstate().nr_pages();
  const bool check_page_head = !has_fake_heads(w.model, w.pool.hstate());
  const uint32_t walk_start = w.machine.mem().shadow(*head);
  // Ghost: the block's folio entered the pool (it is there, or taken out
  // for freeing) in the generation the walk starts in. Not asked in a
  // generation with fake heads (see above).
  const bool complete_folio =
      check_page_head && w.pool.folio_of(*head).has_value() && w.machine.mem().shadow(*head) == walk_start;
  for (unsigned i = 0; i < kCompoundWalkerReads; ++i) {
    const Pfn pfn = *head + (1 + rng.below(n - 1));
    const uint32_t before = w.machine.mem().shadow(*head);
    const Pfn names = w.model.compound_head(pfn);
    const bool reads_head = check_page_head && w.model.page_head(pfn);
    bool own_page_of_hugetlb_folio = false;
    if (!reads_head && names == pfn && complete_folio && before == walk_start) {
      smp_rmb();  // the tail's read before the head's: stable_page_flags()'s page_folio(), folio_test_hugetlb()
      own_page_of_hugetlb_folio = w.machine.pages().test_flag(*head, PG_hugetlb);
    }
    if (FrameShadow::state(before) != FrameState::kHugetlbData || w.machine.mem().shadow(*head) != before) continue;
    if (!reads_head && !own_page_of_hugetlb_folio && (names == pfn || names == *head)) continue;
    Violation v = make_violation(
        ViolationKind::kInvariantBroken,
        fmt::format("compound page shape: pfn {:#x} (page {} of the hugepage-backed block {:#x}) reads {}",
                    pfn.value(), pfn - *head, head->value(),
                    reads_head ? std::string("as a head")
                    : own_page_of_hugetlb_folio
                        ? std::string("as a page of its own while the block is a hugetlb folio (PG_hugetlb on "
                                      "its head, read after it)")
                        : fmt::format("as a tail of {:#x}, a compound page that does not cover it", names.value())));
    v.invariant = Invariant::kStructPageContents;
    v.pfn = pfn;
    v.address = pfn_to_page(pfn).value();
    w.machine.violations().record(std::move(v));
    return;
  }
}

// A hugetlb user that maps a fresh hugepage while the pool grows: nr_hugepages
// = nr + 1 (the new folio is made and optimized while frozen, then sits free
// in the pool at refcount 0), alloc_hugetlb_folio() takes a folio
// (folio_ref_unfreeze(folio, 1): its count, which every fake head of an
// optimized folio reads too, is no longer 0), and the owner holds it while
// nr_hugepages = nr + 2 makes the next folio (its synchronize_rcu() waits for
// the speculative walkers inside rcu_read_lock()), then gives it back.
void grow_owner(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("hugetlb_owner");
  grow(w);
  const std::optional<Pfn> head = take_hugetlb_folio(w, rng, c);
  grow(w);
  if (head) give_back_hugetlb_folio(w, *head);
}

// A speculative PFN walker that meets the PAGE_SIZE-aligned tails of
// hugepage-backed blocks (in the pool, or being made), again and again: the
// first struct page of each of a block's vmemmap pages after the head's,
// which from 5.18 HVO maps read-only onto the head's page, so that each
// reads as a "fake head" with the head's flags and _refcount. It calls
// get_page_unless_zero() on them, page_ref_add_unless()'s checks being all
// that stands between it and a write to a read-only struct page (fix 9:
// they must read _refcount, with acquire, before the fake-head check), and
// drops any reference it gets. Each reference goes to a block picked
// afresh, any hugepage-sized block when none holds hugepage data (the
// walker scans memory whatever it holds). 256 references per operation:
// enough that a pct change point lands between one's fake-head check and
// its _refcount load often (the window of fix 9), few enough that the
// search's executions stay short (owner-tail-ref: about 3,700 schedule
// points each; with 64 it was found far more rarely, with 512 or 1,024 no
// sooner).
constexpr unsigned kAlignedTailRefs = 256;

void speculative_ref_aligned_tail(ActorWorld& w, Rng& rng, ActorCounters& c) {
  OperationScope op("speculative_ref");
  const uint64_t n = w.pool.hstate().nr_pages();
  constexpr uint64_t kStructPagesPerVmemmapPage = kPageSize / kStructPageSize;
  const uint64_t vmemmap_pages = n / kStructPagesPerVmemmapPage;
  for (unsigned i = 0; i < kAlignedTailRefs; ++i) {
    const Pfn head = pick_huge_head(w, rng).value_or(Pfn(rng.below(w.machine.mem().nr_frames() / n) * n));
    const Pfn tail = head + kStructPagesPerVmemmapPage * (1 + rng.below(vmemmap_pages - 1));
    if (!w.model.get_page_unless_zero(tail)) continue;
    ++c.speculative_refs;
    w.model.put_page(w.pool, tail);
  }
}

// echo N > /proc/sys/vm/hugetlb_optimize_vmemmap, on a model that has
// the sysctl (6.x); elsewhere nothing.
void hvo_sysctl(ActorWorld& w, Rng& rng) {
  OperationScope op("hugetlb_optimize_vmemmap_handler");
  if (auto* m = dynamic_cast<V610Model*>(&w.model)) m->hugetlb_vmemmap().set_vmemmap_optimize_enabled(rng.chance(20));
}

}  // namespace

void release_held_folios(ActorWorld& world) {
  OperationScope op("do_exit");
  for (Pfn head : world.held.take_all()) give_back_hugetlb_folio(world, head);
}

void run_actor(ActorKind kind, ActorWorld& w, Rng& rng, ActorCounters& c) {
  ++c.ops[static_cast<int>(kind)];
  switch (kind) {
    case ActorKind::kResizer: resize(w, rng); return;
    case ActorKind::kOwner: own(w, rng, c); return;
    case ActorKind::kPfnWalker: walk_pfn(w, rng, c); return;
    case ActorKind::kSpeculativeRef: speculative_ref(w, rng, c); return;
    case ActorKind::kMemoryFailure: w.model.memory_failure(w.pool, pick_pfn(w, rng)); return;
    case ActorKind::kDissolve: {
      OperationScope op("offline_pages");
      (void)w.pool.dissolve_free_hugetlb_folio(pick_pfn(w, rng));
      return;
    }
    case ActorKind::kGrow: grow(w); return;
    case ActorKind::kMemoryFailureHuge: w.model.memory_failure(w.pool, pick_huge_tail(w, rng)); return;
    case ActorKind::kSpeculativeRefHead: speculative_ref_head(w, rng, c); return;
    case ActorKind::kHvoSysctl: hvo_sysctl(w, rng); return;
    case ActorKind::kDemote: demote_hugepages(w, rng, c); return;
    case ActorKind::kBlockWalker: walk_block(w, rng); return;
    case ActorKind::kOrder0User: use_order0_pages(w); return;
    case ActorKind::kCompactionScan: compaction_scan(w, rng, c); return;
    case ActorKind::kCompoundWalker: walk_compound(w, rng); return;
    case ActorKind::kGrowOwner: grow_owner(w, rng, c); return;
    case ActorKind::kSpeculativeRefAlignedTail: speculative_ref_aligned_tail(w, rng, c); return;
    case ActorKind::kSurplusOwner: surplus_own(w, rng, c); return;
  }
}

}  // namespace hvo::stress
