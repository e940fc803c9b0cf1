#include "models/invariant_checker.h"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "engine/hugetlb/compound_page.h"
#include "engine/pte.h"
#include "engine/struct_page.h"
#include "engine/struct_page_peek.h"
#include "engine/task.h"

namespace hvo {

namespace {

uint64_t count_of(const uint64_t (&counts)[kNumFrameStates], FrameState s) { return counts[static_cast<int>(s)]; }

// What the kernel page tables hold, found by walking them from init_mm.pgd.
struct TableCensus {
  uint64_t table_frames = 0;         // distinct page-table frames reachable
  uint64_t mapped_frames = 0;        // distinct frames mapped by leaves
  uint64_t leaf_pages = 0;           // 4 KiB pages mapped (aliases counted)
  uint64_t readonly_pages = 0;       // ... of which read-only
  std::vector<std::string> problems;
  std::vector<uint8_t> seen;         // per frame: 1 a table, 2 mapped by a leaf
};

TableCensus census(Machine& m) {
  TableCensus c;
  PhysMem& mem = m.mem();
  std::vector<uint8_t>& seen = c.seen;
  seen.assign(mem.nr_frames(), 0);  // 1: table, 2: mapped
  auto note_table = [&](Pfn t) {
    if (!mem.valid(t) || mem.state(t) != FrameState::kPageTable) {
      c.problems.push_back(fmt::format("an entry points to frame {:#x} ({}) as a table", t.value(),
                                       mem.valid(t) ? std::string(to_string(mem.state(t))) : "outside memory"));
      return false;
    }
    if (seen[t.value()] == 0) ++c.table_frames;
    seen[t.value()] = 1;
    return true;
  };
  auto note_leaf = [&](Pfn f, bool writable) {
    ++c.leaf_pages;
    c.readonly_pages += writable ? 0 : 1;
    if (!mem.valid(f) || mem.state(f) != FrameState::kVmemmap) {
      c.problems.push_back(fmt::format("vmemmap maps frame {:#x} ({})", f.value(),
                                       mem.valid(f) ? std::string(to_string(mem.state(f))) : "outside memory"));
      return;
    }
    if (seen[f.value()] == 0) ++c.mapped_frames;
    seen[f.value()] = 2;
  };
  auto entries = [&](Pfn table, auto&& fn) {
    for (unsigned i = 0; i < kPtrsPerTable; ++i) {
      const PteValue e(mem.load<uint64_t>(table_entry_addr(table, i), std::memory_order_relaxed));
      if (pte_present(e)) fn(e);
    }
  };
  const Pfn pgd = m.page_tables().init_mm().pgd;
  if (!note_table(pgd)) return c;
  entries(pgd, [&](PteValue pgd_e) {
    if (!note_table(pte_pfn(pgd_e))) return;
    entries(pte_pfn(pgd_e), [&](PteValue pud_e) {
      if (!note_table(pte_pfn(pud_e))) return;
      entries(pte_pfn(pud_e), [&](PteValue pmd_e) {
        if (pmd_leaf(pmd_e)) {
          for (uint64_t i = 0; i < kPtrsPerTable; ++i) note_leaf(pte_pfn(pmd_e) + i, pte_write(pmd_e));
          return;
        }
        if (!note_table(pte_pfn(pmd_e))) return;
        entries(pte_pfn(pmd_e), [&](PteValue pte_e) { note_leaf(pte_pfn(pte_e), pte_write(pte_e)); });
      });
    });
  });
  return c;
}

}  // namespace

BootFigures boot_figures(Machine& m) {
  uint64_t counts[kNumFrameStates];
  m.mem().count_states(counts);
  return BootFigures{count_of(counts, FrameState::kVmemmap), count_of(counts, FrameState::kPageTable),
                     count_of(counts, FrameState::kFree)};
}

uint64_t kernel_savings_per_folio(std::string_view model, const Hstate& h) {
  // From the v17 cover letter and the 5.18 "reserve 1 page" change (e7d324850bfc).
  const bool v17 = model == "v17";
  if (h.order == kHstate2M.order) return v17 ? 6 : 7;
  if (h.order == kHstate1G.order) return v17 ? 4094 : 4095;
  return 0;
}

std::vector<HugetlbPool*> InvariantChecker::pools() const {
  std::vector<HugetlbPool*> p{&pool_};
  if (HugetlbPool* demoted = pool_.demote_pool()) p.push_back(demoted);
  return p;
}

const Hstate& InvariantChecker::hstate_of(Pfn head) const {
  HugetlbPool* demoted = pool_.demote_pool();
  if (demoted != nullptr) {
    const std::optional<FolioSnapshot> f = demoted->folio_of(head);
    if (f && f->head == head) return demoted->hstate();
  }
  return pool_.hstate();
}

void InvariantChecker::broken(Invariant inv, std::string message, std::optional<Pfn> pfn) {
  Violation v = make_violation(ViolationKind::kInvariantBroken, std::move(message));
  v.invariant = inv;
  v.pfn = pfn;
  if (pfn) v.address = pfn_to_page(*pfn).value();
  m_.violations().record(std::move(v));
}

bool InvariantChecker::check_frame_conservation() {
  uint64_t counts[kNumFrameStates];
  m_.mem().count_states(counts);
  bool ok = true;
  const TableCensus c = census(m_);
  for (const std::string& p : c.problems) {
    broken(Invariant::kFrameConservation, p);
    ok = false;
  }
  if (c.table_frames != count_of(counts, FrameState::kPageTable)) {
    broken(Invariant::kFrameConservation,
           fmt::format("{} page-table frames, {} reachable from init_mm.pgd (a table leaked or was freed in use)",
                       count_of(counts, FrameState::kPageTable), c.table_frames));
    ok = false;
  }
  // The model's shared vmemmap frames (7.1's per-zone tail pages) are
  // vmemmap frames whether or not a folio maps them right now.
  uint64_t shared_unmapped = 0;
  for (Pfn f : model_.shared_vmemmap_frames()) {
    if (!m_.mem().valid(f) || m_.mem().state(f) != FrameState::kVmemmap) {
      broken(Invariant::kFrameConservation,
             fmt::format("the model's shared vmemmap page {:#x} is {}", f.value(),
                         m_.mem().valid(f) ? std::string(to_string(m_.mem().state(f))) : "outside memory"));
      ok = false;
      continue;
    }
    shared_unmapped += c.seen[f.value()] == 2 ? 0 : 1;
  }
  if (c.mapped_frames + shared_unmapped != count_of(counts, FrameState::kVmemmap)) {
    broken(Invariant::kFrameConservation,
           fmt::format("{} vmemmap frames, {} mapped by the vmemmap and {} shared ones unmapped (a vmemmap page leaked)",
                       count_of(counts, FrameState::kVmemmap), c.mapped_frames, shared_unmapped));
    ok = false;
  }
  const uint64_t buddy_free = m_.buddy().counters().free_pages;
  if (buddy_free != count_of(counts, FrameState::kFree)) {
    broken(Invariant::kFrameConservation, fmt::format("{} free frames, buddy counts {}",
                                                      count_of(counts, FrameState::kFree), buddy_free));
    ok = false;
  }
  // Every pool's folios (a demoted 1 GiB folio's frames are 512 folios of
  // the 2 MiB pool now).
  uint64_t folios = 0, folio_frames = 0;
  for (HugetlbPool* p : pools()) {
    const uint64_t n = p->folios().size();
    folios += n;
    folio_frames += n * p->hstate().nr_pages();
  }
  if (count_of(counts, FrameState::kHugetlbData) != folio_frames) {
    broken(Invariant::kFrameConservation,
           fmt::format("{} hugetlb data frames, but the pools' {} folios hold {}",
                       count_of(counts, FrameState::kHugetlbData), folios, folio_frames));
    ok = false;
  }
  if (count_of(counts, FrameState::kBuddy) != 0) {
    broken(Invariant::kFrameConservation,
           fmt::format("{} frames allocated from buddy with no owner", count_of(counts, FrameState::kBuddy)));
    ok = false;
  }
  return m_.buddy().validate() && ok;
}

bool InvariantChecker::check_vmemmap_shape(Pfn head, bool optimized) {
  const Hstate& h = hstate_of(head);
  const uint64_t n = h.vmemmap_pages();
  std::vector<SoftWalk> walks;
  walks.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    walks.push_back(m_.page_tables().walk(pfn_to_page(head) + i * kPageSize));
    if (!walks.back().present) {
      broken(Invariant::kVmemmapShape, fmt::format("vmemmap page {} of the folio is not mapped", i), head);
      return false;
    }
  }
  std::map<uint64_t, uint64_t> owner;  // frame -> the page index that must own it alone
  if (!optimized) {
    for (uint64_t i = 0; i < n; ++i) {
      if (!walks[i].writable) {
        broken(Invariant::kVmemmapShape, fmt::format("restored folio: vmemmap page {} is read-only", i), head);
        return false;
      }
      if (!owner.emplace(walks[i].frame.value(), i).second) {
        broken(Invariant::kVmemmapShape,
               fmt::format("restored folio: vmemmap pages {} and {} share frame {:#x}", owner[walks[i].frame.value()],
                           i, walks[i].frame.value()),
               head);
        return false;
      }
    }
    return true;
  }
  const std::vector<ExpectedVmemmapPage> shape = model_.optimized_shape(h);
  const std::optional<Pfn> shared_tail = model_.shared_tail_page(h);
  for (uint64_t i = 0; i < n; ++i) {
    const ExpectedVmemmapPage& want = shape[i];
    if (walks[i].writable != want.writable) {
      broken(Invariant::kVmemmapShape,
             fmt::format("optimized folio: vmemmap page {} is {} but must be {}", i,
                         walks[i].writable ? "writable" : "read-only", want.writable ? "writable" : "read-only"),
             head);
      return false;
    }
    if (want.alias_of == ExpectedVmemmapPage::kSharedTailPage) {
      if (!shared_tail || walks[i].frame != *shared_tail) {
        broken(Invariant::kVmemmapShape,
               shared_tail ? fmt::format("optimized folio: vmemmap page {} maps frame {:#x}, not the shared tail "
                                         "page {:#x} of order {}",
                                         i, walks[i].frame.value(), shared_tail->value(), h.order.value())
                           : fmt::format("optimized folio: vmemmap page {} maps frame {:#x}, and there is no shared "
                                         "tail page of order {}",
                                         i, walks[i].frame.value(), h.order.value()),
               head);
        return false;
      }
    } else if (want.alias_of >= 0) {
      if (walks[i].frame != walks[want.alias_of].frame) {
        broken(Invariant::kVmemmapShape,
               fmt::format("optimized folio: vmemmap page {} maps frame {:#x}, not the reuse frame {:#x} of page {}",
                           i, walks[i].frame.value(), walks[want.alias_of].frame.value(), want.alias_of),
               head);
        return false;
      }
    } else if (!owner.emplace(walks[i].frame.value(), i).second) {
      broken(Invariant::kVmemmapShape,
             fmt::format("optimized folio: vmemmap pages {} and {} share frame {:#x}", owner[walks[i].frame.value()],
                         i, walks[i].frame.value()),
             head);
      return false;
    }
  }
  return true;
}

