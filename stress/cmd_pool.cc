#include "stress/cmd_pool.h"

#include <fmt/format.h>

#include <optional>

#include <boost/json.hpp>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "engine/task.h"
#include "models/invariant_checker.h"
#include "models/registry.h"
#include "stress/campaign_json.h"
#include "stress/flag_values.h"
#include "stress/host_memory.h"
#include "stress/json_out.h"
#include "stress/size_parse.h"
#include "stress/usage_error.h"

namespace po = boost::program_options;
namespace json = boost::json;

namespace hvo::cli {

namespace {

po::options_description pool_flags() {
  po::options_description flags("pool flags");
  flags.add_options()
      ("model", po::value<std::string>()->value_name("M"), "the HVO model (hvo-stress list models)")
      ("revert", po::value<std::vector<std::string>>()->value_name("FIX")->composing(), "bring a fixed bug back")
      ("hugepage-size", po::value<std::string>()->value_name("2M|1G")->default_value("2M"), "the hstate")
      ("count", po::value<std::string>()->value_name("N"), "hugepages to put in the pool (nr_hugepages)")
      ("demote", po::value<std::string>()->value_name("N"),
       "then demote N of them into 2M hugepages (1G only; hugepages-1048576kB/demote)")
      ("memory", po::value<std::string>()->value_name("SIZE")->default_value("4G"), "simulated RAM")
      ("pte-access", po::value<std::string>()->value_name("once|plain|plain-torn")->default_value("once"),
       "the walker's page-table entry accesses")
      ("json", po::bool_switch(), "print one JSON object instead of text");
  return flags;
}

// How many hugepages of `h` buddy can give right now: 2 MiB pages from its
// free blocks of order >= 9, 1 GiB pages from naturally aligned free GiBs.
uint64_t pool_capacity(Machine& m, const Hstate& h) {
  if (!h.gigantic()) {
    const BuddyAllocator::Counters c = m.buddy().counters();
    uint64_t n = 0;
    for (int o = h.order.value(); o < BuddyAllocator::kNrOrders; ++o) n += c.nr_free[o] << (o - h.order.value());
    return n;
  }
  uint64_t n = 0;
  for (uint64_t start = 0; start + h.nr_pages() <= m.mem().nr_frames(); start += h.nr_pages()) {
    bool all_free = true;
    for (uint64_t i = 0; i < h.nr_pages() && all_free; ++i)
      all_free = m.mem().state(Pfn(start + i)) == FrameState::kFree;
    n += all_free ? 1 : 0;
  }
  return n;
}

uint64_t vmemmap_frames(Machine& m) {
  uint64_t counts[kNumFrameStates];
  m.mem().count_states(counts);
  return counts[static_cast<int>(FrameState::kVmemmap)];
}

std::string_view to_string(DemoteStatus s) {
  switch (s) {
    case DemoteStatus::kOk: return "ok";
    case DemoteStatus::kNoMemory: return "ENOMEM";
    case DemoteStatus::kBusy: return "EBUSY";
    case DemoteStatus::kNotSupported: return "not supported";
  }
  return "?";
}

// `--demote N` after the pool is grown: what it cost and what the 2 MiB
// pool holds after it.
struct DemoteFigures {
  uint64_t requested = 0;
  DemoteOutcome outcome;
  uint64_t grace_periods = 0;
  uint64_t tlb_flushes = 0;
  PoolCounters target;
  VmemmapStats target_vmemmap;
};

// Refuses --demote where the kernel or the model has none, before anything runs.
void check_demote_flag(const Hstate& h, uint64_t demote, uint64_t count, Model& model, std::string_view model_name) {
  if (demote == 0) return;
  if (!h.gigantic())
    throw UsageError("--demote", fmt::format("{} hugepages have no smaller hstate to demote to (use --hugepage-size 1G)",
                                             h.size_name));
  if (demote > count) throw UsageError("--demote", fmt::format("{} is more than --count {}", demote, count));
  if (model.demote_ops() == nullptr)
    throw UsageError("--demote",
                     model_name == "v17"
                         ? std::string("model v17 has no demote: the reviewed patch (5.14) predates demote (5.16)")
                         : fmt::format("model {} does not model demote (v6.10 does)", model_name));
}

DemoteFigures run_demote(Machine& m, HugetlbPool& pool, uint64_t nr) {
  DemoteFigures d;
  d.requested = nr;
  const uint64_t gp = m.rcu().grace_periods(), flushes = m.mmu().flushes();
  d.outcome = pool.demote(nr);
  d.grace_periods = m.rcu().grace_periods() - gp;
  d.tlb_flushes = m.mmu().flushes() - flushes;
  d.target = pool.demote_pool()->counters();
  d.target_vmemmap = pool.demote_pool()->vmemmap_stats();
  return d;
}

json::object to_json(const DemoteFigures& d) {
  json::object o;
  o["requested"] = d.requested;
  o["demoted"] = d.outcome.demoted;
  o["status"] = std::string(to_string(d.outcome.status));
  o["grace_periods"] = d.grace_periods;
  o["tlb_flushes"] = d.tlb_flushes;
  o["nr_huge_pages_2M"] = d.target.nr_huge_pages;
  o["free_huge_pages_2M"] = d.target.free_huge_pages;
  o["hugepages_optimized_2M"] = d.target_vmemmap.optimized;
  o["vmemmap_pages_freed_2M"] = d.target_vmemmap.pages_freed;
  o["bytes_saved_2M"] = d.target_vmemmap.pages_saved_now * kPageSize;
  return o;
}

std::string demote_text(const DemoteFigures& d) {
  std::string s = fmt::format("demote          {} of {} 1G hugepages ({}): {} grace periods, {} TLB flushes\n",
                              d.outcome.demoted, d.requested, to_string(d.outcome.status), d.grace_periods,
                              d.tlb_flushes);
  s += fmt::format("pool 2M         nr_huge_pages {}, free_huge_pages {}, {} optimized, {} vmemmap pages freed, "
                   "{} bytes saved\n",
                   d.target.nr_huge_pages, d.target.free_huge_pages, d.target_vmemmap.optimized,
                   d.target_vmemmap.pages_freed, d.target_vmemmap.pages_saved_now * kPageSize);
  return s;
}

ExitCode run_pool(const po::variables_map& vm, std::ostream& out) {
  if (!vm.count("model")) throw UsageError("--model", "is required (hvo-stress list models)");
  const std::string model_name = vm["model"].as<std::string>();
  std::set<std::string> reverts;
  if (vm.count("revert"))
    for (const std::string& r : vm["revert"].as<std::vector<std::string>>()) reverts.insert(r);
  if (std::string err = check_model_and_reverts(model_name, reverts); !err.empty())
    throw UsageError(find_model(model_name) == nullptr ? "--model" : "--revert", err);
  if (!vm.count("count")) throw UsageError("--count", "is required");
  const Hstate h = parse_choice_flag<Hstate>("--hugepage-size", vm["hugepage-size"].as<std::string>(),
                                             {{"2M", kHstate2M}, {"1G", kHstate1G}});
  const uint64_t count = parse_count_flag("--count", vm["count"].as<std::string>(), 0, uint64_t{1} << 32);
  const uint64_t demote =
      vm.count("demote") ? parse_count_flag("--demote", vm["demote"].as<std::string>(), 0, uint64_t{1} << 32) : 0;
  MachineConfig mc;
  mc.memory_bytes = parse_memory_flag("--memory", vm["memory"].as<std::string>());
  mc.pte_access = parse_choice_flag<PteAccess>("--pte-access", vm["pte-access"].as<std::string>(),
                                    {{"once", PteAccess::kOnce},
                                     {"plain", PteAccess::kPlain},
                                     {"plain-torn", PteAccess::kPlainTorn}});
  mc.vmemmap_mapping = find_model(model_name)->vmemmap_mapping;
  if (std::string err = stress::check_host_memory(mc.memory_bytes, 1); !err.empty()) throw UsageError("--memory", err);

  Machine m(mc);
  Task task{CpuId(0)};
  TaskScope scope(task);
  const uint64_t capacity = pool_capacity(m, h);
  if (count > capacity)
    throw UsageError("--count", fmt::format("{} hugepages of {} do not fit in --memory {}: at most {}", count,
                                            h.size_name, format_size(mc.memory_bytes), capacity));
  auto made = make_model(model_name, reverts, m);
  Model& model = *std::get<std::unique_ptr<Model>>(made);
  check_demote_flag(h, demote, count, model, model_name);
  HugetlbPool pool(m, h, model);
  InvariantChecker checker(m, pool, model, boot_figures(m));
  const uint64_t vmemmap_before = vmemmap_frames(m);

  const uint64_t nr = pool.set_max_huge_pages(count);
  const PoolCounters grown = pool.counters();
  const VmemmapStats vs = pool.vmemmap_stats();
  const uint64_t vmemmap_optimized = vmemmap_frames(m);
  bool grown_ok = checker.check_quiescent();
  std::optional<DemoteFigures> demoted;
  if (demote > 0) {
    demoted = run_demote(m, pool, demote);
    // Both pools after the demote: frames, counters, the 2 MiB folios' shapes.
    grown_ok = checker.check_quiescent() && grown_ok;
    (void)pool.demote_pool()->set_max_huge_pages(0);
  }
  (void)pool.set_max_huge_pages(0);
  const bool returned_ok = checker.check_all_returned() && grown_ok;
  const uint64_t vmemmap_after = vmemmap_frames(m);
  const std::vector<Violation> violations = m.violations().snapshot();

  const uint64_t per_page = nr > 0 ? vs.pages_freed / nr : 0;
  if (vm["json"].as<bool>()) {
    json::object o;
    o["model"] = model_name;
    json::array rv;
    for (const std::string& r : reverts) rv.emplace_back(r);
    o["reverts"] = std::move(rv);
    o["hugepage_size"] = std::string(h.size_name);
    o["count"] = count;
    o["memory_bytes"] = mc.memory_bytes;
    o["pte_access"] = std::string(to_string(mc.pte_access));
    o["nr_huge_pages"] = grown.nr_huge_pages;
    o["free_huge_pages"] = grown.free_huge_pages;
    o["vmemmap_pages_per_hugepage"] = h.vmemmap_pages();
    o["vmemmap_pages_freed"] = vs.pages_freed;
    o["vmemmap_pages_freed_per_hugepage"] = per_page;
    o["bytes_saved"] = vs.pages_saved_now * kPageSize;
    o["vmemmap_pages_in_use_before"] = vmemmap_before;
    o["vmemmap_pages_in_use_optimized"] = vmemmap_optimized;
    o["vmemmap_pages_in_use_after"] = vmemmap_after;
    o["returned"] = returned_ok;
    if (demoted) o["demote"] = to_json(*demoted);
    json::array va;
    for (const Violation& v : violations) va.emplace_back(stress::to_json(v));
    o["violations"] = std::move(va);
    print_json(out, o);
  } else {
    out << fmt::format("model {}: {} hugepages of {} in {} of memory (pte {})\n", model_name, nr, h.size_name,
                       format_size(mc.memory_bytes), to_string(mc.pte_access));
    out << fmt::format("pool            nr_huge_pages {}, free_huge_pages {}\n", grown.nr_huge_pages,
                       grown.free_huge_pages);
    out << fmt::format("vmemmap pages   {} per hugepage, {} freed ({} per hugepage), {} bytes saved\n",
                       h.vmemmap_pages(), vs.pages_freed, per_page, vs.pages_saved_now * kPageSize);
    out << fmt::format("vmemmap in use  {} at boot, {} optimized, {} after shrinking to 0\n", vmemmap_before,
                       vmemmap_optimized, vmemmap_after);
    if (demoted) out << demote_text(*demoted);
    out << fmt::format("returned        {}\n", returned_ok ? "every frame, vmemmap fully restored" : "NO");
    for (const Violation& v : violations) out << "violation: " << v.to_string() << "\n";
  }
  return violations.empty() ? ExitCode::kOk : ExitCode::kViolation;
}

}  // namespace

Command pool_command() {
  return Command{
      .name = "pool",
      .synopsis = "pool --model M --hugepage-size 2M|1G --count N [--demote N] [--memory SIZE] [--pte-access once|plain|plain-torn] "
                  "[--json]",
      .summary = "grow the pool to N hugepages, report the vmemmap savings, shrink it to 0 and check all came back",
      .positionals = {},
      .flags = pool_flags,
      .run = run_pool,
  };
}

}  // namespace hvo::cli
