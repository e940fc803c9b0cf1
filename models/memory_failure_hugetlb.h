// memory_failure()'s end for a hugetlb folio, after its
// dissolve_free_hugetlb_folio() (mm/memory-failure.c: try_memory_failure_hugetlb()
// -> __page_handle_poison()): the same in every generation, so the models
// of 5.x (v17, v5.18) and of 6.x (models/common/) share it.
#pragma once

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/types.h"
#include "models/model.h"

namespace hvo {

// What a generation does with the poison of a folio its dissolve did not
// take (in use, being freed, gone): 6.x keeps it with the folio
// (folio_set_hugetlb_hwpoison() marked it under hugetlb_lock, me_huge_page()
// fails, the folio's free moves it to the raw page); the 5.x models lift it
// again (unpoison_memory()), their in-use path not being modelled.
enum class PoisonOnBusyFolio : uint8_t { kLifted, kKept };

// What becomes of the poison memory_failure() set on the folio's head
// (`head`, for the raw error page `pfn`) once the dissolve returned `res`:
// retired with the folio's frames, kept on a folio that could not be
// dissolved, or, on a folio the dissolve did not take, as `busy` says.
void memory_failure_after_dissolve(const Model& model, HugetlbPool& pool, Pfn pfn, Pfn head, DissolveResult res,
                                   PoisonOnBusyFolio busy);

}  // namespace hvo