bool InvariantChecker::check_struct_page_contents(Pfn head, FolioState state) {
  StructPageAccess& pages = m_.pages();
  const Hstate& h = hstate_of(head);
  const uint64_t flags = pages.flags(head);
  if ((flags & page_flag(PG_head)) == 0 || (flags & page_flag(PG_hugetlb)) == 0) {
    broken(Invariant::kStructPageContents, fmt::format("pool folio head flags {:#x} lack PG_head or the hugetlb mark", flags),
           head);
    return false;
  }
  const int32_t ref = pages.page_ref_count(head);
  if (ref < 0 || (state == FolioState::kFree && ref != 0) || (state == FolioState::kInUse && ref == 0)) {
    broken(Invariant::kStructPageContents,
           fmt::format("{} folio has refcount {}", state == FolioState::kFree ? "free" : "in-use", ref), head);
    return false;
  }
  // Every tail is read through its own vmemmap address, so a remapped page
  // that holds the wrong contents shows at every alias. In an optimized
  // folio a tail's struct page is the one at the same offset of the page
  // its vmemmap page aliases (optimized_shape()); when that is the head
  // (a model whose tails alias page 0: the "fake heads" at 64, 128, ...),
  // it must read as the head does, and the tail checks apply to the rest.
  const uint64_t want = model_.tail_compound_info(head, h);
  const std::vector<ExpectedVmemmapPage> shape =
      model_.vmemmap_optimized(head) ? model_.optimized_shape(h) : std::vector<ExpectedVmemmapPage>{};
  for (uint64_t i = 1; i < h.nr_pages(); ++i) {
    const Pfn tail = head + i;
    const uint64_t vpage = i / kStructPagesPerPage;
    const uint64_t slot = vpage < shape.size() && shape[vpage].alias_of >= 0
                              ? static_cast<uint64_t>(shape[vpage].alias_of) * kStructPagesPerPage +
                                    i % kStructPagesPerPage
                              : i;
    if (slot == 0) {
      if (const uint64_t alias_flags = pages.flags(tail); alias_flags != flags) {
        broken(Invariant::kStructPageContents,
               fmt::format("tail {} aliases the head but reads flags {:#x}, the head {:#x}", i, alias_flags, flags),
               tail);
        return false;
      }
      continue;
    }
    const uint64_t ch = pages.load(tail, PageWord::kCompoundHead);
    if (ch != want) {
      broken(Invariant::kStructPageContents,
             fmt::format("tail {} says compound_head {:#x}, not {:#x}", i, ch, want), tail);
      return false;
    }
    if (slot >= model_.info().folio_metadata_pages && pages.load(tail, PageWord::kMapping) != kTailMapping) {
      broken(Invariant::kStructPageContents, fmt::format("tail {} lost TAIL_MAPPING", i), tail);
      return false;
    }
    if (const int32_t tref = pages.page_ref_count(tail); tref != 0) {
      broken(Invariant::kStructPageContents, fmt::format("tail {} has refcount {} (tails stay at 0)", i, tref), tail);
      return false;
    }
  }
  return true;
}

