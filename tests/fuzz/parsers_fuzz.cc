// libFuzzer: the flag value parsers (sizes, durations, counts, choices) on
// any text. Each returns a value or throws UsageError; nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stress/duration_parse.h"
#include "stress/flag_values.h"
#include "stress/size_parse.h"
#include "stress/usage_error.h"

namespace {

template <class F>
void expect_value_or_usage_error(const F& f) {
  try {
    (void)f();
  } catch (const hvo::cli::UsageError& e) {
    // The message is bounded whatever the input (abbreviate()).
    if (std::string_view(e.what()).size() > 400) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hvo::cli;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ParsedSize s = parse_size(text);
  // The documented round trip: parse_size(format_size(n)) == n.
  if (s.ok() && parse_size(format_size(s.bytes)).bytes != s.bytes) __builtin_trap();
  expect_value_or_usage_error([&] { return parse_memory_flag("--memory", text); });
  expect_value_or_usage_error([&] { return parse_duration_flag("--duration", text); });
  expect_value_or_usage_error([&] { return parse_count_flag("--seeds", text, 1, uint64_t{1} << 40); });
  expect_value_or_usage_error([&] { return parse_count_flag("--seed", text, 0, UINT64_MAX); });
  expect_value_or_usage_error(
      [&] { return parse_choice_flag<int>("--strategy", text, {{"random", 0}, {"pct", 1}, {"bounded", 2}}); });
  return 0;
}
