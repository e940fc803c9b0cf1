// The simulated machine: physical memory, buddy allocator, kernel page
// tables with the populated vmemmap, MMU with per-CPU TLBs, locks and RCU,
// and the violation log, assembled and booted as the kernel would
// (memblock -> buddy -> vmemmap_populate -> memmap_init).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/alloc_failure.h"
#include "engine/buddy.h"
#include "engine/locks/lockdep.h"
#include "engine/locks/rcu.h"
#include "engine/machine_config.h"
#include "engine/mmu.h"
#include "engine/page_alloc.h"
#include "engine/page_table.h"
#include "engine/phys_mem.h"
#include "engine/struct_page_access.h"
#include "engine/violation.h"

namespace hvo {

// Figures that describe a booted machine (`hvo-stress describe`).
struct MachineSummary {
  uint64_t memory_bytes;
  uint64_t nr_frames;
  unsigned nr_cpus;
  std::string vmemmap_mapping;
  std::string pte_access;
  uint64_t vmemmap_start;        // virtual, inclusive
  uint64_t vmemmap_end;          // virtual, exclusive
  uint64_t vmemmap_frames;       // frames backing struct pages
  uint64_t page_table_frames;    // pgd + pud + pmd + pte tables
  uint64_t boot_reserved_frames;
  uint64_t free_frames;          // in buddy
  uint64_t resident_bytes;       // host memory the backing actually uses
};

class Machine {
 public:
  explicit Machine(const MachineConfig& config);  // boots; throws std::invalid_argument if config is invalid
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  [[nodiscard]] const MachineConfig& config() const { return config_; }
  [[nodiscard]] MachineSummary summary() const;

  ViolationLog& violations() { return violations_; }
  Lockdep& lockdep() { return lockdep_; }
  Rcu& rcu() { return rcu_; }
  PhysMem& mem() { return mem_; }
  AllocFailureInjector& alloc_failure() { return alloc_failure_; }
  BuddyAllocator& buddy() { return buddy_; }
  KernelPageTables& page_tables() { return page_tables_; }
  Mmu& mmu() { return mmu_; }
  StructPageAccess& pages() { return pages_; }
  PageAllocator& page_alloc() { return page_alloc_; }

 private:
  // memmap_init() of every frame: see machine.cc.
  void memmap_init();

  MachineConfig config_;
  ViolationLog violations_;
  Lockdep lockdep_;
  Rcu rcu_;
  PhysMem mem_;
  AllocFailureInjector alloc_failure_;
  BuddyAllocator buddy_;
  KernelPageTables page_tables_;
  Mmu mmu_;
  StructPageAccess pages_;
  PageAllocator page_alloc_;
};

}  // namespace hvo
