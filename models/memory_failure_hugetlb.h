// memory_failure()'s end for a hugetlb folio, after its
// dissolve_free_hugetlb_folio() (mm/memory-failure.c: try_memory_failure_hugetlb()
// -> __page_handle_poison()): the same in every generation, so the models
// of 5.x (v17, v5.18) and of 6.x (models/common/) share it.
#pragma once

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/types.h"
#include "models/model.h"

namespace hvo {

// What becomes of the poison memory_failure() set on the folio's head
// (`head`, for the raw error page `pfn`) once the dissolve returned `res`:
// retired with the folio's frames, kept on a folio that could not be
// dissolved, or lifted again on a folio in use.
void memory_failure_after_dissolve(const Model& model, HugetlbPool& pool, Pfn pfn, Pfn head, DissolveResult res);

}  // namespace hvo
