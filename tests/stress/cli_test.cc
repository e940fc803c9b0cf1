// hvo-stress as its users see it: the built binary (HVO_STRESS_BINARY) is run
// as a child process and its exit code, stdout and stderr are checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "engine/types.h"
#include "engine/violation.h"
#include "stress/exit_code.h"
#include "tests/stress/subprocess.h"

namespace hvo::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
namespace json = boost::json;

constexpr int kOk = to_int(ExitCode::kOk);
constexpr int kUsage = to_int(ExitCode::kUsage);

testing::RunResult hvo_stress(const std::vector<std::string>& args) {
  return testing::run_program(HVO_STRESS_BINARY, args);
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

// Scripts branch on these numbers (docs/architecture.md): they must never move.
TEST(ExitCodes, AreTheContractsNumbers) {
  EXPECT_EQ(to_int(ExitCode::kOk), 0);
  EXPECT_EQ(to_int(ExitCode::kViolation), 1);
  EXPECT_EQ(to_int(ExitCode::kUsage), 2);
  EXPECT_EQ(to_int(ExitCode::kInternal), 3);
}

// --- bad input: exit 2, one line on stderr naming the culprit, no stdout ----

struct BadInput {
  std::string name;
  std::vector<std::string> args;
  std::string names;  // what the message must mention (a flag, usually)
};

// Shows the command line in test output instead of the struct's bytes.
void PrintTo(const BadInput& c, std::ostream* os) {
  *os << "hvo-stress";
  for (const std::string& a : c.args) *os << " '" << a << "'";
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, ExitsWithUsageAndOneLineNamingTheFlag) {
  const BadInput& c = GetParam();
  const testing::RunResult r = hvo_stress(c.args);
  EXPECT_EQ(r.exit_code, kUsage) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("hvo-stress: " + c.names));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

const BadInput kBadInputs[] = {
    {"UnknownCommand", {"frobnicate"}, "frobnicate: unknown command"},
    {"UnknownTopLevelFlag", {"--frobnicate"}, "--frobnicate: unknown flag"},
    {"UnknownFlag", {"describe", "--frobnicate"}, "--frobnicate: unknown flag"},
    {"AbbreviatedFlag", {"describe", "--mem", "64M"}, "--mem: unknown flag"},
    {"MissingValue", {"describe", "--memory"}, "--memory: missing value"},
    {"ValueIsAnotherFlag", {"describe", "--memory", "--json"}, "--memory: missing value (before '--json')"},
    {"EmptySize", {"describe", "--memory="}, "--memory: empty value"},
    {"MalformedSize", {"describe", "--memory", "12X"}, "--memory: '12X' is not a size (examples: 64M, 4G)"},
    {"NegativeSize", {"describe", "--memory=-64M"}, "--memory: '-64M' is negative"},
    {"OverflowingSize", {"describe", "--memory", "99999999999999999999"}, "--memory: '99999999999999999999' is too large"},
    {"MemoryNotMultipleOf2M", {"describe", "--memory", "65M"}, "--memory: '65M' is not a multiple of 2M"},
    {"MemoryBelowMinimum", {"describe", "--memory", "32M"}, "--memory: '32M' is below the minimum 64M"},
    {"MemoryAboveMaximum", {"describe", "--memory", "2T"}, "--memory: '2T' is above the maximum 1T"},
    {"CpusNotANumber", {"describe", "--cpus", "four"}, "--cpus: 'four' is not a number"},
    {"CpusZero", {"describe", "--cpus", "0"}, "--cpus: '0' is out of range (1..64)"},
    {"CpusTooMany", {"describe", "--cpus", "65"}, "--cpus: '65' is out of range (1..64)"},
    {"CpusNegative", {"describe", "--cpus=-1"}, "--cpus: '-1' is not a number"},
    {"BadVmemmap", {"describe", "--vmemmap", "huge"}, "--vmemmap: 'huge' is not one of: base, pmd"},
    {"BadPteAccess", {"describe", "--pte-access", "racy"}, "--pte-access: 'racy' is not one of: once, plain"},
    {"RepeatedFlag", {"describe", "--memory", "64M", "--memory", "128M"}, "--memory: given more than once"},
    {"SwitchWithValue", {"describe", "--json=yes"}, "--json: takes no value"},
    {"StrayArgument", {"describe", "extra"}, "describe: unexpected argument 'extra'"},
    {"ListWithoutTopic", {"list"}, "list: missing TOPIC"},
    {"ListUnknownTopic", {"list", "gadgets"}, "list: 'gadgets' is not one of: models, workloads, invariants, violations, races"},
    {"ListUnknownFlag", {"list", "invariants", "--verbose"}, "--verbose: unknown flag"},
    {"ListTwoTopics", {"list", "invariants", "violations"}, "list: unexpected argument 'violations'"},
    {"HelpUnknownCommand", {"help", "frobnicate"}, "help: unknown command 'frobnicate'"},
    {"VersionWithArgument", {"--version", "now"}, "--version: takes no arguments"},
};

INSTANTIATE_TEST_SUITE_P(Cli, BadInputTest, ::testing::ValuesIn(kBadInputs),
                         [](const auto& info) { return info.param.name; });

TEST(Cli, NoArgumentsPrintsUsageOnStderrAndExitsWithUsage) {
  const testing::RunResult r = hvo_stress({});
  EXPECT_EQ(r.exit_code, kUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("usage: hvo-stress"));
}

// --- help and version -------------------------------------------------------

TEST(Cli, HelpListsEveryCommandAndTheExitCodes) {
  for (const char* flag : {"--help", "-h", "help"}) {
    const testing::RunResult r = hvo_stress({flag});
    EXPECT_EQ(r.exit_code, kOk) << flag;
    EXPECT_THAT(r.out, HasSubstr("describe [--memory SIZE]"));
    EXPECT_THAT(r.out, HasSubstr("list models|workloads|invariants|violations"));
    EXPECT_THAT(r.out, HasSubstr("run --model M"));
    EXPECT_THAT(r.out, HasSubstr("pool --model M"));
    EXPECT_THAT(r.out, HasSubstr("exit codes: 0 ok, 1 violation found, 2 bad usage or input, 3 internal error"));
  }
}

TEST(Cli, CommandHelpShowsItsFlags) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"help", "describe"}, {"describe", "--help"}, {"describe", "-h", "--memory", "12X"}}) {
    const testing::RunResult r = hvo_stress(args);
    EXPECT_EQ(r.exit_code, kOk) << args.back();
    EXPECT_THAT(r.out, HasSubstr("--memory SIZE"));
    EXPECT_THAT(r.out, HasSubstr("--pte-access once|plain"));
  }
  EXPECT_THAT(hvo_stress({"list", "--help"}).out, HasSubstr("--json"));
}

