#include "engine/page_table.h"

#include <fmt/format.h>

#include "engine/page_poison.h"
#include "engine/task.h"

namespace hvo {

KernelPageTables::KernelPageTables(PhysMem& mem, BuddyAllocator& buddy, Lockdep& lockdep, ViolationLog& log,
                                   PteAccess policy)
    : mem_(mem),
      buddy_(buddy),
      log_(log),
      policy_(policy),
      init_mm_(lockdep.register_class("init_mm.page_table_lock", LockKind::kSpin),
               lockdep.register_class("init_mm.mmap_lock", LockKind::kRwsem)) {}

void KernelPageTables::boot() {
  std::optional<Pfn> pgd = alloc_table(Gfp::kKernel);
  HVO_CHECK(pgd.has_value(), "no memory for init_mm.pgd");
  init_mm_.pgd = *pgd;
}

std::optional<Pfn> KernelPageTables::alloc_table(Gfp gfp) const {
  std::optional<Pfn> pfn = buddy_.alloc_pages(gfp, Order(0), FrameState::kPageTable);
  if (pfn) mem_.clear_page(*pfn);
  return pfn;
}

PteValue KernelPageTables::read_entry(PhysAddr entry, PteAccess access) const {
  sched_point(SchedEvent::kPteLoad, entry.value());
  if (access == PteAccess::kOnce) {
    // READ_ONCE(): a single-copy-atomic load. No ordering is implied; the
    // kernel adds barriers where it needs them, and so do the models.
    return PteValue(mem_.load<uint64_t>(entry, std::memory_order_relaxed));
  }
  if (access == PteAccess::kPlain) {
    // A plain `*ptep` of a 64-bit kernel: one 64-bit load the compiler is
    // free to repeat or fuse, which a concurrent set_pte_at() races with.
    return PteValue(mem_.load_plain64(entry));
  }
  // A plain `*ptep`: the compiler may split it; little-endian halves, low
  // first. The schedule point between the halves lets a writer run there.
  const uint64_t lo = mem_.load_plain32(entry);
  sched_point(SchedEvent::kPteLoad, entry.value() + 4);
  const uint64_t hi = mem_.load_plain32(entry + 4);
  return PteValue(hi << 32 | lo);
}

void KernelPageTables::check_publication(PhysAddr entry, PteValue v) const {
  // A PTE (not a table pointer, not a boot-time PMD leaf) to a vmemmap page.
  if (!pte_present(v) || pmd_leaf(v)) return;
  const Pfn page = pte_pfn(v);
  if (!mem_.valid(page)) return;
  const uint32_t shadow = mem_.shadow(page);
  if (FrameShadow::state(shadow) != FrameState::kVmemmap) return;
  // A page found initialised stays so until it is freed (which bumps its
  // generation): the reuse page an optimization maps at every tail, or 7.1's
  // shared tail page, is scanned once, not at each of its PTEs. This
  // machine's, not the host thread's: a controlled search runs many
  // machines on one thread, whose pfns and generations repeat. Relaxed: the
  // pair it holds is a fact that never becomes false, whoever wrote it last.
  const uint64_t key = uint64_t{FrameShadow::generation(shadow)} << 32 | page.value();
  if (last_initialised_.load(std::memory_order_relaxed) == key) return;
  if (check_published(mem_, log_, page, fmt::format("the entry at {:#x} is set to it", entry.value())))
    last_initialised_.store(key, std::memory_order_relaxed);
}

void KernelPageTables::write_entry(PhysAddr entry, PteValue v, PteAccess access) const {
  sched_point(SchedEvent::kPteStore, entry.value(), v.value());
  check_publication(entry, v);
  if (access != PteAccess::kPlainTorn) {
    // WRITE_ONCE() (x86-64 native_set_pte(), arm64 __set_pte()): single-copy
    // atomic, no ordering; set_pte_at() was never a plain store on a 64-bit
    // kernel, so kPlain writes this way too.
    mem_.store<uint64_t>(entry, v.value(), std::memory_order_relaxed);
    return;
  }
  mem_.store_plain32(entry, static_cast<uint32_t>(v.value()));
  sched_point(SchedEvent::kPteStore, entry.value() + 4, v.value());
  mem_.store_plain32(entry + 4, static_cast<uint32_t>(v.value() >> 32));
}

bool KernelPageTables::cmpxchg_entry(PhysAddr entry, PteValue& expected, PteValue desired) const {
  sched_point(SchedEvent::kPteStore, entry.value(), desired.value());
  check_publication(entry, desired);
  uint64_t exp = expected.value();
  // cmpxchg() is fully ordered in the kernel (a full barrier on each side).
  const bool ok = mem_.compare_exchange<uint64_t>(entry, exp, desired.value(), std::memory_order_seq_cst);
  expected = PteValue(exp);
  return ok;
}

PhysAddr KernelPageTables::pgd_offset_k(VmemmapAddr addr) const {
  return table_entry_addr(init_mm_.pgd, pgd_index(addr.value()));
}

PhysAddr KernelPageTables::next_level_entry(PteValue upper, unsigned index) {
  HVO_CHECK(pte_present(upper) && !pmd_leaf(upper), "next_level_entry of a leaf or none entry");
  return table_entry_addr(pte_pfn(upper), index);
}

std::optional<Pfn> KernelPageTables::populate_table(PhysAddr entry) {
  PteValue e = read_entry(entry, PteAccess::kOnce);
  if (pte_present(e)) return pte_pfn(e);
  std::optional<Pfn> table = alloc_table(Gfp::kKernel);
  if (!table) return std::nullopt;
  // Boot runs on one CPU before anything else: a plain publish is enough
  // here, but WRITE_ONCE costs nothing and keeps TSan quiet.
  write_entry(entry, pfn_pte(*table, kPageTable), PteAccess::kOnce);
  return table;
}

bool KernelPageTables::vmemmap_populate(VmemmapAddr start, VmemmapAddr end, VmemmapMapping mapping) {
  HVO_CHECK(start.value() % kPageSize == 0 && end.value() % kPageSize == 0 && start < end,
            "vmemmap_populate range must be page aligned and non-empty");
  return mapping == VmemmapMapping::kBasePages ? populate_basepages(start, end) : populate_hugepages(start, end);
}

bool KernelPageTables::populate_basepages(VmemmapAddr start, VmemmapAddr end) {
  for (VmemmapAddr a = start; a < end; a = a + kPageSize) {
    // vmemmap_pgd_populate -> vmemmap_pud_populate -> vmemmap_pmd_populate
    std::optional<Pfn> pud = populate_table(pgd_offset_k(a));
    if (!pud) return false;
    std::optional<Pfn> pmd = populate_table(table_entry_addr(*pud, pud_index(a.value())));
    if (!pmd) return false;
    const PhysAddr pmd_entry = table_entry_addr(*pmd, pmd_index(a.value()));
    HVO_CHECK(!pmd_leaf(read_entry(pmd_entry, PteAccess::kOnce)), "base-page populate over a PMD leaf");
    std::optional<Pfn> pte_table = populate_table(pmd_entry);
    if (!pte_table) return false;
    // vmemmap_pte_populate: a zeroed page (vmemmap_alloc_block_zero).
    const PhysAddr pte = table_entry_addr(*pte_table, pte_index(a.value()));
    if (pte_present(read_entry(pte, PteAccess::kOnce))) continue;
    std::optional<Pfn> page = buddy_.alloc_pages(Gfp::kKernel | Gfp::kZero, Order(0), FrameState::kVmemmap);
    if (!page) return false;
    write_entry(pte, pfn_pte(*page, kPageKernel), PteAccess::kOnce);
  }
  return true;
}

bool KernelPageTables::populate_hugepages(VmemmapAddr start, VmemmapAddr end) {
  const VmemmapAddr first(start.value() & ~(kPmdSize - 1));
  for (VmemmapAddr a = first; a < end; a = a + kPmdSize) {
    std::optional<Pfn> pud = populate_table(pgd_offset_k(a));
    if (!pud) return false;
    std::optional<Pfn> pmd = populate_table(table_entry_addr(*pud, pud_index(a.value())));
    if (!pmd) return false;
    const PhysAddr pmd_entry = table_entry_addr(*pmd, pmd_index(a.value()));
    if (pte_present(read_entry(pmd_entry, PteAccess::kOnce))) continue;
    // vmemmap_alloc_block_buf(PMD_SIZE) then vmemmap_set_pmd(); if no 2 MiB
    // block is free, fall back to base pages for this range as the kernel does.
    // Zeroed here (the kernel's memmap_init() writes every struct page next).
    std::optional<Pfn> block =
        buddy_.alloc_pages(Gfp::kKernel | Gfp::kZero, Order(kPmdShift - kPageShift), FrameState::kVmemmap);
    if (!block) {
      if (!populate_basepages(std::max(a, start), std::min(a + kPmdSize, end))) return false;
      continue;
    }
    write_entry(pmd_entry, pfn_pmd_leaf(*block, kPageKernel), PteAccess::kOnce);
  }
  return true;
}

SoftWalk KernelPageTables::walk(VmemmapAddr addr) const {
  SoftWalk w;
  auto load = [&](PhysAddr entry) { return PteValue(mem_.load<uint64_t>(entry, std::memory_order_relaxed)); };
  w.level = SoftWalk::Level::kPgd;
  w.entry = pgd_offset_k(addr);
  w.value = load(w.entry);
  if (!pte_present(w.value)) return w;
  w.level = SoftWalk::Level::kPud;
  w.entry = next_level_entry(w.value, pud_index(addr.value()));
  w.value = load(w.entry);
  if (!pte_present(w.value)) return w;
  w.level = SoftWalk::Level::kPmd;
  w.entry = next_level_entry(w.value, pmd_index(addr.value()));
  w.value = load(w.entry);
  if (!pte_present(w.value)) return w;
  if (pmd_leaf(w.value)) {
    w.present = true;
    w.pmd_leaf = true;
    w.writable = pte_write(w.value);
    w.frame = pte_pfn(w.value) + pte_index(addr.value());
    return w;
  }
  w.level = SoftWalk::Level::kPte;
  w.entry = next_level_entry(w.value, pte_index(addr.value()));
  w.value = load(w.entry);
  if (!pte_present(w.value)) return w;
  w.present = true;
  w.writable = pte_write(w.value);
  w.frame = pte_pfn(w.value);
  return w;
}

}  // namespace hvo
