#include "engine/sched/store_buffer.h"

#include <atomic>

namespace hvo::sched {

namespace {
bool overlaps(uint64_t a, uint8_t as, uint64_t b, uint8_t bs) { return a < b + bs && b < a + as; }

// Relaxed host stores: controlled mode runs every CPU on one OS thread, the
// atomicity only keeps the tool's host accesses uniform with PhysMem's.
void write_host(void* host, uint64_t value, uint8_t size) {
  switch (size) {
    case 1: std::atomic_ref<uint8_t>(*static_cast<uint8_t*>(host)).store(static_cast<uint8_t>(value), std::memory_order_relaxed); break;
    case 2: std::atomic_ref<uint16_t>(*static_cast<uint16_t*>(host)).store(static_cast<uint16_t>(value), std::memory_order_relaxed); break;
    case 4: std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(host)).store(static_cast<uint32_t>(value), std::memory_order_relaxed); break;
    default: std::atomic_ref<uint64_t>(*static_cast<uint64_t*>(host)).store(value, std::memory_order_relaxed); break;
  }
}
}  // namespace

StoreBuffer::Forward StoreBuffer::forward(uint64_t address, uint8_t size, uint64_t& value) const {
  for (size_t i = entries_.size(); i-- > 0;) {
    const BufferedStore& e = entries_[i];
    if (!overlaps(e.address, e.size, address, size)) continue;
    if (e.address != address || e.size != size) return Forward::kOverlap;
    value = e.value;
    return Forward::kHit;
  }
  return Forward::kMiss;
}

std::optional<size_t> StoreBuffer::overtaking() const {
  for (size_t i = entries_.size(); i-- > 1;) {
    const BufferedStore& e = entries_[i];
    bool ok = !e.release;
    for (size_t j = 1; ok && j <= i; ++j) ok = !entries_[j].after_barrier;
    for (size_t j = 0; ok && j < i; ++j) ok = !overlaps(entries_[j].address, entries_[j].size, e.address, e.size);
    if (ok) return i;
  }
  return std::nullopt;
}

uint64_t StoreBuffer::drain(size_t i) {
  const BufferedStore e = entries_[i];
  write_host(e.host, e.value, e.size);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
  if (entries_.empty()) next_barrier_ = false;
  return e.address;
}

}  // namespace hvo::sched
