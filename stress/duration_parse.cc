#include "stress/duration_parse.h"

#include <string>

#include <fmt/format.h>

#include "stress/usage_error.h"

namespace hvo::cli {

uint64_t parse_duration_flag(std::string_view flag, std::string_view text) {
  constexpr uint64_t kMaxMs = uint64_t{7} * 24 * 3600 * 1000;
  const auto bad = [&](const std::string& why) -> uint64_t {
    throw UsageError(std::string(flag), fmt::format("{} {}", quote_arg(text), why));  // see flag_values.cc
  };
  const size_t digits = text.find_first_not_of("0123456789");
  if (text.empty() || digits == 0) return bad("is not a duration (examples: 30s, 2m, 1h, 500ms)");
  const std::string_view number = text.substr(0, digits == std::string_view::npos ? text.size() : digits);
  const std::string_view unit = digits == std::string_view::npos ? "s" : text.substr(digits);
  uint64_t per;
  if (unit == "ms") per = 1;
  else if (unit == "s") per = 1000;
  else if (unit == "m") per = 60 * 1000;
  else if (unit == "h") per = 3600 * 1000;
  else return bad("is not a duration (units: ms, s, m, h)");
  if (number.size() > 12) return bad("is too long (at most a week)");
  const uint64_t value = std::stoull(std::string(number));
  if (value == 0) return bad("must be more than zero");
  if (value > kMaxMs / per) return bad("is too long (at most a week)");
  return value * per;
}

}  // namespace hvo::cli
