#include "engine/sched/execution.h"

#include <algorithm>
#include <cstdint>

namespace hvo::sched {

Execution::~Execution() { reset(); }

void Execution::reset() {
  // Bodies and check first: they may capture the objects.
  cpus_.clear();
  check_ = nullptr;
  log_ = nullptr;
  for (auto it = objects_.rbegin(); it != objects_.rend(); ++it) it->destroy(it->object);
  objects_.clear();
  block_ = 0;
  offset_ = 0;
}

void* Execution::allocate(std::size_t size, std::size_t align) {
  for (; block_ < blocks_.size(); ++block_, offset_ = 0) {
    Block& b = blocks_[block_];
    // new[] of std::byte is aligned for any fundamental type only: align
    // the address, not the offset.
    const auto base = reinterpret_cast<std::uintptr_t>(b.bytes.get());
    const std::size_t start = ((base + offset_ + align - 1) & ~(align - 1)) - base;
    if (start + size <= b.size) {
      offset_ = start + size;
      return b.bytes.get() + start;
    }
  }
  // No room left: a new block, big enough for this object. It stays for the
  // next executions, which build the same objects again.
  const std::size_t bytes = std::max(kBlockSize, size + align);
  blocks_.push_back(Block{std::make_unique<std::byte[]>(bytes), bytes});
  block_ = blocks_.size() - 1;
  offset_ = 0;
  return allocate(size, align);
}

}  // namespace hvo::sched
