#include "stress/json_out.h"

#include <string>

#include "engine/machine.h"
#include "engine/types.h"
#include "engine/violation.h"
#include "stress/text_out.h"

namespace json = boost::json;

namespace hvo::cli {

namespace {
json::string_view sv(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace

json::object to_json(const MachineSummary& s) {
  json::object o;
  o["memory_bytes"] = s.memory_bytes;
  o["page_size"] = kPageSize;
  o["nr_frames"] = s.nr_frames;
  o["nr_cpus"] = s.nr_cpus;
  o["vmemmap_mapping"] = s.vmemmap_mapping;
  o["pte_access"] = s.pte_access;
  o["vmemmap_start"] = hex(s.vmemmap_start);
  o["vmemmap_end"] = hex(s.vmemmap_end);
  o["vmemmap_frames"] = s.vmemmap_frames;
  o["vmemmap_bytes"] = s.vmemmap_frames * kPageSize;
  o["page_table_frames"] = s.page_table_frames;
  o["boot_reserved_frames"] = s.boot_reserved_frames;
  o["free_frames"] = s.free_frames;
  o["resident_bytes"] = s.resident_bytes;
  return o;
}

json::object invariants_json() {
  json::array list;
  for (int i = 0; i < kNumInvariants; ++i) {
    const auto inv = static_cast<Invariant>(i);
    list.push_back(json::object{{"name", sv(to_string(inv))}, {"description", sv(describe(inv))}});
  }
  return json::object{{"invariants", std::move(list)}};
}

json::object violation_kinds_json() {
  json::array list;
  for (int k = 0; k < kNumViolationKinds; ++k) {
    const auto kind = static_cast<ViolationKind>(k);
    list.push_back(json::object{{"kind", sv(to_string(kind))}, {"invariant", sv(to_string(invariant_of(kind)))}});
  }
  return json::object{{"violations", std::move(list)}};
}

void print_json(std::ostream& out, const json::value& v) { out << json::serialize(v) << '\n'; }

}  // namespace hvo::cli
