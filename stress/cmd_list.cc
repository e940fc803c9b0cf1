#include "stress/cmd_list.h"

#include <string>

#include "engine/violation.h"
#include "models/registry.h"
#include "stress/workload.h"
#include "stress/flag_values.h"
#include "stress/json_out.h"
#include "stress/text_out.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

enum class Topic { kModels, kWorkloads, kInvariants, kViolations };

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

// Each model with its generation, what it follows and the fixes it can revert.
void print_models(std::ostream& out) {
  for (const ModelInfo* m : all_models()) {
    out << m->name << "  " << m->title << "\n";
    out << "    follows: " << m->kernel << "\n";
    out << "    vmemmap: " << (m->vmemmap_mapping == VmemmapMapping::kBasePages ? "base pages" : "PMD leaves")
        << ", " << m->reserved_vmemmap_pages << " vmemmap page(s) kept per hugepage\n";
    for (const RevertInfo& r : m->reverts) out << "    --revert " << r.name << "  " << r.title << "\n";
  }
}

boost::json::object models_json() {
  boost::json::array list;
  for (const ModelInfo* m : all_models()) {
    boost::json::array reverts;
    for (const RevertInfo& r : m->reverts)
      reverts.push_back(boost::json::object{{"name", std::string(r.name)}, {"title", std::string(r.title)}});
    list.push_back(boost::json::object{
        {"name", std::string(m->name)},
        {"title", std::string(m->title)},
        {"kernel", std::string(m->kernel)},
        {"vmemmap_mapping", std::string(to_string(m->vmemmap_mapping))},
        {"reserved_vmemmap_pages", m->reserved_vmemmap_pages},
        {"reverts", std::move(reverts)}});
  }
  return boost::json::object{{"models", std::move(list)}};
}

Fields workload_fields() {
  Fields fields;
  for (const stress::Workload& w : stress::all_workloads()) fields.emplace_back(std::string(w.name), std::string(w.description));
  return fields;
}

boost::json::object workloads_json() {
  boost::json::array list;
  for (const stress::Workload& w : stress::all_workloads()) {
    boost::json::object weights;
    for (int i = 0; i < stress::kNumActorKinds; ++i)
      weights[stress::to_string(static_cast<stress::ActorKind>(i))] = w.weights[i];
    list.push_back(boost::json::object{
        {"name", std::string(w.name)}, {"description", std::string(w.description)}, {"weights", std::move(weights)}});
  }
  return boost::json::object{{"workloads", std::move(list)}};
}

ExitCode run_list(const po::variables_map& vm, std::ostream& out) {
  const Topic topic = parse_choice_flag<Topic>("list", vm["TOPIC"].as<std::string>(),
                                               {{"models", Topic::kModels},
                                                {"workloads", Topic::kWorkloads},
                                                {"invariants", Topic::kInvariants},
                                                {"violations", Topic::kViolations}});
  const bool json = vm["json"].as<bool>();
  switch (topic) {
    case Topic::kModels:
      json ? print_json(out, models_json()) : print_models(out);
      break;
    case Topic::kWorkloads:
      json ? print_json(out, workloads_json()) : print_fields(out, workload_fields());
      break;
    case Topic::kInvariants:
      json ? print_json(out, invariants_json()) : print_fields(out, invariant_fields());
      break;
    case Topic::kViolations:
      json ? print_json(out, violation_kinds_json()) : print_fields(out, violation_fields());
      break;
  }
  return ExitCode::kOk;
}

}  // namespace

Command list_command() {
  return Command{
      .name = "list",
      .synopsis = "list models|workloads|invariants|violations [--json]",
      .summary = "list the models and their revertible fixes, the workloads, the invariants, or the violation kinds",
      .positionals = {"TOPIC"},
      .flags = list_flags,
      .run = run_list,
  };
}

}  // namespace hvo::cli
