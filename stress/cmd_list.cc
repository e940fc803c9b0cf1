#include "stress/cmd_list.h"

#include <string>

#include "engine/violation.h"
#include "stress/flag_values.h"
#include "stress/json_out.h"
#include "stress/text_out.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

enum class Topic { kInvariants, kViolations };

po::options_description list_flags() {
  po::options_description flags("list flags");
  flags.add_options()("json", po::bool_switch(), "print one JSON object instead of text");
  return flags;
}

Fields invariant_fields() {
  Fields fields;
  for (int i = 0; i < kNumInvariants; ++i) {
    const auto inv = static_cast<Invariant>(i);
    fields.emplace_back(std::string(to_string(inv)), std::string(describe(inv)));
  }
  return fields;
}

Fields violation_fields() {
  Fields fields;
  for (int k = 0; k < kNumViolationKinds; ++k) {
    const auto kind = static_cast<ViolationKind>(k);
    fields.emplace_back(std::string(to_string(kind)), "breaks " + std::string(to_string(invariant_of(kind))));
  }
  return fields;
}

ExitCode run_list(const po::variables_map& vm, std::ostream& out) {
  const Topic topic = parse_choice_flag<Topic>(
      "list", vm["TOPIC"].as<std::string>(),
      {{"invariants", Topic::kInvariants}, {"violations", Topic::kViolations}});
  const bool invariants = topic == Topic::kInvariants;
  if (vm["json"].as<bool>())
    print_json(out, invariants ? invariants_json() : violation_kinds_json());
  else
    print_fields(out, invariants ? invariant_fields() : violation_fields());
  return ExitCode::kOk;
}

}  // namespace

Command list_command() {
  return Command{
      .name = "list",
      .synopsis = "list invariants|violations [--json]",
      .summary = "list the invariants the checkers enforce, or the violation kinds and what they break",
      .positionals = {"TOPIC"},
      .flags = list_flags,
      .run = run_list,
  };
}

}  // namespace hvo::cli
