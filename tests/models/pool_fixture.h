// A booted machine with a HugeTLB pool run by one model, for the pool and
// model tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "engine/task.h"
#include "models/invariant_checker.h"
#include "models/registry.h"

namespace hvo::testing {

struct PoolWorld {
  PoolWorld(std::string_view model_name, const Hstate& h, PteAccess access = PteAccess::kOnce,
            std::set<std::string> reverts = {})
      : machine(config(model_name, h, access)), task(CpuId(0)), scope(task) {
    auto made = make_model(model_name, reverts, machine);
    if (auto* err = std::get_if<std::string>(&made)) throw std::invalid_argument(*err);
    model = std::move(std::get<std::unique_ptr<Model>>(made));
    pool = std::make_unique<HugetlbPool>(machine, h, *model);
    checker = std::make_unique<InvariantChecker>(machine, *pool, *model, boot_figures(machine));
  }

  static MachineConfig config(std::string_view model_name, const Hstate& h, PteAccess access) {
    MachineConfig c;
    // 1 GiB pages need naturally aligned GiBs free: 3 GiB leaves two.
    c.memory_bytes = h.gigantic() ? uint64_t{3} << 30 : uint64_t{512} << 20;
    c.vmemmap_mapping = find_model(model_name)->vmemmap_mapping;
    c.pte_access = access;
    c.nr_cpus = 4;
    return c;
  }

  Machine machine;
  Task task;
  TaskScope scope;
  std::unique_ptr<Model> model;
  std::unique_ptr<HugetlbPool> pool;
  std::unique_ptr<InvariantChecker> checker;
};

// For the free-mode concurrency tests, each on its own OS thread as a task
// of `cpu`: writes to nr_hugepages (set_max_huge_pages(), under
// resize_lock), one after the other.
inline void resize_on_cpu(PoolWorld& w, unsigned cpu, std::initializer_list<uint64_t> counts) {
  Task t{CpuId(cpu)};
  TaskScope scope(t);
  for (uint64_t count : counts) (void)w.pool->set_max_huge_pages(count);
}
// `n` faults (alloc_hugetlb_folio(): a free hugepage, or with none free a
// surplus one made by alloc_surplus_hugetlb_folio(), no resize_lock), every
// folio held until the last fault, then each owner's put (free_huge_folio():
// a surplus folio is restored and freed).
inline void fault_surplus_on_cpu(PoolWorld& w, unsigned cpu, unsigned n) {
  Task t{CpuId(cpu)};
  TaskScope scope(t);
  std::vector<Pfn> held;
  for (unsigned i = 0; i < n; ++i)
    if (std::optional<Pfn> head = w.pool->alloc_hugetlb_folio()) held.push_back(*head);
  for (Pfn head : held) w.model->put_page(*w.pool, head);
}

}  // namespace hvo::testing
