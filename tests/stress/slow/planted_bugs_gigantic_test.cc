// Issue 19's planted bug classes that only a 1 GiB page reaches, each
// execution preparing 262,144 struct pages (tests/stress/planted_bugs.h):
// slow, so labelled slow with the rest of this directory.
#include "tests/stress/planted_bugs.h"

namespace hvo::stress::planted {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Issue19Gigantic, PlantedBug,
    ::testing::Values(
        // The rollback after -ENOMEM half-way through a 1 GiB page's walk
        // (the PTE table of a later vmemmap PMD cannot be had) walks back
        // one PTE too few: that tail stays mapped read-only onto the head's
        // page, which the shrink taking the folio off the free list sees.
        Plant{"rollback-one-pte-short", "v5.18", "grow", 1, 1, 0, 0, true, 1, 40, Invariant::kVmemmapShape}),
    plant_name);

}  // namespace
}  // namespace hvo::stress::planted
