#include "stress/demote_actor.h"

#include <optional>

#include "engine/struct_page.h"
#include "engine/task.h"

namespace hvo::stress {

void demote_hugepages(ActorWorld& w, Rng& rng, ActorCounters& c) {
  HugetlbPool* target = w.pool.demote_pool();
  if (target == nullptr || w.model.demote_ops() == nullptr) return;
  {
    OperationScope op("demote_store");
    // Mostly one folio, sometimes two: a batch of two sources is one
    // de-HVO batch and one HVO batch of 1024 destinations.
    (void)w.pool.demote(rng.chance(75) ? 1 : 2);
  }
  {
    // An owner of one new 2 MiB page: alloc_hugetlb_folio() at fault time,
    // a write to its head, the reference dropped (free_huge_folio()).
    OperationScope op("hugetlb_owner");
    if (const std::optional<Pfn> head = target->alloc_hugetlb_folio()) {
      ++c.folios_owned;
      w.machine.pages().set_flag(*head, PG_dirty);
      w.machine.pages().clear_flag(*head, PG_dirty);
      w.model.put_page(*target, *head);
    }
  }
  OperationScope op("nr_hugepages_store");
  (void)target->set_max_huge_pages(0);
}

}  // namespace hvo::stress
