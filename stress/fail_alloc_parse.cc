#include "stress/fail_alloc_parse.h"

#include <charconv>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

namespace hvo::stress {

namespace {

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_percent(std::string_view s, double& out) {
  // from_chars for double is not in libstdc++ 12's every build; strtod on a
  // copy, checked to consume it all.
  if (s.empty() || s.find_first_not_of("0123456789.") != std::string_view::npos) return false;
  const std::string copy(s);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && out >= 0 && out <= 100;
}

}  // namespace

std::variant<FaultAttr, std::string> parse_fail_alloc(std::string_view text) {
  FaultAttr a;
  std::set<std::string, std::less<>> seen;
  if (text.empty()) return std::string("empty (example: probability=1,interval=1,times=100)");
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return fmt::format("'{}' is not key=value", item);
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (!seen.insert(std::string(key)).second) return fmt::format("'{}' given more than once", key);
    uint64_t n = 0;
    if (key == "probability") {
      if (!parse_percent(value, a.probability_percent))
        return fmt::format("probability '{}' is not a percentage in [0, 100]", value);
    } else if (key == "interval") {
      if (!parse_u64(value, n) || n == 0) return fmt::format("interval '{}' is not a count >= 1", value);
      a.interval = n;
    } else if (key == "times") {
      if (value == "-1") {
        a.times = -1;
      } else {
        if (!parse_u64(value, n) || n > (uint64_t{1} << 40))
          return fmt::format("times '{}' is not -1 or a count", value);
        a.times = static_cast<int64_t>(n);
      }
    } else if (key == "min-order") {
      if (!parse_u64(value, n) || n > 18) return fmt::format("min-order '{}' is not an order in [0, 18]", value);
      a.min_order = Order(static_cast<uint8_t>(n));
    } else {
      return fmt::format("unknown key '{}' (known: probability, interval, times, min-order)", key);
    }
  }
  if (!seen.contains("probability")) return std::string("needs probability=P (percent)");
  return a;
}

std::string to_string(const FaultAttr& a) {
  return fmt::format("probability={},interval={},times={},min-order={}", a.probability_percent, a.interval, a.times,
                     a.min_order.value());
}

}  // namespace hvo::stress
