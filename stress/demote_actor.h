// The demote actor: a system administrator who turns a 1 GiB hugepage into
// 2 MiB ones, uses one, and gives the 2 MiB pages back:
//
//   echo 1 > /sys/kernel/mm/hugepages/hugepages-1048576kB/demote
//   (a task faults in one 2 MiB hugepage and lets it go)
//   echo 0 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
//
// One operation is the whole sequence, so that between operations (where
// the stop-the-world checks and the end of a campaign look) the 2 MiB pool
// is empty again and every frame can come back; while it runs, the other
// CPUs' walkers, speculative references and resizers race with the batched
// de-HVO of the source, the 512 new folios' HVO and their restore.
//
// On a pool without a demote target (2 MiB campaigns) or a model without
// demote (v17: 5.14 predates it) the operation does nothing.
#pragma once

#include "stress/actors.h"
#include "stress/rng.h"

namespace hvo::stress {

void demote_hugepages(ActorWorld& w, Rng& rng, ActorCounters& c);

}  // namespace hvo::stress