bool InvariantChecker::check_savings() {
  bool ok = true;
  for (HugetlbPool* p : pools()) ok = check_savings(*p) && ok;
  return ok;
}

bool InvariantChecker::check_savings(HugetlbPool& pool) {
  const Hstate& h = pool.hstate();
  const uint64_t per = kernel_savings_per_folio(model_.info().name, h);
  bool ok = true;
  if (model_.vmemmap_pages_freed_per_folio(h) != per) {
    broken(Invariant::kSavings, fmt::format("model frees {} vmemmap pages per {} page, the kernel {}",
                                            model_.vmemmap_pages_freed_per_folio(h), h.size_name, per));
    ok = false;
  }
  uint64_t optimized = 0;
  for (const FolioSnapshot& f : pool.folios()) optimized += model_.vmemmap_optimized(f.head) ? 1 : 0;
  const VmemmapStats s = pool.vmemmap_stats();
  if (s.pages_saved_now != optimized * per) {
    broken(Invariant::kSavings, fmt::format("{} vmemmap pages saved for {} optimized folios of {} ({} each)",
                                            s.pages_saved_now, optimized, h.size_name, per));
    ok = false;
  }
  return ok;
}

bool InvariantChecker::check_hwpoison_conservation() {
  bool ok = true;
  for (HugetlbPool* p : pools()) ok = check_hwpoison_conservation(*p, p->folios()) && ok;
  return ok;
}

