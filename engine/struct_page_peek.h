// A struct page's flags read host-side: through the page tables and
// physical memory directly, as census() reads them, with no schedule point
// and no TLB. For checks (the invariant checker at a quiescent point, the
// pool as a folio's frames leave it), which must add nothing to a run's
// figures or interleavings.
#pragma once

#include "engine/machine.h"
#include "engine/struct_page.h"
#include "engine/types.h"

namespace hvo {

// Whether pfn's struct page has `flag` set; false when its vmemmap page is
// not mapped.
[[nodiscard]] bool peek_page_flag(Machine& m, Pfn pfn, PageFlagBit flag);

}  // namespace hvo
