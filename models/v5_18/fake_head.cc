#include "models/v5_18/fake_head.h"

#include "engine/struct_page.h"

namespace hvo::v5_18 {

std::optional<Pfn> FakeHeads::decode_tail_word(uint64_t word) const {
  if (!is_tail_word(word) || (word & ~uint64_t{1}) < kVmemmapBase) return std::nullopt;
  const Pfn head = head_of_tail_word(word);
  if (!m_.mem().valid(head)) return std::nullopt;
  return head;
}

Pfn FakeHeads::page_fixed_fake_head(Pfn page) {
  // static_branch_maybe(CONFIG_HUGETLB_PAGE_FREE_VMEMMAP_DEFAULT_ON, &key):
  // nothing to fix while no folio can have fake heads.
  if (!check_ || !key_.enabled()) return page;
  // "Only addresses aligned with PAGE_SIZE of struct page may be fake head
  // struct page. The alignment check aims to avoid access the fields (e.g.
  // compound_head) of the @page[1]."
  if (pfn_to_page(page).offset_in_page() != 0 || !m_.pages().test_flag(page, PG_head)) return page;
  // "We can safely access the field of the @page[1] with PG_head because
  // the @page is a compound page composed with at least two contiguous
  // pages." READ_ONCE(page[1].compound_head).
  if (!m_.mem().valid(page + 1)) return page;
  const uint64_t head = m_.pages().load(page + 1, PageWord::kCompoundHead);
  // likely(head & 1): page[1] is a tail, so `page` is a head seen through
  // an alias, and page[1] names the real one.
  return decode_tail_word(head).value_or(page);
}

Pfn FakeHeads::compound_head(Pfn page) {
  const uint64_t head = m_.pages().load(page, PageWord::kCompoundHead);  // READ_ONCE(page->compound_head)
  if (is_tail_word(head)) return decode_tail_word(head).value_or(page);
  return page_fixed_fake_head(page);
}

bool FakeHeads::page_head(Pfn page) {
  return m_.pages().test_flag(page, PG_head) && !page_is_fake_head(page);
}

bool FakeHeads::page_tail(Pfn page) {
  return is_tail_word(m_.pages().load(page, PageWord::kCompoundHead)) || page_is_fake_head(page);
}

bool FakeHeads::page_compound(Pfn page) {
  return m_.pages().test_flag(page, PG_head) || is_tail_word(m_.pages().load(page, PageWord::kCompoundHead));
}

}  // namespace hvo::v5_18
