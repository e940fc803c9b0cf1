#include "stress/flag_values.h"

#include <fmt/format.h>

#include "engine/machine_config.h"
#include "engine/types.h"
#include "stress/size_parse.h"

namespace hvo::cli {

namespace {

[[noreturn]] void bad_value(std::string_view flag, std::string_view text, std::string_view why) {
  // fmt rather than `"'" + std::string(text)`: gcc 12 misreads that
  // operator+ (an insert at 0) as an overlapping memcpy (-Wrestrict).
  throw UsageError(std::string(flag), fmt::format("{} {}", quote_arg(text), why));
}

}  // namespace

uint64_t parse_memory_flag(std::string_view flag, std::string_view text) {
  const ParsedSize size = parse_size(text);
  const std::string max = format_size(MachineConfig::kMaxMemory);
  switch (size.error) {
    case SizeError::kNone: break;
    case SizeError::kEmpty: throw UsageError(std::string(flag), "empty value (examples: 64M, 4G)");
    case SizeError::kNegative: bad_value(flag, text, "is negative (examples: 64M, 4G)");
    case SizeError::kNotASize: bad_value(flag, text, "is not a size (examples: 64M, 4G)");
    case SizeError::kOverflow: bad_value(flag, text, "is too large (at most " + max + ")");
  }
  // Whole 2 MiB blocks: the struct pages of 2 MiB of RAM fill exactly 8
  // vmemmap frames and a 2 MiB hugepage needs a 2 MiB-aligned block, so the
  // engine never has to model a partly populated vmemmap frame or PMD.
  if (size.bytes % kPmdSize != 0) bad_value(flag, text, "is not a multiple of 2M");
  if (size.bytes < MachineConfig::kMinMemory)
    bad_value(flag, text, "is below the minimum " + format_size(MachineConfig::kMinMemory));
  if (size.bytes > MachineConfig::kMaxMemory) bad_value(flag, text, "is above the maximum " + max);
  return size.bytes;
}

uint64_t parse_count_flag(std::string_view flag, std::string_view text, uint64_t min, uint64_t max) {
  const std::string range = fmt::format("({}..{})", min, max);
  // Digits only: std::stoull would accept " 4", "+4" and "4x", and wrap "-1".
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
    bad_value(flag, text, "is not a number " + range);
  uint64_t value = 0;
  for (char c : text) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) bad_value(flag, text, "is out of range " + range);
    value = value * 10 + digit;
  }
  if (value < min || value > max) bad_value(flag, text, "is out of range " + range);
  return value;
}

void throw_not_one_of(std::string_view flag, std::string_view text, const std::string& names) {
  bad_value(flag, text, "is not one of: " + names);
}

}  // namespace hvo::cli