bool InvariantChecker::check_hwpoison_conservation(HugetlbPool& pool, const std::vector<FolioSnapshot>& folios) {
  bool ok = true;
  const uint64_t nr_pages = pool.hstate().nr_pages();
  const std::map<Pfn, HwpoisonState> ledger = pool.hwpoison().entries();
  // Any entry of the folio's range counts, not only its first: a folio may
  // hold a retired poison (an earlier folio at these frames) below the one
  // it kept.
  auto kept_in = [&](Pfn head) {
    for (auto it = ledger.lower_bound(head); it != ledger.end() && it->first - head < nr_pages; ++it)
      if (it->second == HwpoisonState::kKept) return true;
    return false;
  };
  // Every pool folio showing the poison on its head kept one.
  for (const FolioSnapshot& f : folios) {
    if (f.state == FolioState::kRemoved || !peek_page_flag(m_, f.head, PG_hwpoison) || kept_in(f.head)) continue;
    broken(Invariant::kHwpoisonConservation,
           fmt::format("folio {:#x} shows PG_hwpoison but memory_failure() kept no poison in it", f.head.value()),
           f.head);
    ok = false;
  }
  for (const auto& [raw, state] : ledger) {
    if (state == HwpoisonState::kHandling) {
      broken(Invariant::kHwpoisonConservation,
             fmt::format("the poison of pfn {:#x} was neither dissolved, kept nor lifted: memory_failure() dropped it",
                         raw.value()),
             raw);
      ok = false;
    } else if (state == HwpoisonState::kKept) {
      // A copy: clang 14 cannot capture a structured binding in a lambda.
      const Pfn poisoned = raw;
      auto f = std::find_if(folios.begin(), folios.end(), [&](const FolioSnapshot& s) {
        return s.state != FolioState::kRemoved && poisoned >= s.head && poisoned - s.head < nr_pages;
      });
      if (f == folios.end()) {
        broken(Invariant::kHwpoisonConservation,
               fmt::format("the kept poison of pfn {:#x} is in no pool folio", raw.value()), raw);
        ok = false;
      } else if (!peek_page_flag(m_, f->head, PG_hwpoison) && !peek_page_flag(m_, raw, PG_hwpoison)) {
        broken(Invariant::kHwpoisonConservation,
               fmt::format("folio {:#x} kept the poison of pfn {:#x} but neither its head nor the raw page shows "
                           "PG_hwpoison: the poison was dropped",
                           f->head.value(), raw.value()),
               raw);
        ok = false;
      }
    } else if (m_.mem().valid(raw) && m_.mem().state(raw) == FrameState::kFree && peek_page_flag(m_, raw, PG_hwpoison)) {
      broken(Invariant::kHwpoisonConservation,
             fmt::format("free page {:#x} in buddy still carries PG_hwpoison", raw.value()), raw);
      ok = false;
    }
  }
  return ok;
}

