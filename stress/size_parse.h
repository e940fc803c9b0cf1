// Parses byte sizes as users write them on a command line: "64M", "4G",
// "1T", "4096K", "4GiB", "2mb", "1048576". Suffixes are binary (K = 1024),
// as the kernel's memparse() reads "hugepagesz=2M", and case-insensitive.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hvo::cli {

enum class SizeError : uint8_t {
  kNone,
  kEmpty,     // ""
  kNegative,  // "-64M"
  kNotASize,  // "12X", "1.5G", " 4G", "M"
  kOverflow,  // does not fit in 64 bits
};

struct ParsedSize {
  uint64_t bytes = 0;
  SizeError error = SizeError::kNone;

  [[nodiscard]] bool ok() const { return error == SizeError::kNone; }
};

// Grammar: DIGITS [K|M|G|T|P|E] [iB|B], suffix letters in any case. Nothing
// else is accepted: no sign, no spaces, no fractions.
[[nodiscard]] ParsedSize parse_size(std::string_view text);

// The inverse for display: the largest unit that divides `bytes` exactly
// ("64M", "1T", "4097"), so parse_size(format_size(n)).bytes == n.
[[nodiscard]] std::string format_size(uint64_t bytes);

}  // namespace hvo::cli
