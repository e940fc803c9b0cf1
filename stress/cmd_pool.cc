#include "stress/cmd_pool.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "engine/hugetlb/hugetlb_pool.h"
#include "engine/machine.h"
#include "engine/task.h"
#include "models/invariant_checker.h"
#include "models/registry.h"
#include "stress/campaign_json.h"
#include "stress/flag_values.h"
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
      ("memory", po::value<std::string>()->value_name("SIZE")->default_value("4G"), "simulated RAM")
      ("pte-access", po::value<std::string>()->value_name("once|plain")->default_value("once"),
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
  MachineConfig mc;
  mc.memory_bytes = parse_memory_flag("--memory", vm["memory"].as<std::string>());
  mc.pte_access = parse_choice_flag<PteAccess>("--pte-access", vm["pte-access"].as<std::string>(),
                                               {{"once", PteAccess::kOnce}, {"plain", PteAccess::kPlain}});
  mc.vmemmap_mapping = find_model(model_name)->vmemmap_mapping;

  Machine m(mc);
  Task task{CpuId(0)};
  TaskScope scope(task);
  const uint64_t capacity = pool_capacity(m, h);
  if (count > capacity)
    throw UsageError("--count", fmt::format("{} hugepages of {} do not fit in --memory {}: at most {}", count,
                                            h.size_name, format_size(mc.memory_bytes), capacity));
  auto made = make_model(model_name, reverts, m);
  Model& model = *std::get<std::unique_ptr<Model>>(made);
  HugetlbPool pool(m, h, model);
  InvariantChecker checker(m, pool, model, boot_figures(m));
  const uint64_t vmemmap_before = vmemmap_frames(m);

  const uint64_t nr = pool.set_max_huge_pages(count);
  const PoolCounters grown = pool.counters();
  const VmemmapStats vs = pool.vmemmap_stats();
  const uint64_t vmemmap_optimized = vmemmap_frames(m);
  const bool grown_ok = checker.check_quiescent();
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
    out << fmt::format("returned        {}\n", returned_ok ? "every frame, vmemmap fully restored" : "NO");
    for (const Violation& v : violations) out << "violation: " << v.to_string() << "\n";
  }
  return violations.empty() ? ExitCode::kOk : ExitCode::kViolation;
}

}  // namespace

Command pool_command() {
  return Command{
      .name = "pool",
      .synopsis = "pool --model M --hugepage-size 2M|1G --count N [--memory SIZE] [--pte-access once|plain] [--json]",
      .summary = "grow the pool to N hugepages, report the vmemmap savings, shrink it to 0 and check all came back",
      .positionals = {},
      .flags = pool_flags,
      .run = run_pool,
  };
}

}  // namespace hvo::cli
