// What a scenario's setup builds for one execution: fresh state, the CPU
// bodies, the end check and the violation log to watch.
//
// Built again before every execution and torn down after it, into storage
// reused from one execution to the next: make<T>() placement-constructs in a
// retained arena and bodies are std::functions that capture a reference or
// two (stored inline, no allocation), so an execution of a small scenario
// allocates nothing once the first one has run.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/sched/verdict.h"

namespace hvo {
class ViolationLog;
}

namespace hvo::sched {

class Execution {
 public:
  Execution() = default;
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // A fresh T for this execution, destroyed (in reverse order of creation)
  // when the execution ends.
  template <class T, class... Args>
  T& make(Args&&... args) {
    void* p = allocate(sizeof(T), alignof(T));
    T* t;
    if constexpr (std::is_constructible_v<T, Args...>) {
      t = ::new (p) T(std::forward<Args>(args)...);
    } else {
      t = ::new (p) T{std::forward<Args>(args)...};  // an aggregate (clang 14 has no T(args) for those)
    }
    objects_.push_back(Object{t, [](void* o) { static_cast<T*>(o)->~T(); }});
    return *t;
  }

  // Adds a CPU: CPU i (in call order) runs `body` as a fiber.
  void cpu(std::function<void()> body) { cpus_.push_back(std::move(body)); }
  // The invariant checked once every CPU finished: kPass or kViolation.
  // Optional; an execution also fails if the watched log got a violation.
  void check(std::function<Verdict()> c) { check_ = std::move(c); }
  // The log in which the scenario's engine objects record violations. The
  // scheduler watches it at every step.
  void watch(ViolationLog& log) { log_ = &log; }

  [[nodiscard]] std::span<const std::function<void()>> cpus() const { return cpus_; }
  [[nodiscard]] ViolationLog* log() const { return log_; }
  [[nodiscard]] Verdict run_check() const { return check_ ? check_() : Verdict::kPass; }

  // Destroys this execution's objects and forgets its bodies, check and
  // log, keeping the storage for the next one.
  void reset();

 private:
  struct Object {
    void* object;
    void (*destroy)(void*);
  };
  struct Block {
    std::unique_ptr<std::byte[]> bytes;
    std::size_t size;
  };
  static constexpr std::size_t kBlockSize = 16 * 1024;

  void* allocate(std::size_t size, std::size_t align);

  std::vector<Block> blocks_;  // retained across executions
  std::size_t block_ = 0;      // the block being filled
  std::size_t offset_ = 0;     // in blocks_[block_]
  std::vector<Object> objects_;
  std::vector<std::function<void()>> cpus_;
  std::function<Verdict()> check_;
  ViolationLog* log_ = nullptr;
};

}  // namespace hvo::sched
