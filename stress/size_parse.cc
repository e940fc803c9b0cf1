#include "stress/size_parse.h"

#include <cctype>

namespace hvo::cli {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// log2 of the multiplier a unit letter names, or -1 if it names none.
int unit_shift(char c) {
  switch (lower(c)) {
    case 'k': return 10;
    case 'm': return 20;
    case 'g': return 30;
    case 't': return 40;
    case 'p': return 50;
    case 'e': return 60;
    default: return -1;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

}  // namespace

ParsedSize parse_size(std::string_view text) {
  if (text.empty()) return {0, SizeError::kEmpty};
  if (text.front() == '-') return {0, SizeError::kNegative};

  size_t i = 0;
  uint64_t value = 0;
  bool overflow = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    // Keep scanning after an overflow so "99999999999999999999X" is reported
    // as junk, not as too large: the shape of the input is checked first.
    if (value > (UINT64_MAX - digit) / 10) overflow = true;
    value = value * 10 + digit;
  }
  if (i == 0) return {0, SizeError::kNotASize};

  std::string_view rest = text.substr(i);
  int shift = 0;
  if (!rest.empty() && unit_shift(rest.front()) >= 0) {
    shift = unit_shift(rest.front());
    rest.remove_prefix(1);
  }
  // A bare "B" means bytes; "iB" only after a unit letter ("4KiB", not "4iB").
  const bool suffix_ok = rest.empty() || iequals(rest, "b") || (shift > 0 && iequals(rest, "ib"));
  if (!suffix_ok) return {0, SizeError::kNotASize};

  if (overflow || (shift > 0 && value > (UINT64_MAX >> shift))) return {0, SizeError::kOverflow};
  return {value << shift, SizeError::kNone};
}

std::string format_size(uint64_t bytes) {
  static constexpr char kUnits[] = "KMGTPE";
  if (bytes == 0) return "0";
  int unit = -1;
  while (unit + 1 < 6 && (bytes & 1023) == 0) {
    bytes >>= 10;
    ++unit;
  }
  std::string s = std::to_string(bytes);
  if (unit >= 0) s += kUnits[unit];
  return s;
}

}  // namespace hvo::cli
