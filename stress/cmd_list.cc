#include "stress/cmd_list.h"

#include <string>

#include "engine/violation.h"
#include "models/registry.h"
#include "stress/race_catalogue.h"
#include "stress/workload.h"
#include "stress/flag_values.h"
#include "stress/json_out.h"
#include "stress/text_out.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

enum class Topic { kModels, kWorkloads, kInvariants, kViolations, kRaces };

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
    out << "    source:  " << m->source << "\n";
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
        {"source", std::string(m->source)},
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

std::string scenario_text(const stress::RaceEntry& e) {
  const stress::CampaignConfig c = stress::race_config(e, false);
  std::string s = std::string(stress::to_string(c.mode)) + ", workload " + c.workload + ", " +
                  std::to_string(c.threads) + (c.mode == stress::CampaignMode::kFree ? " thread(s), " : " CPUs x ") +
                  std::to_string(*c.iterations) + " operations, " + std::string(c.hstate.size_name) + " pages, " +
                  std::to_string(c.effective_memory() >> 20) + "M, pte " + std::string(to_string(c.pte_access));
  if (c.mode == stress::CampaignMode::kFree) return s;
  return s + ", initial pool " + std::to_string(c.initial_pool) + ", memory model " +
         std::string(sched::to_string(c.memory_model)) + ", strategy " + std::string(sched::to_string(c.strategy)) +
         ", seeds " + std::to_string(c.seed) + ".." + std::to_string(c.seed + c.seeds - 1);
}

// One line: "historical: <commit>, shipped in <releases>; restores <functions>"
// or "synthetic: <rationale>".
std::string provenance_text(const stress::Provenance& p) {
  switch (p.kind) {
    case stress::ProvenanceKind::kHistorical:
      return "historical: " + std::string(p.commit) + ", shipped in " + std::string(p.shipped) + "; restores " +
             std::string(p.functions);
    case stress::ProvenanceKind::kSynthetic: return "synthetic: " + std::string(p.rationale);
    case stress::ProvenanceKind::kMissing: break;
  }
  return "missing";
}

boost::json::object provenance_json(const stress::Provenance& p) {
  boost::json::object o{{"kind", std::string(stress::to_string(p.kind))}};
  if (p.kind == stress::ProvenanceKind::kHistorical) {
    o["commit"] = std::string(p.commit);
    o["shipped"] = std::string(p.shipped);
    o["functions"] = std::string(p.functions);
  } else if (p.kind == stress::ProvenanceKind::kSynthetic) {
    o["rationale"] = std::string(p.rationale);
  }
  return o;
}

void print_races(std::ostream& out) {
  for (const stress::RaceEntry& e : stress::race_catalogue()) {
    out << e.id << "  (" << e.model << ", " << (e.fix == 0 ? std::string("fix not numbered in HVO-HISTORY")
                                                          : "fix " + std::to_string(e.fix))
        << (e.commit.empty() ? "" : ", commit ") << e.commit << ")  " << e.title << "\n";
    out << "    provenance: " << provenance_text(e.provenance) << "\n";
    out << "    actors:   " << e.actors << "\n";
    out << "    scenario: " << scenario_text(e) << "\n";
    out << "    expected: " << e.expected << "  (found by: " << stress::to_string(e.found_by)
        << (e.unit_test.empty() || e.found_by == stress::FoundBy::kControlled ? "" : "; " + std::string(e.unit_test))
        << ")\n";
    if (!e.note.empty()) out << "    note:     " << e.note << "\n";
    out << "    run:      hvo-stress run --race " << e.id << "   (fixed: --race " << e.id << " --fixed)\n";
  }
}

boost::json::object races_json() {
  boost::json::array list;
  for (const stress::RaceEntry& e : stress::race_catalogue()) {
    const stress::CampaignConfig c = stress::race_config(e, false);
    boost::json::array kinds;
    for (const std::string& k : stress::expected_kinds(e)) kinds.emplace_back(k);
    boost::json::object scenario{
        {"mode", std::string(stress::to_string(c.mode))},
        {"workload", c.workload},
        {"cpus", c.threads},
        {"operations", *c.iterations},
        {"hugepage_size", std::string(c.hstate.size_name)},
        {"memory_bytes", c.effective_memory()},
        {"pte_access", std::string(to_string(c.pte_access))},
        {"initial_pool", c.initial_pool},
        {"memory_model", std::string(sched::to_string(c.memory_model))},
        {"strategy", std::string(sched::to_string(c.strategy))},
        {"seed", c.seed},
        {"seeds", c.seeds},
        {"command", c.command_line()}};
    if (e.fixed_clean_executions != 0) scenario["fixed_clean_executions"] = e.fixed_clean_executions;
    list.push_back(boost::json::object{{"id", std::string(e.id)},
                                       {"model", std::string(e.model)},
                                       {"revert", std::string(e.revert)},
                                       {"commit", std::string(e.commit)},
                                       {"fix", e.fix},
                                       {"title", std::string(e.title)},
                                       {"actors", std::string(e.actors)},
                                       {"expected", std::move(kinds)},
                                       {"found_by", std::string(stress::to_string(e.found_by))},
                                       {"unit_test", std::string(e.unit_test)},
                                       {"note", std::string(e.note)},
                                       {"provenance", provenance_json(e.provenance)},
                                       {"scenario", std::move(scenario)}});
  }
  return boost::json::object{{"races", std::move(list)}};
}

ExitCode run_list(const po::variables_map& vm, std::ostream& out) {
  const Topic topic = parse_choice_flag<Topic>("list", vm["TOPIC"].as<std::string>(),
                                               {{"models", Topic::kModels},
                                                {"workloads", Topic::kWorkloads},
                                                {"invariants", Topic::kInvariants},
                                                {"violations", Topic::kViolations},
                                                {"races", Topic::kRaces}});
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
    case Topic::kRaces:
      json ? print_json(out, races_json()) : print_races(out);
      break;
  }
  return ExitCode::kOk;
}

}  // namespace

Command list_command() {
  return Command{
      .name = "list",
      .synopsis = "list models|workloads|invariants|violations|races [--json]",
      .summary = "list the models and their revertible fixes, the workloads, the invariants, the violation kinds, or the race catalogue",
      .positionals = {"TOPIC"},
      .flags = list_flags,
      .run = run_list,
  };
}

}  // namespace hvo::cli