TEST(Cli, VersionPrintsNameAndVersion) {
  const testing::RunResult r = hvo_stress({"--version"});
  EXPECT_EQ(r.exit_code, kOk);
  EXPECT_THAT(r.out, MatchesRegex("hvo-stress [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

// --- list -------------------------------------------------------------------

TEST(CliList, InvariantsJsonHasEveryInvariantWithItsDescription) {
  const testing::RunResult r = hvo_stress({"list", "invariants", "--json"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  const json::value parsed = json::parse(r.out);
  const json::array& list = parsed.at("invariants").as_array();
  ASSERT_EQ(list.size(), static_cast<size_t>(kNumInvariants));
  for (int i = 0; i < kNumInvariants; ++i) {
    const auto inv = static_cast<Invariant>(i);
    EXPECT_EQ(str(list[i].at("name")), to_string(inv));
    EXPECT_EQ(str(list[i].at("description")), describe(inv));
  }
}

TEST(CliList, ViolationsJsonHasEveryKindWithTheInvariantItBreaks) {
  const testing::RunResult r = hvo_stress({"list", "violations", "--json"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  const json::value parsed = json::parse(r.out);
  const json::array& list = parsed.at("violations").as_array();
  ASSERT_EQ(list.size(), static_cast<size_t>(kNumViolationKinds));
  for (int k = 0; k < kNumViolationKinds; ++k) {
    const auto kind = static_cast<ViolationKind>(k);
    EXPECT_EQ(str(list[k].at("kind")), to_string(kind));
    EXPECT_EQ(str(list[k].at("invariant")), to_string(invariant_of(kind)));
  }
}

TEST(CliList, TextHasOneLinePerEntry) {
  const testing::RunResult r = hvo_stress({"list", "invariants"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), kNumInvariants);
  for (int i = 0; i < kNumInvariants; ++i) {
    const auto inv = static_cast<Invariant>(i);
    EXPECT_THAT(r.out, HasSubstr(std::string(to_string(inv)) + "  "));
  }
}

// --- describe ---------------------------------------------------------------

json::object describe_json(const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"describe", "--json"};
  args.insert(args.end(), flags.begin(), flags.end());
  const testing::RunResult r = hvo_stress(args);
  EXPECT_EQ(r.exit_code, kOk) << r.err;
  EXPECT_EQ(r.err, "");
  return json::parse(r.out).as_object();
}

uint64_t u64(const json::object& o, const char* key) { return json::value_to<uint64_t>(o.at(key)); }
uint64_t hex_field(const json::object& o, const char* key) { return std::stoull(str(o.at(key)), nullptr, 16); }

TEST(CliDescribe, Json256MHasTheKernelsFrameCounts) {
  const json::object d = describe_json({"--memory", "256M"});
  constexpr uint64_t kFrames = (uint64_t{256} << 20) / kPageSize;  // 65536
  EXPECT_EQ(u64(d, "memory_bytes"), uint64_t{256} << 20);
  EXPECT_EQ(u64(d, "page_size"), kPageSize);
  EXPECT_EQ(u64(d, "nr_frames"), kFrames);
  // 64 bytes of struct page per 4 KiB frame: 4 MiB of vmemmap, 1024 frames.
  EXPECT_EQ(u64(d, "vmemmap_frames"), kFrames * kStructPageSize / kPageSize);
  EXPECT_EQ(u64(d, "vmemmap_bytes"), uint64_t{4} << 20);
  EXPECT_EQ(hex_field(d, "vmemmap_start"), kVmemmapBase);
  EXPECT_EQ(hex_field(d, "vmemmap_end") - hex_field(d, "vmemmap_start"), kFrames * kStructPageSize);
  EXPECT_EQ(u64(d, "boot_reserved_frames"), (uint64_t{16} << 20) / kPageSize);
  EXPECT_GT(u64(d, "page_table_frames"), 0u);
  EXPECT_GT(u64(d, "free_frames"), 0u);
  // Frame conservation at boot: every frame is reserved, a table, vmemmap or free.
  EXPECT_EQ(u64(d, "free_frames") + u64(d, "boot_reserved_frames") + u64(d, "vmemmap_frames") +
                u64(d, "page_table_frames"),
            kFrames);
  EXPECT_EQ(str(d.at("vmemmap_mapping")), "base");
  EXPECT_EQ(str(d.at("pte_access")), "once");
  EXPECT_EQ(u64(d, "nr_cpus"), 4u);
}

TEST(CliDescribe, EchoesThePoliciesAndCpus) {
  const json::object d = describe_json({"--memory", "64M", "--vmemmap", "pmd", "--pte-access", "plain", "--cpus", "2"});
  EXPECT_EQ(str(d.at("vmemmap_mapping")), "pmd");
  EXPECT_EQ(str(d.at("pte_access")), "plain");
  EXPECT_EQ(u64(d, "nr_cpus"), 2u);
  EXPECT_EQ(u64(d, "nr_frames"), (uint64_t{64} << 20) / kPageSize);
}

TEST(CliDescribe, TextIsAlignedAndNamesEveryFigure) {
  const testing::RunResult r = hvo_stress({"describe", "--memory", "256M"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  for (const char* line : {"memory                256 MiB (268435456 bytes)\n", "frames                65536 x 4 KiB\n",
                           "vmemmap frames        1024 (4 MiB)\n", "boot reserved frames  4096 (16 MiB)\n",
                           "vmemmap range         [0xffffea0000000000, 0xffffea0000400000)\n"}) {
    EXPECT_THAT(r.out, HasSubstr(line));
  }
  for (const char* name : {"page-table frames", "free frames", "resident host bytes", "cpus", "vmemmap mapping",
                           "pte access"}) {
    EXPECT_THAT(r.out, HasSubstr(name));
  }
}

}  // namespace
}  // namespace hvo::cli
