#include "stress/cmd_describe.h"

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "engine/machine.h"
#include "stress/flag_values.h"
#include "stress/host_memory.h"
#include "stress/json_out.h"
#include "stress/size_parse.h"
#include "stress/text_out.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

// A string-valued flag (converted later by flag_values.h) whose --help
// shows `value_name` and the default.
po::typed_value<std::string>* text_flag(const char* value_name, std::string_view default_value) {
  return po::value<std::string>()->value_name(value_name)->default_value(std::string(default_value));
}

po::options_description describe_flags() {
  const MachineConfig d;
  const std::string memory_help = "simulated RAM: a multiple of 2M in [" + format_size(MachineConfig::kMinMemory) +
                                  ", " + format_size(MachineConfig::kMaxMemory) + "] (64M, 4G, 4096K, bytes)";
  const std::string cpus_help = "simulated CPUs (1.." + std::to_string(MachineConfig::kMaxCpus) + ")";
  po::options_description flags("describe flags");
  flags.add_options()
      ("memory", text_flag("SIZE", format_size(d.memory_bytes)), memory_help.c_str())
      ("cpus", text_flag("N", std::to_string(d.nr_cpus)), cpus_help.c_str())
      ("vmemmap", text_flag("base|pmd", to_string(d.vmemmap_mapping)),
       "map the vmemmap with 4K base pages or 2M PMD leaves")
      ("pte-access", text_flag("once|plain|plain-torn", to_string(d.pte_access)),
       "page-table entries read/written READ_ONCE/WRITE_ONCE-style, or plainly")
      ("json", po::bool_switch(), "print one JSON object instead of text");
  return flags;
}

MachineConfig config_from_flags(const po::variables_map& vm) {
  MachineConfig config;
  config.memory_bytes = parse_memory_flag("--memory", vm["memory"].as<std::string>());
  config.nr_cpus = static_cast<unsigned>(
      parse_count_flag("--cpus", vm["cpus"].as<std::string>(), 1, MachineConfig::kMaxCpus));
  // The names are the engine's own (to_string), so describe prints back
  // exactly the word the user gave.
  using VM = VmemmapMapping;
  config.vmemmap_mapping = parse_choice_flag<VM>(
      "--vmemmap", vm["vmemmap"].as<std::string>(),
      {{to_string(VM::kBasePages), VM::kBasePages}, {to_string(VM::kPmdLeaves), VM::kPmdLeaves}});
  config.pte_access = parse_choice_flag<PteAccess>(
      "--pte-access", vm["pte-access"].as<std::string>(),
      {{to_string(PteAccess::kOnce), PteAccess::kOnce},
       {to_string(PteAccess::kPlain), PteAccess::kPlain},
       {to_string(PteAccess::kPlainTorn), PteAccess::kPlainTorn}});
  // The flags are checked one by one above; this catches what only their
  // combination can break, with the engine's own words.
  if (std::string problem = config.validate(); !problem.empty()) throw UsageError("describe", problem);
  if (std::string err = stress::check_host_memory(config.memory_bytes, 1); !err.empty()) throw UsageError("--memory", err);
  return config;
}

std::string frames_and_bytes(uint64_t frames) {
  return std::to_string(frames) + " (" + human_bytes(frames * kPageSize) + ")";
}

void print_text(std::ostream& out, const MachineSummary& s) {
  print_fields(out, {
      {"memory", human_bytes(s.memory_bytes) + " (" + std::to_string(s.memory_bytes) + " bytes)"},
      {"frames", std::to_string(s.nr_frames) + " x " + human_bytes(kPageSize)},
      {"cpus", std::to_string(s.nr_cpus)},
      {"vmemmap mapping", s.vmemmap_mapping},
      {"pte access", s.pte_access},
      {"vmemmap range", fmt::format("[{}, {})", hex(s.vmemmap_start), hex(s.vmemmap_end))},
      {"vmemmap frames", frames_and_bytes(s.vmemmap_frames)},
      {"page-table frames", frames_and_bytes(s.page_table_frames)},
      {"boot reserved frames", frames_and_bytes(s.boot_reserved_frames)},
      {"free frames", frames_and_bytes(s.free_frames)},
      {"resident host bytes", human_bytes(s.resident_bytes)},
  });
}

ExitCode run_describe(const po::variables_map& vm, std::ostream& out) {
  const Machine machine(config_from_flags(vm));
  const MachineSummary summary = machine.summary();
  if (vm["json"].as<bool>())
    print_json(out, to_json(summary));
  else
    print_text(out, summary);
  return ExitCode::kOk;
}

}  // namespace

Command describe_command() {
  return Command{
      .name = "describe",
      .synopsis = "describe [--memory SIZE] [--cpus N] [--vmemmap base|pmd] [--pte-access once|plain|plain-torn] [--json]",
      .summary = "boot a simulated machine and print what it is made of",
      .positionals = {},
      .flags = describe_flags,
      .run = run_describe,
  };
}

}  // namespace hvo::cli
