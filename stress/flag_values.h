// Turns one flag's text into a checked value, or throws a UsageError that
// names the flag. Each subcommand declares its flags as plain strings and
// converts them here, so every bad value gets the same kind of one-line
// message ("--memory: '12X' is not a size (examples: 64M, 4G)") instead of
// Boost's generic "the argument ('12X') for option '--memory' is invalid".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "stress/usage_error.h"

namespace hvo::cli {

// Simulated RAM size: a size (see size_parse.h), a multiple of 2 MiB, within
// [MachineConfig::kMinMemory, MachineConfig::kMaxMemory].
[[nodiscard]] uint64_t parse_memory_flag(std::string_view flag, std::string_view text);

// A decimal count in [min, max].
[[nodiscard]] uint64_t parse_count_flag(std::string_view flag, std::string_view text, uint64_t min,
                                        uint64_t max);

// Throws parse_choice_flag()'s UsageError (out of line: one copy of the
// message's construction, not one per choice type).
[[noreturn]] void throw_not_one_of(std::string_view flag, std::string_view text, const std::string& names);

// One of a fixed set of names, e.g. --pte-access once|plain.
template <class E>
[[nodiscard]] E parse_choice_flag(std::string_view flag, std::string_view text,
                                  std::initializer_list<std::pair<std::string_view, E>> choices) {
  std::string names;
  for (const auto& [name, value] : choices) {
    if (name == text) return value;
    names += names.empty() ? "" : ", ";
    names += name;
  }
  throw_not_one_of(flag, text, names);
}

}  // namespace hvo::cli
