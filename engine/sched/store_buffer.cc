#include "engine/sched/store_buffer.h"

#include <algorithm>
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

// Relaxed for the same reason as write_host().
uint64_t load_host(const void* host, uint8_t size) {
  switch (size) {
    case 1: return std::atomic_ref<uint8_t>(*static_cast<uint8_t*>(const_cast<void*>(host))).load(std::memory_order_relaxed);
    case 2: return std::atomic_ref<uint16_t>(*static_cast<uint16_t*>(const_cast<void*>(host))).load(std::memory_order_relaxed);
    case 4: return std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(const_cast<void*>(host))).load(std::memory_order_relaxed);
    default: return std::atomic_ref<uint64_t>(*static_cast<uint64_t*>(const_cast<void*>(host))).load(std::memory_order_relaxed);
  }
}

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

StoreBuffer::Overtakers StoreBuffer::overtaking() const {
  // Only entries before the first smp_wmb() may overtake the oldest: find
  // it once, not for every candidate (a page copy buffers 512 stores). A
  // release store may not overtake, but later stores may overtake it
  // (release is one-way).
  size_t end = entries_.size();
  for (size_t j = 1; j < end; ++j) {
    if (entries_[j].after_barrier) {
      end = j;
      break;
    }
  }
  auto may_overtake = [&](size_t i) {
    const BufferedStore& e = entries_[i];
    if (e.release) return false;
    for (size_t j = 0; j < i; ++j)
      if (overlaps(entries_[j].address, entries_[j].size, e.address, e.size)) return false;
    return true;
  };
  Overtakers o;
  for (size_t i = 1; i < std::min<size_t>(end, 63); ++i)
    if (may_overtake(i)) o.choices |= uint64_t{1} << i;
  for (size_t i = end; i-- > 63;) {
    if (may_overtake(i)) {
      o.choices |= uint64_t{1} << 63;
      o.youngest_beyond = i;
      break;
    }
  }
  return o;
}

BufferedStore StoreBuffer::drain(size_t i) {
  BufferedStore e = entries_[i];
  const uint64_t old = load_host(e.host, e.size);
  write_host(e.host, e.value, e.size);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
  if (entries_.empty()) next_barrier_ = false;
  e.value = old;
  return e;
}

void InvalidationQueue::push(uint64_t address, uint8_t size, uint64_t old_value) {
  if (entries_.size() == kCapacity) entries_.erase(entries_.begin());
  entries_.push_back(StaleEntry{address, old_value, size});
}

void InvalidationQueue::forget(uint64_t address, uint8_t size) {
  std::erase_if(entries_, [&](const StaleEntry& e) { return overlaps(e.address, e.size, address, size); });
}

InvalidationQueue::Lookup InvalidationQueue::lookup(uint64_t address, uint8_t size, uint64_t& value) {
  for (const StaleEntry& e : entries_) {
    if (!overlaps(e.address, e.size, address, size)) continue;
    if (e.address != address || e.size != size) {
      forget(address, size);
      return Lookup::kFresh;
    }
    value = e.value;
    return Lookup::kStale;
  }
  return Lookup::kFresh;
}

}  // namespace hvo::sched