bool InvariantChecker::check_static_key_balance() {
  const std::optional<int64_t> key = model_.fake_head_key_count();
  if (!key) return true;
  // The optimized folios as the pools count them (pages saved now, per
  // folio): check_savings() holds that figure to the folios' own flags, so
  // the two checks together hold the key to the folios, with no struct page
  // read here.
  int64_t optimized = 0;
  for (HugetlbPool* p : pools()) {
    const uint64_t per = model_.vmemmap_pages_freed_per_folio(p->hstate());
    if (per != 0) optimized += static_cast<int64_t>(p->vmemmap_stats().pages_saved_now / per);
  }
  if (*key == optimized) return true;
  broken(Invariant::kStaticKeyBalance,
         fmt::format("the fake-head static key counts {} but {} folios are optimized{}", *key, optimized,
                     *key < optimized ? ": a fake head is mapped while compound_head() may not look for it" : ""));
  return false;
}

bool InvariantChecker::check_vmemmap_settled(Pfn head, const Hstate& h) {
  const std::vector<ExpectedVmemmapPage> shape = model_.optimized_shape(h);
  uint64_t ro = 0, rw = 0;
  for (uint64_t i = 0; i < shape.size(); ++i) {
    if (shape[i].writable) continue;  // writable either way (the head's page)
    const SoftWalk w = m_.page_tables().walk(pfn_to_page(head) + i * kPageSize);
    if (!w.present) continue;  // the quiescent shape check names a hole
    (w.writable ? rw : ro) += 1;
  }
  if (ro == 0 || rw == 0) return true;
  broken(Invariant::kVmemmapShape,
         fmt::format("folio taken off the free list with its vmemmap half remapped ({} tail vmemmap pages read-only, "
                     "{} writable): a walk is still changing a folio the pool hands out",
                     ro, rw),
         head);
  return false;
}

