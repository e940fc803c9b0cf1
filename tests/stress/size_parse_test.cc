// parse_size / format_size and the flag converters, called directly.
#include "stress/size_parse.h"

#include <gtest/gtest.h>

#include "engine/machine_config.h"
#include "stress/flag_values.h"

namespace hvo::cli {
namespace {

constexpr uint64_t KiB = 1024, MiB = KiB << 10, GiB = MiB << 10, TiB = GiB << 10;

uint64_t bytes(std::string_view s) {
  const ParsedSize p = parse_size(s);
  EXPECT_TRUE(p.ok()) << "'" << s << "'";
  return p.bytes;
}

TEST(ParseSize, AcceptsUnitsInAnyCaseWithOptionalBytesSuffix) {
  EXPECT_EQ(bytes("64M"), 64 * MiB);
  EXPECT_EQ(bytes("4G"), 4 * GiB);
  EXPECT_EQ(bytes("1T"), TiB);
  EXPECT_EQ(bytes("2M"), 2 * MiB);
  EXPECT_EQ(bytes("4096K"), 4 * MiB);
  EXPECT_EQ(bytes("64m"), 64 * MiB);
  EXPECT_EQ(bytes("4GiB"), 4 * GiB);
  EXPECT_EQ(bytes("4gib"), 4 * GiB);
  EXPECT_EQ(bytes("4GB"), 4 * GiB);
  EXPECT_EQ(bytes("4gb"), 4 * GiB);
  EXPECT_EQ(bytes("1P"), 1024 * TiB);
}

TEST(ParseSize, AcceptsPlainBytes) {
  EXPECT_EQ(bytes("0"), 0u);
  EXPECT_EQ(bytes("4096"), 4096u);
  EXPECT_EQ(bytes("4096B"), 4096u);
  EXPECT_EQ(bytes("0064M"), 64 * MiB);
  EXPECT_EQ(bytes("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSize, RejectsEmpty) { EXPECT_EQ(parse_size("").error, SizeError::kEmpty); }

TEST(ParseSize, RejectsNegatives) {
  EXPECT_EQ(parse_size("-64M").error, SizeError::kNegative);
  EXPECT_EQ(parse_size("-1").error, SizeError::kNegative);
}

TEST(ParseSize, RejectsJunk) {
  for (const char* junk : {"12X", "M", "GiB", "1.5G", " 4G", "4G ", "+4G", "4 G", "4GiBs", "4iB", "4MM",
                           "0x100", "4e3", "abc", "4Gi", "4BB"}) {
    EXPECT_EQ(parse_size(junk).error, SizeError::kNotASize) << "'" << junk << "'";
  }
}

TEST(ParseSize, RejectsOverflow) {
  EXPECT_EQ(parse_size("18446744073709551616").error, SizeError::kOverflow);
  EXPECT_EQ(parse_size("16E").error, SizeError::kOverflow);
  EXPECT_EQ(parse_size("16777216T").error, SizeError::kOverflow);
  EXPECT_EQ(parse_size("99999999999999999999999999").error, SizeError::kOverflow);
  // The shape is judged before the magnitude.
  EXPECT_EQ(parse_size("99999999999999999999999999X").error, SizeError::kNotASize);
}

TEST(FormatSize, PicksTheLargestExactUnitAndRoundTrips) {
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(4097), "4097");
  EXPECT_EQ(format_size(4096), "4K");
  EXPECT_EQ(format_size(64 * MiB), "64M");
  EXPECT_EQ(format_size(TiB), "1T");
  EXPECT_EQ(format_size(3 * MiB + 512 * KiB), "3584K");
  for (uint64_t n : {uint64_t{1}, 4 * GiB, 5 * TiB + KiB, UINT64_MAX}) EXPECT_EQ(bytes(format_size(n)), n);
}

std::string usage_message(auto&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.where() + ": " + e.what();
  }
  return "no error";
}

TEST(MemoryFlag, AcceptsMultiplesOf2MWithinTheMachineLimits) {
  EXPECT_EQ(parse_memory_flag("--memory", "64M"), MachineConfig::kMinMemory);
  EXPECT_EQ(parse_memory_flag("--memory", "1T"), MachineConfig::kMaxMemory);
  EXPECT_EQ(parse_memory_flag("--memory", "258M"), 258 * MiB);
}

TEST(MemoryFlag, NamesTheFlagAndTheProblem) {
  auto msg = [](const char* text) { return usage_message([&] { (void)parse_memory_flag("--memory", text); }); };
  EXPECT_EQ(msg("12X"), "--memory: '12X' is not a size (examples: 64M, 4G)");
  EXPECT_EQ(msg(""), "--memory: empty value (examples: 64M, 4G)");
  EXPECT_EQ(msg("-64M"), "--memory: '-64M' is negative (examples: 64M, 4G)");
  EXPECT_EQ(msg("99999999999T"), "--memory: '99999999999T' is too large (at most 1T)");
  EXPECT_EQ(msg("65M"), "--memory: '65M' is not a multiple of 2M");
  EXPECT_EQ(msg("32M"), "--memory: '32M' is below the minimum 64M");
  EXPECT_EQ(msg("2T"), "--memory: '2T' is above the maximum 1T");
}

TEST(CountFlag, AcceptsDecimalsInRange) {
  EXPECT_EQ(parse_count_flag("--cpus", "1", 1, 64), 1u);
  EXPECT_EQ(parse_count_flag("--cpus", "064", 1, 64), 64u);
}

TEST(CountFlag, RejectsNonNumbersAndOutOfRange) {
  auto msg = [](const char* text) { return usage_message([&] { (void)parse_count_flag("--cpus", text, 1, 64); }); };
  EXPECT_EQ(msg("abc"), "--cpus: 'abc' is not a number (1..64)");
  EXPECT_EQ(msg(""), "--cpus: an empty value is not a number (1..64)");
  EXPECT_EQ(msg("-1"), "--cpus: '-1' is not a number (1..64)");
  EXPECT_EQ(msg("4x"), "--cpus: '4x' is not a number (1..64)");
  EXPECT_EQ(msg("0"), "--cpus: '0' is out of range (1..64)");
  EXPECT_EQ(msg("65"), "--cpus: '65' is out of range (1..64)");
  EXPECT_EQ(msg("99999999999999999999999"), "--cpus: '99999999999999999999999' is out of range (1..64)");
}

TEST(ChoiceFlag, NamesTheChoices) {
  enum class E { kA, kB };
  EXPECT_EQ(parse_choice_flag<E>("--x", "b", {{"a", E::kA}, {"b", E::kB}}), E::kB);
  EXPECT_EQ(usage_message([] { (void)parse_choice_flag<E>("--x", "c", {{"a", E::kA}, {"b", E::kB}}); }),
            "--x: 'c' is not one of: a, b");
}

}  // namespace
}  // namespace hvo::cli
