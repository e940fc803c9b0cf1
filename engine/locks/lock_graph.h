// The lock-order graph lockdep learns: one node per lock class, an edge
// A -> B when B was acquired while A was held ("A before B").
//
// At most kMaxLockClasses nodes, so a node's successors are one 64-bit word
// and the whole graph is 512 bytes. The graph Lockdep keeps here is acyclic
// by construction: an edge that would close a cycle is reported instead of
// added (check_prevs_add() in kernel/locking/lockdep.c does the same search
// before adding a dependency). Not thread-safe: Lockdep guards it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace hvo {

inline constexpr unsigned kMaxLockClasses = 64;

class LockOrderGraph {
 public:
  [[nodiscard]] bool has_edge(unsigned from, unsigned to) const { return (after_[from] >> to) & 1U; }
  void add_edge(unsigned from, unsigned to);

  // A shortest path from -> ... -> to along learned edges, both ends
  // included; empty when `to` is not reachable. path(a, a) is {a}.
  [[nodiscard]] std::vector<unsigned> path(unsigned from, unsigned to) const;

 private:
  std::array<uint64_t, kMaxLockClasses> after_{};  // after_[a] bit b: edge a -> b
};

}  // namespace hvo
