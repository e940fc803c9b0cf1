// Allocation-failure injection, as the kernel's fail_page_alloc fault
// attribute (mm/fail_page_alloc.c, Documentation/fault-injection/).
//
// The buddy allocator asks should_fail() first, before it looks at its free
// lists (should_fail_alloc_page() in prepare_alloc_pages()). A run can then
// reach the error paths of the modelled code (a vmemmap restore that cannot
// allocate its pages, a hugepage that cannot be allocated) on purpose, and
// reach the same ones again from the same seed.
//
// Every eligible call to should_fail() takes the next allocation index
// (1-based, counted since construction). A policy decides from the index
// alone, so it needs no lock and is deterministic: the same seed fails the
// same indices. Which thread draws which index is the scheduler's business
// (fixed in controlled mode).
//
//   policy          fails the allocation with index i when
//   off             never
//   probability p   hash(seed, i - base) < p, base = the index when configured
//   nth n           i == base + n                   (once: fail-nth)
//   every-from n    i >= base + n
//
// Thread-safe. The configuration is published through a sequence lock so
// that should_fail() reads one consistent policy without taking a lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/host_mutex.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"

namespace hvo {

class AllocFailureInjector {
 public:
  enum class Policy : uint8_t { kOff, kProbability, kNth, kEveryFrom };

  // Fail each allocation with probability p in [0, 1], decided by a
  // counter-based hash of (seed, allocation index).
  void fail_with_probability(double p, uint64_t seed) EXCLUDES(write_mu_);
  // The n-th allocation from now (n >= 1) fails, once.
  void fail_nth(uint64_t n) EXCLUDES(write_mu_);
  // The n-th allocation from now (n >= 1) and every one after it fail.
  void fail_every_from(uint64_t n) EXCLUDES(write_mu_);
  void disable() EXCLUDES(write_mu_);
  // fail_page_alloc's min-order: allocations of a lower order are never
  // failed and take no index. 0 (every order) unless set; the kernel's
  // default is 1.
  void set_min_order(Order order) EXCLUDES(write_mu_);

  // should_fail_alloc_page(): true means "fail this allocation".
  [[nodiscard]] bool should_fail(Order order);

  [[nodiscard]] Policy policy() const;
  // Failures injected since construction.
  [[nodiscard]] uint64_t injected() const { return injected_.load(std::memory_order_relaxed); }
  // Allocation indices drawn since construction.
  [[nodiscard]] uint64_t allocations() const { return allocations_.load(std::memory_order_relaxed); }

 private:
  struct Config {
    Policy policy = Policy::kOff;
    uint8_t min_order = 0;
    uint64_t seed = 0;
    double probability = 0;
    uint64_t base = 0;  // allocation index when the policy was set
    uint64_t n = 0;     // nth / every-from distance from base
  };

  // A consistent snapshot, for readers (the sequence-lock read side).
  [[nodiscard]] Config read_config() const;
  // The fields as they are: consistent for a writer, or for a reader whose
  // sequence check passes.
  [[nodiscard]] Config load_fields() const;
  // Publishes c (the sequence-lock write side).
  void store_fields(const Config& c) REQUIRES(write_mu_);
  // Sets a policy relative to the current allocation index.
  void set_policy(Policy policy, double probability, uint64_t seed, uint64_t n) EXCLUDES(write_mu_);
  [[nodiscard]] static bool decide(const Config& c, uint64_t index);

  // Writers serialise on write_mu_ and make seq_ odd while they write; a
  // reader retries when it saw an odd seq_ or seq_ changed under it. All
  // accesses are seq_cst: the configuration changes rarely and the reads are
  // a handful of loads, so the simplest correct ordering costs nothing.
  HostMutex write_mu_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<Policy> policy_{Policy::kOff};
  std::atomic<uint8_t> min_order_{0};
  std::atomic<uint64_t> seed_{0};
  std::atomic<double> probability_{0};
  std::atomic<uint64_t> base_{0};
  std::atomic<uint64_t> n_{0};

  std::atomic<uint64_t> allocations_{0};
  std::atomic<uint64_t> injected_{0};
};

}  // namespace hvo
