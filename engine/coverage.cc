#include "engine/coverage.h"

#include <algorithm>
#include <cstdint>

namespace hvo {

CoverageReport& CoverageReport::operator+=(const CoverageReport& o) {
  for (const auto& [k, v] : o.functions) functions[k] += v;
  for (const auto& [k, v] : o.errors) errors[k] += v;
  for (const auto& [k, v] : o.pairs) pairs[k] += v;
  return *this;
}

uint64_t CoverageReport::new_items(const CoverageReport& seen) const {
  uint64_t n = 0;
  for (const auto& [k, v] : functions) n += seen.functions.count(k) == 0 ? 1 : 0;
  for (const auto& [k, v] : errors) n += seen.errors.count(k) == 0 ? 1 : 0;
  for (const auto& [k, v] : pairs) n += seen.pairs.count(k) == 0 ? 1 : 0;
  return n;
}

CoverageSink::CoverageSink() : pairs_(kMaxNames * kMaxNames, 0) { current_.fill(kNone); }

int16_t CoverageSink::slot(const char* name) {
  // Open addressing on the pointer: a literal's address is its identity.
  const auto h = static_cast<unsigned>((reinterpret_cast<uintptr_t>(name) >> 3) * 0x9e3779b1u);
  for (unsigned i = 0; i < kMaxNames; ++i) {
    const unsigned s = (h + i) % kMaxNames;
    if (names_[s] == name) return static_cast<int16_t>(s);
    if (names_[s] == nullptr) {
      names_[s] = name;
      return static_cast<int16_t>(s);
    }
  }
  return kNone;
}

void CoverageSink::enter(unsigned cpu, const char* name) {
  const int16_t s = slot(name);
  if (s == kNone || cpu >= kMaxCpus) return;
  ++entered_[s];
  // Interleaved: entered while another CPU is inside a function.
  for (unsigned c = 0; c < kMaxCpus; ++c) {
    const int16_t o = current_[c];
    if (c == cpu || o == kNone) continue;
    const auto lo = static_cast<unsigned>(std::min(s, o));
    const auto hi = static_cast<unsigned>(std::max(s, o));
    ++pairs_[lo * kMaxNames + hi];
  }
  current_[cpu] = s;
}

void CoverageSink::leave(unsigned cpu, const char* prev) {
  if (cpu >= kMaxCpus) return;
  current_[cpu] = prev == nullptr ? kNone : slot(prev);
}

void CoverageSink::error_path(const char* what) {
  const int16_t s = slot(what);
  if (s != kNone) ++taken_[s];
}

CoverageReport CoverageSink::report() const {
  CoverageReport r;
  for (unsigned s = 0; s < kMaxNames; ++s) {
    if (names_[s] == nullptr) continue;
    if (entered_[s] != 0) r.functions[names_[s]] += entered_[s];
    if (taken_[s] != 0) r.errors[names_[s]] += taken_[s];
    for (unsigned t = s; t < kMaxNames; ++t) {
      const uint32_t n = pairs_[s * kMaxNames + t];
      if (n == 0 || names_[t] == nullptr) continue;
      std::string a = names_[s], b = names_[t];
      if (b < a) std::swap(a, b);
      r.pairs[{a, b}] += n;
    }
  }
  return r;
}

}  // namespace hvo