bool InvariantChecker::check_tlb_coherence() {
  bool ok = true;
  for (unsigned cpu = 0; cpu < m_.mmu().nr_cpus(); ++cpu) {
    Tlb& tlb = m_.mmu().tlb(CpuId(cpu));
    // A flush posted but not yet applied has done its job: the owner
    // applies it before its next translation.
    tlb.drain_remote_flushes();
    for (const TlbEntry& e : tlb.valid_entries()) {
      const VmemmapAddr addr(e.vpn << kPageShift);
      const SoftWalk w = m_.page_tables().walk(addr);
      if (w.present && w.frame == e.frame && (w.writable || !e.writable)) continue;
      broken(Invariant::kTlbCoherence,
             fmt::format("cpu {}'s TLB maps vmemmap address {:#x} to frame {:#x}{}, but the page table {} (a flush "
                         "omitted or its range cut short)",
                         cpu, addr.value(), e.frame.value(), e.writable ? " writable" : "",
                         !w.present ? std::string("has no mapping")
                                    : fmt::format("maps frame {:#x}{}", w.frame.value(),
                                                  w.writable ? " writable" : " read-only")),
             page_to_pfn(addr));
      ok = false;
      break;  // one per CPU: the first names the missing flush
    }
  }
  return ok;
}

bool InvariantChecker::check_quiescent() {
  OperationScope op("check_quiescent");
  bool ok = check_pool_counters();
  ok = check_frame_conservation() && ok;
  // (check_pool_counters() covers overcommit-limit too.)
  for (HugetlbPool* p : pools()) {
    const std::vector<FolioSnapshot> folios = p->folios();
    for (const FolioSnapshot& f : folios) {
      if (f.state == FolioState::kRemoved) continue;
      ok = check_vmemmap_shape(f.head, model_.vmemmap_optimized(f.head)) && ok;
      ok = check_struct_page_contents(f.head, f.state) && ok;
    }
    ok = check_hwpoison_conservation(*p, folios) && ok;
  }
  ok = check_static_key_balance() && ok;
  ok = check_savings() && ok;
  // Last: a stale translation usually also breaks something above, which
  // names the bug's effect; this names its cause when nothing else shows.
  return check_tlb_coherence() && ok;
}

bool InvariantChecker::check_all_returned() {
  OperationScope op("check_all_returned");
  bool ok = check_quiescent();
  for (HugetlbPool* p : pools()) {
    const PoolCounters pc = p->counters();
    if (pc.nr_huge_pages != 0 || !p->folios().empty()) {
      broken(Invariant::kPoolCounters, fmt::format("{} hugepages of {} still in the pool after shrinking to 0",
                                                   pc.nr_huge_pages, p->hstate().size_name));
      ok = false;
    }
  }
  uint64_t counts[kNumFrameStates];
  m_.mem().count_states(counts);
  const BootFigures now{count_of(counts, FrameState::kVmemmap), count_of(counts, FrameState::kPageTable),
                        count_of(counts, FrameState::kFree)};
  // A vmemmap PMD split by HVO stays split (the kernel never collapses the
  // PTE table back into a leaf): those tables are the only frames allowed
  // not to come back, and check_frame_conservation() has found each of them
  // reachable from init_mm.pgd.
  const uint64_t split_tables =
      now.page_table_frames > boot_.page_table_frames ? now.page_table_frames - boot_.page_table_frames : 0;
  // The model's shared vmemmap pages (7.1's per-zone tail pages) live as
  // long as the zone: they stay, unmapped, once every folio is restored.
  const uint64_t shared = model_.shared_vmemmap_frames().size();
  if (now.vmemmap_frames != boot_.vmemmap_frames + shared ||
      now.free_frames + split_tables + shared != boot_.free_frames ||
      now.page_table_frames < boot_.page_table_frames) {
    broken(Invariant::kFrameConservation,
           fmt::format("not everything came back: vmemmap frames {} (boot {}, {} shared), free frames {} (boot {}), "
                       "page-table frames {} (boot {})",
                       now.vmemmap_frames, boot_.vmemmap_frames, shared, now.free_frames, boot_.free_frames,
                       now.page_table_frames, boot_.page_table_frames));
    ok = false;
  }
  const TableCensus c = census(m_);
  if (c.readonly_pages != 0 || c.leaf_pages != c.mapped_frames) {
    broken(Invariant::kVmemmapShape,
           fmt::format("vmemmap not fully restored: {} read-only pages, {} pages mapped onto {} frames",
                       c.readonly_pages, c.leaf_pages, c.mapped_frames));
    ok = false;
  }
  return ok;
}

}  // namespace hvo
