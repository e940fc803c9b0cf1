// compound_head(), PageHead(), PageTail() and PageCompound() of 5.18
// (include/linux/page-flags.h), aware of fake heads.
//
// With one vmemmap page reserved (e7d324850bfc) every vmemmap page of an
// optimized folio but the first maps the head's vmemmap page read-only. The
// struct page at the start of each of those pages -- tail 64, 128, ... --
// is then the head's struct page seen at another address: it has PG_head
// and no tail bit. page_fixed_fake_head() (a6b40850c442) tells such a fake
// head from the real one by page[1]: behind a real head page[1] is the
// first tail; behind a fake head it is an alias of the first tail too, and
// its compound_head names the real head.
//
// Revert `fake-head`: compound_head() without page_fixed_fake_head(), as
// before a6b40850c442: an aligned tail of an optimized folio is its own
// head and PageHead() says yes.
#pragma once

#include <optional>

#include "engine/machine.h"
#include "models/v5_18/static_key.h"

namespace hvo::v5_18 {

class FakeHeads {
 public:
  // check_fake_heads false: the `fake-head` revert.
  FakeHeads(Machine& machine, const StaticKey& key, bool check_fake_heads)
      : m_(machine), key_(key), check_(check_fake_heads) {}

  // page_fixed_fake_head(): the real head if `page` is a fake head, else
  // `page` (a real head, a tail or any other page).
  [[nodiscard]] Pfn page_fixed_fake_head(Pfn page);
  // page_is_fake_head()
  [[nodiscard]] bool page_is_fake_head(Pfn page) { return page_fixed_fake_head(page) != page; }
  // _compound_head(): the tail bit first, then the fake-head check.
  [[nodiscard]] Pfn compound_head(Pfn page);
  // PageHead(): test_bit(PG_head) && !page_is_fake_head().
  [[nodiscard]] bool page_head(Pfn page);
  // PageTail(): READ_ONCE(compound_head) & 1 || page_is_fake_head().
  [[nodiscard]] bool page_tail(Pfn page);
  // PageCompound(): test_bit(PG_head) || READ_ONCE(compound_head) & 1.
  [[nodiscard]] bool page_compound(Pfn page);

 private:
  // The head a tail's compound_head word names, if it names a page of
  // memory (a racy reader may see anything; the kernel would oops, the
  // simulator keeps going with the page itself).
  [[nodiscard]] std::optional<Pfn> decode_tail_word(uint64_t word) const;

  Machine& m_;
  const StaticKey& key_;
  const bool check_;
};

}  // namespace hvo::v5_18
