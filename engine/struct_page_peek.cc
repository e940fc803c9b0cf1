#include "engine/struct_page_peek.h"

#include "engine/pte.h"

namespace hvo {

bool peek_page_flag(Machine& m, Pfn pfn, PageFlagBit flag) {
  const VmemmapAddr a = pfn_to_page(pfn);
  const SoftWalk w = m.page_tables().walk(a);
  if (!w.present) return false;
  const uint64_t flags = m.mem().load<uint64_t>(
      pfn_to_phys(w.frame) + a.value() % kPageSize + static_cast<uint64_t>(PageWord::kFlags), std::memory_order_relaxed);
  return (flags & page_flag(flag)) != 0;
}

}  // namespace hvo
