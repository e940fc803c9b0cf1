// Plain-text output helpers: aligned "name  value" listings and human sizes.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace hvo::cli {

using Fields = std::vector<std::pair<std::string, std::string>>;

// One line per field, values aligned two spaces past the longest name.
void print_fields(std::ostream& out, const Fields& fields);

// "256 MiB", "4 KiB", "235.9 MiB", "17 bytes": for people; JSON gives bytes.
[[nodiscard]] std::string human_bytes(uint64_t bytes);

// "0xffffea0000000000".
[[nodiscard]] std::string hex(uint64_t value);

}  // namespace hvo::cli
