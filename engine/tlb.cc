#include "engine/tlb.h"

#include "engine/check.h"

namespace hvo {

Tlb::Tlb(unsigned nr_entries) : entries_(nr_entries), mask_(nr_entries - 1) {
  HVO_CHECK(nr_entries > 0 && (nr_entries & (nr_entries - 1)) == 0, "TLB size must be a power of two");
}

void Tlb::fill(VmemmapAddr addr, Pfn frame, uint32_t generation, bool writable, bool from_pmd_leaf) {
  const uint64_t vpn = addr.value() >> kPageShift;
  entries_[vpn & mask_] = TlbEntry{vpn, frame, generation, true, writable, from_pmd_leaf};
}

void Tlb::flush_range_local(VmemmapAddr start, VmemmapAddr end) {
  const uint64_t first = start.value() >> kPageShift;
  const uint64_t last = (end.value() + kPageSize - 1) >> kPageShift;
  // A range wider than the TLB: scan the entries instead of the pages.
  if (last - first >= entries_.size()) {
    for (TlbEntry& e : entries_)
      if (e.valid && e.vpn >= first && e.vpn < last) e.valid = false;
    return;
  }
  for (uint64_t vpn = first; vpn < last; ++vpn) {
    TlbEntry& e = entries_[vpn & mask_];
    if (e.valid && e.vpn == vpn) e.valid = false;
  }
}

void Tlb::flush_all_local() {
  for (TlbEntry& e : entries_) e.valid = false;
}

void Tlb::post_flush(VmemmapAddr start, VmemmapAddr end) {
  {
    HostLockGuard g(mu_);
    if (queued_.size() < kMaxQueuedRanges)
      queued_.push_back(Range{start.value(), end.value()});
    else
      queued_full_ = true;
    // release, under mu_: an owner whose acquire load sees the new count
    // takes mu_ and finds this range queued.
    posted_.fetch_add(1, std::memory_order_release);
  }
}

void Tlb::post_flush_all() {
  {
    HostLockGuard g(mu_);
    queued_full_ = true;
    posted_.fetch_add(1, std::memory_order_release);
  }
}

void Tlb::drain_slow() {
  std::vector<Range> ranges;
  bool full;
  {
    HostLockGuard g(mu_);
    // Read under mu_: exactly the flushes counted in posted_ are queued.
    drained_ = posted_.load(std::memory_order_acquire);
    ranges.swap(queued_);
    full = queued_full_;
    queued_full_ = false;
  }
  if (full) {
    flush_all_local();
    return;
  }
  for (const Range& r : ranges) flush_range_local(VmemmapAddr(r.start), VmemmapAddr(r.end));
}

unsigned Tlb::nr_valid() const {
  unsigned n = 0;
  for (const TlbEntry& e : entries_) n += e.valid ? 1 : 0;
  return n;
}

std::vector<TlbEntry> Tlb::valid_entries() const {
  std::vector<TlbEntry> v;
  for (const TlbEntry& e : entries_)
    if (e.valid) v.push_back(e);
  return v;
}

}  // namespace hvo
