// The kernel page tables that map the vmemmap, and init_mm's locks.
//
// Tables live in simulated frames (FrameState::kPageTable): a table is one
// frame of 512 64-bit entries (pgd -> pud -> pmd -> pte; the p4d level is
// folded, as with 4-level paging). vmemmap_populate() builds them at boot
// with base pages or with 2 MiB PMD leaves.
//
// Every entry access of kernel code goes through read_entry()/write_entry()
// with the run's PteAccess policy:
//   kOnce       READ_ONCE()/WRITE_ONCE(): one relaxed 64-bit atomic access.
//   kPlain      reads are one plain 64-bit load (TSan and the race detector
//               see a non-atomic access), writes stay WRITE_ONCE(): the v17
//               walk on a 64-bit kernel.
//   kPlainTorn  reads and writes are two plain 32-bit halves with a schedule
//               point between (32-bit page tables), so a concurrent reader
//               may see a torn entry.
// The MMU's hardware walk does not use these: hardware reads an entry in
// one 64-bit access (Mmu reads with relaxed atomics).
#pragma once

#include <atomic>
#include <optional>

#include "engine/buddy.h"
#include "engine/locks/lockdep.h"
#include "engine/locks/rwsem.h"
#include "engine/locks/spinlock.h"
#include "engine/machine_config.h"
#include "engine/phys_mem.h"
#include "engine/pte.h"
#include "engine/violation.h"

namespace hvo {

// init_mm: the kernel's own address space. Lock order: mmap_lock (a
// sleeping rw-semaphore) before page_table_lock (a spinlock).
struct InitMm {
  InitMm(LockClass& ptl_class, LockClass& mmap_class) : page_table_lock(ptl_class), mmap_lock(mmap_class) {}
  SpinLock page_table_lock;
  RwSemaphore mmap_lock;
  Pfn pgd{0};  // the frame of the top-level table (init_mm.pgd)
};

// What a software walk found for one vmemmap address.
struct SoftWalk {
  enum class Level : uint8_t { kPgd, kPud, kPmd, kPte };
  bool present = false;    // the final entry is present
  Level level = Level::kPgd;  // where the walk stopped (the leaf or the first non-present entry)
  PhysAddr entry{0};       // physical address of that entry
  PteValue value{0};       // its value
  Pfn frame{0};            // the 4 KiB frame the address maps to (when present)
  bool writable = false;
  bool pmd_leaf = false;   // mapped by a 2 MiB PMD leaf
};

class KernelPageTables {
 public:
  KernelPageTables(PhysMem& mem, BuddyAllocator& buddy, Lockdep& lockdep, ViolationLog& log, PteAccess policy);

  // Allocates init_mm.pgd. Called once, at boot.
  void boot();

  // vmemmap_populate(start, end): maps [start, end) with base pages
  // (vmemmap_populate_basepages) or 2 MiB leaves (vmemmap_populate_hugepages,
  // falling back to base pages when a 2 MiB block cannot be had). Returns
  // false if memory ran out.
  [[nodiscard]] bool vmemmap_populate(VmemmapAddr start, VmemmapAddr end, VmemmapMapping mapping);

  // --- entry access (the run's policy) -------------------------------------
  [[nodiscard]] PteAccess policy() const { return policy_; }
  [[nodiscard]] PteValue read_entry(PhysAddr entry) const { return read_entry(entry, policy_); }
  void write_entry(PhysAddr entry, PteValue v) const { write_entry(entry, v, policy_); }
  [[nodiscard]] PteValue read_entry(PhysAddr entry, PteAccess access) const;
  void write_entry(PhysAddr entry, PteValue v, PteAccess access) const;
  // cmpxchg on an entry: always a fully ordered atomic, as the kernel's
  // cmpxchg(). Returns true and installs desired if the entry held expected;
  // otherwise loads the current value into expected.
  [[nodiscard]] bool cmpxchg_entry(PhysAddr entry, PteValue& expected, PteValue desired) const;

  // pgd_offset_k(addr): the pgd entry for a kernel address.
  [[nodiscard]] PhysAddr pgd_offset_k(VmemmapAddr addr) const;
  // pud_offset/pmd_offset/pte_offset_kernel: the entry for addr in the table
  // an upper entry points to. The upper entry must be a present non-leaf.
  [[nodiscard]] static PhysAddr next_level_entry(PteValue upper, unsigned index);

  // A walk by software (the checkers, the kernel's own lookups), with
  // relaxed atomic reads and no schedule points: for quiescent states.
  [[nodiscard]] SoftWalk walk(VmemmapAddr addr) const;

  InitMm& init_mm() { return init_mm_; }
  PhysMem& mem() const { return mem_; }

  // Allocates and zeroes a table frame (pte_alloc_one_kernel / pmd_alloc_one).
  [[nodiscard]] std::optional<Pfn> alloc_table(Gfp gfp) const;

 private:
  // vmemmap_{pud,pmd,pte}_populate: returns the table the entry points to,
  // allocating it when the entry is none.
  std::optional<Pfn> populate_table(PhysAddr entry);
  bool populate_basepages(VmemmapAddr start, VmemmapAddr end);
  bool populate_hugepages(VmemmapAddr start, VmemmapAddr end);
  // Every store of an entry: one that makes a vmemmap page reachable must
  // find it initialised (engine/page_poison.h), or records
  // uninitialised-publish. The moment of publication, whatever model did it.
  void check_publication(PhysAddr entry, PteValue v) const;

  PhysMem& mem_;
  BuddyAllocator& buddy_;
  ViolationLog& log_;
  // check_publication()'s last page found initialised: generation << 32 | pfn
  // (a pfn fits 32 bits: MachineConfig::kMaxMemory is 2^28 frames).
  mutable std::atomic<uint64_t> last_initialised_{~uint64_t{0}};
  PteAccess policy_;
  InitMm init_mm_;
};

}  // namespace hvo
