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
//   fault-attr      fail_page_alloc's knobs (FaultAttr): i - base is a
//                   multiple of interval, hash(seed, i - base) < probability,
//                   and a failure of `times` is left (then one is used)
//
// The filter before any policy is should_fail_alloc_page()'s: an allocation
// with __GFP_NOFAIL, or below min-order, is never failed and takes no index.
//
// A decider (AllocDecider, engine/alloc_decider.h) replaces the policy while
// one is installed: the controlled scheduler's side installs one for an
// execution so that each eligible allocation is an explored, recorded and
// replayed choice (engine/sched/alloc_choice.h). Installed and removed only
// while no allocation runs (a controlled execution's setup and check).
//
// Thread-safe. The configuration is published through a sequence lock so
// that should_fail() reads one consistent policy without taking a lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/alloc_decider.h"
#include "engine/gfp.h"
#include "engine/host_mutex.h"
#include "engine/thread_annotations.h"
#include "engine/types.h"

namespace hvo {

// fail_page_alloc's debugfs knobs (Documentation/fault-injection/): what
// `--fail-alloc probability=P,interval=N,times=N,min-order=N` sets.
struct FaultAttr {
  double probability_percent = 0;  // "probability": likelihood of failure, in percent
  uint64_t interval = 1;           // "interval": only every interval-th eligible call may fail
  int64_t times = -1;              // "times": failures left; -1 no limit
  Order min_order{0};              // "min-order": lower orders never fail
  friend bool operator==(const FaultAttr&, const FaultAttr&) = default;
};

class AllocFailureInjector {
 public:
  enum class Policy : uint8_t { kOff, kProbability, kNth, kEveryFrom, kFaultAttr };

  // Fail each allocation with probability p in [0, 1], decided by a
  // counter-based hash of (seed, allocation index).
  void fail_with_probability(double p, uint64_t seed) EXCLUDES(write_mu_);
  // The n-th allocation from now (n >= 1) fails, once.
  void fail_nth(uint64_t n) EXCLUDES(write_mu_);
  // The n-th allocation from now (n >= 1) and every one after it fail.
  void fail_every_from(uint64_t n) EXCLUDES(write_mu_);
  // fail_page_alloc's knobs (its should_fail() order: interval, then
  // probability, then times); sets min order too.
  void configure(const FaultAttr& attr, uint64_t seed) EXCLUDES(write_mu_);
  void disable() EXCLUDES(write_mu_);
  // Installs (or, with nullptr, removes) the decider that replaces the
  // policy. Only while no allocation runs.
  void set_decider(AllocDecider* decider) { decider_.store(decider, std::memory_order_relaxed); }
  // fail_page_alloc's min-order: allocations of a lower order are never
  // failed and take no index. 0 (every order) unless set; the kernel's
  // default is 1.
  void set_min_order(Order order) EXCLUDES(write_mu_);

  // should_fail_alloc_page(): true means "fail this allocation".
  [[nodiscard]] bool should_fail(Gfp gfp, Order order);
  [[nodiscard]] bool should_fail(Order order) { return should_fail(Gfp::kKernel, order); }

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
    uint64_t n = 0;     // nth / every-from distance from base; fault-attr: the interval
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
  // fault-attr's "times": takes one failure if any is left (-1: unlimited).
  [[nodiscard]] bool take_time();

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

  // fault-attr's failures left (-1: no limit). A counter the failing
  // threads share, as the kernel's atomic_t attr->times.
  std::atomic<int64_t> times_left_{-1};
  // Controlled mode's decider, or null: relaxed, as it changes only while no
  // allocation runs (the execution's one OS thread sets it).
  std::atomic<AllocDecider*> decider_{nullptr};

  std::atomic<uint64_t> allocations_{0};
  std::atomic<uint64_t> injected_{0};
};

}  // namespace hvo
