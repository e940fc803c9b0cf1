#include "models/memory_failure_hugetlb.h"

#include "engine/coverage.h"
#include "engine/struct_page.h"

namespace hvo {

void memory_failure_after_dissolve(const Model& model, HugetlbPool& pool, Pfn pfn, Pfn head, DissolveResult res,
                                   PoisonOnBusyFolio busy) {
  StructPageAccess& pages = pool.pages();
  if (res == DissolveResult::kDissolved) return;  // retired with the folio's frames
  if (res == DissolveResult::kRestoreFailed && model.planted(Model::kPlantedPoisonDropped)) {
    pages.clear_flag(head, PG_hwpoison);  // planted: the poison lifted as if the folio were in use
    return;
  }
  if (res == DissolveResult::kRestoreFailed) {
    // The kernel keeps the poison when the dissolve fails: PG_hwpoison stays
    // on the head and the raw page on the folio's list, the folio (back in
    // the pool) is skipped by every dequeue and dissolved when it is freed.
    pool.hwpoison().kept(pfn);
    note_error_path(error_path::kPoisonKept);
    return;
  }
  if (busy == PoisonOnBusyFolio::kKept) {
    // "res = MF_FAILED": the folio keeps PG_hwpoison and the raw page on its
    // list; its free moves them. A folio freed meanwhile retired them.
    pool.hwpoison().keep_if_handling(pfn);
    return;
  }
  // In use or already being freed: unpoison_memory() lifts the injected
  // poison again so that the folio stays usable.
  pool.hwpoison().unpoisoned(pfn);
  pages.clear_flag(head, PG_hwpoison);
}

}  // namespace hvo
