#include "stress/report_trace.h"

#include <algorithm>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "engine/pte.h"

namespace hvo::stress {

namespace json = boost::json;

namespace {

constexpr uint64_t kPageMask = ~uint64_t{kPageSize - 1};
constexpr uint64_t kWordMask = ~uint64_t{7};
constexpr uint64_t kStructPageMask = ~uint64_t{63};
// History rows per table: enough for any execution the catalogue finds,
// small enough that the page stays light when an entry is hammered.
constexpr size_t kMaxHistory = 400;

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

// The kept record of `step`, or null (dropped by the cap, or beyond the end).
const StepRecord* at(const StepLog& log, uint64_t step) {
  const auto& r = log.records();
  if (r.empty() || step < r.front().step || step > r.back().step) return nullptr;
  return &r[step - r.front().step];
}

bool is_point(const StepRecord& r, SchedEvent e) { return r.kind == StepRecord::Kind::kPoint && r.event == e; }

bool is_struct_page_access(const StepRecord& r) {
  return r.kind == StepRecord::Kind::kPoint &&
         (r.event == SchedEvent::kPageLoad || r.event == SchedEvent::kPageStore || r.event == SchedEvent::kPageRmw);
}

// A flush's range [start, end): flush_tlb_all() records [0, ~0).
bool flush_covers(const StepRecord& r, uint64_t va) { return r.address <= va && va < r.value; }

// kBuddyFree records (pfn, order) for a block and (pfn, nr_pages) for a
// bulk free (buddy.cc); either way the block starts at pfn.
bool free_covers(const StepRecord& r, uint64_t pfn) {
  const uint64_t pages = r.value <= 18 ? uint64_t{1} << r.value : r.value;
  return r.address <= pfn && pfn - r.address < std::max(pages, r.value);
}

// The last record at or before `last` that `pred` accepts, or null.
template <class Pred>
const StepRecord* last_before(const StepLog& log, uint64_t last, Pred pred) {
  const auto& rs = log.records();
  for (auto it = rs.rbegin(); it != rs.rend(); ++it)
    if (it->step <= last && pred(*it)) return &*it;
  return nullptr;
}

// The page-table walk that follows a TLB fill on its CPU: the words of the
// entries it read, top level first. The leaf is the last.
std::vector<uint64_t> walk_after(const StepLog& log, const StepRecord& fill) {
  std::vector<uint64_t> words;
  const auto& rs = log.records();
  for (size_t i = fill.step - rs.front().step + 1; i < rs.size(); ++i) {
    const StepRecord& r = rs[i];
    if (r.cpu != fill.cpu) continue;
    if (!is_point(r, SchedEvent::kPteLoad)) break;
    if (words.empty() || words.back() != (r.address & kWordMask)) words.push_back(r.address & kWordMask);
  }
  return words;
}

std::string pte_words(uint64_t v) {
  if (v == 0) return "none (not present)";
  return fmt::format("frame {:#x} {}{}", pte_pfn(PteValue(v)).value(), pte_write(PteValue(v)) ? "RW" : "RO",
                     pmd_leaf(PteValue(v)) ? " (2M leaf)" : "");
}

// What the violation is about, found in the log.
struct Findings {
  const StepRecord* access = nullptr;
  const StepRecord* fill = nullptr;
  const StepRecord* flush = nullptr;  // the last flush covering the address before the access
  const StepRecord* free = nullptr;
  const StepRecord* pte_store = nullptr;
  std::optional<uint64_t> leaf_entry;
  bool entry_by_index = false;  // found by the VA's table index, not by a recorded walk
  uint64_t va = 0;
};

Findings find(const StepLog& log, const Violation& v, uint64_t failure_step) {
  Findings f;
  if (v.address == 0 || log.records().empty()) return f;
  const uint64_t last = failure_step != 0 ? failure_step : log.records().back().step;
  const unsigned cpu = static_cast<unsigned>(v.cpu.value());
  // The scheduler sees a violation only at the CPU's next step: its access
  // is that CPU's last step at the address (interleaving_view.h).
  f.access = last_before(log, last, [&](const StepRecord& r) {
    return r.cpu == cpu && r.kind == StepRecord::Kind::kPoint && r.address == v.address;
  });
  if (f.access == nullptr || !is_struct_page_access(*f.access)) return f;
  f.va = v.address;
  const uint64_t page = v.address & kPageMask;
  const auto fill_of = [&](unsigned c) {
    return last_before(log, f.access->step, [&](const StepRecord& r) {
      return (c == ~0u || r.cpu == c) && is_point(r, SchedEvent::kTlbFill) && (r.address & kPageMask) == page;
    });
  };
  f.fill = fill_of(cpu);
  f.flush = last_before(log, f.access->step,
                        [&](const StepRecord& r) { return is_point(r, SchedEvent::kTlbFlush) && flush_covers(r, v.address); });
  if (v.frame)
    f.free = last_before(log, f.access->step, [&](const StepRecord& r) {
      return is_point(r, SchedEvent::kBuddyFree) && free_covers(r, v.frame->value());
    });
  // Another CPU's walk of the same page names the entry when this CPU's
  // fill came before the recording.
  const StepRecord* walked = f.fill != nullptr ? f.fill : fill_of(~0u);
  if (walked != nullptr) {
    const std::vector<uint64_t> words = walk_after(log, *walked);
    if (!words.empty()) f.leaf_entry = words.back();
  }
  // The MMU's walk has no schedule points of its own (its reads are the
  // hardware's), so usually no walk is recorded: take the entry the kernel
  // code wrote or read at the VA's index in a PTE table, the most recently
  // touched one when several tables hold that index.
  if (!f.leaf_entry) {
    const uint64_t offset = uint64_t{pte_index(v.address)} * sizeof(uint64_t);
    const StepRecord* r = last_before(log, f.access->step, [&](const StepRecord& x) {
      return (is_point(x, SchedEvent::kPteStore) || is_point(x, SchedEvent::kPteLoad)) &&
             ((x.address & kWordMask) & (kPageSize - 1)) == offset;
    });
    if (r != nullptr) {
      f.leaf_entry = r->address & kWordMask;
      f.entry_by_index = true;
    }
  }
  if (f.leaf_entry)
    f.pte_store = last_before(log, f.access->step, [&](const StepRecord& r) {
      return is_point(r, SchedEvent::kPteStore) && (r.address & kWordMask) == *f.leaf_entry;
    });
  return f;
}

std::string describe_step(const StepRecord& r) {
  std::string s = std::string(to_string(r.event));
  if (r.address != 0) s += " " + hex(r.address);
  if (r.value != 0) s += " = " + hex(r.value);
  return s + " in " + std::string(r.operation);
}

}  // namespace

std::vector<RaceAccess> race_accesses(const std::string& message) {
  // Race::describe(): "... by CPU %u at step %llu and ... by CPU %u at step %llu, ..."
  static const std::regex kAccess(R"(by CPU (\d+) at step (\d+))");
  std::vector<RaceAccess> out;
  for (auto it = std::sregex_iterator(message.begin(), message.end(), kAccess); it != std::sregex_iterator(); ++it)
    out.push_back({static_cast<unsigned>(std::stoul((*it)[1])), std::stoull((*it)[2])});
  if (out.size() != 2) return {};
  return out;
}

std::vector<MarkedStep> marked_steps(const StepLog& log, const std::optional<Violation>& v, uint64_t failure_step) {
  std::vector<MarkedStep> marks;
  auto mark = [&](const StepRecord* r, std::string role, std::string label) {
    if (r == nullptr) return;
    for (MarkedStep& m : marks)
      if (m.step == r->step) {
        m.label += "; " + label;  // one step, two roles (the access is also where it was seen)
        return;
      }
    marks.push_back({r->step, std::move(role), std::move(label)});
  };
  if (v && v->kind == ViolationKind::kDataRace) {
    const std::vector<RaceAccess> accesses = race_accesses(v->message);
    const char* names[] = {"first racing access", "second racing access"};
    for (size_t i = 0; i < accesses.size(); ++i) {
      const StepRecord* r = at(log, accesses[i].step);
      if (r == nullptr || r->cpu != accesses[i].cpu) continue;
      // The MMU's walk reads the PTEs inside the fill's step (mmu.cc): the
      // racing load is the hardware's, not the kernel code's.
      const std::string how = is_point(*r, SchedEvent::kTlbFill) ? " (the hardware page-table walk of this TLB fill)" : "";
      mark(r, "race", fmt::format("{} (CPU {}): {}{}", names[i], r->cpu, describe_step(*r), how));
    }
  } else if (v) {
    const Findings f = find(log, *v, failure_step);
    if (f.pte_store != nullptr)
      mark(f.pte_store, "pte-store",
           fmt::format("PTE {:#x} set to {} by CPU {}", f.pte_store->address & kWordMask, pte_words(f.pte_store->value),
                       f.pte_store->cpu));
    if (f.fill != nullptr)
      mark(f.fill, "fill", fmt::format("CPU {} fills its TLB for {:#x}", f.fill->cpu, f.va & kPageMask));
    if (f.free != nullptr)
      mark(f.free, "free", fmt::format("frame {:#x} freed to the buddy allocator by CPU {}", v->frame->value(), f.free->cpu));
    if (f.flush != nullptr) {
      const bool after_fill = f.fill == nullptr || f.flush->step > f.fill->step;
      mark(f.flush, "flush",
           fmt::format("TLB flush [{:#x}, {:#x}) by CPU {}{}", f.flush->address, f.flush->value, f.flush->cpu,
                       after_fill ? ""
                                  : fmt::format(": the last flush covering {:#x}, before CPU {}'s fill{}",
                                                f.va & kPageMask, f.fill->cpu,
                                                // Only a stale entry is about the missing flush.
                                                v->kind == ViolationKind::kStaleTlbUseAfterFree
                                                    ? "; none came between the fill and the access"
                                                    : "")));
    }
    if (f.access != nullptr)
      mark(f.access, "access", fmt::format("the violating access (CPU {}): {}: {}", v->cpu.value(),
                                         to_string(v->kind), describe_step(*f.access)));
  }
  mark(at(log, failure_step), "seen", "the scheduler sees the violation here");
  std::sort(marks.begin(), marks.end(), [](const MarkedStep& a, const MarkedStep& b) { return a.step < b.step; });
  return marks;
}

json::object trace_json(const StepLog& log, unsigned nr_cpus, const std::optional<Violation>& v,
                        uint64_t failure_step, const std::vector<std::pair<uint64_t, uint32_t>>& decisions) {
  json::object o;
  o["cpus"] = nr_cpus;
  o["steps_total"] = log.steps();
  o["dropped"] = log.dropped();
  o["cap"] = log.cap();
  o["failure_step"] = failure_step;
  json::array events;
  for (int e = 0; e < kNumSchedEvents; ++e)
    events.emplace_back(std::string(to_string(static_cast<SchedEvent>(e))));
  o["events"] = std::move(events);

  // Steps as [step, cpu, kind, event, address, value, stack]: compact, as
  // an execution may have 200,000 of them. Stacks are interned.
  std::map<std::vector<std::string_view>, size_t> stack_ids;
  json::array stacks, steps;
  const uint64_t last = failure_step != 0 ? failure_step : log.steps();
  for (const StepRecord& r : log.records()) {
    if (r.step > last) break;
    std::vector<std::string_view> stack(r.stack.begin(), r.stack.begin() + r.depth);
    if (stack.empty()) stack.push_back(r.operation);
    auto [it, added] = stack_ids.emplace(stack, stack_ids.size());
    if (added) {
      json::array s;
      for (std::string_view f : stack) s.emplace_back(std::string(f));
      stacks.emplace_back(std::move(s));
    }
    steps.emplace_back(json::array{r.step, r.cpu, static_cast<int>(r.kind), static_cast<int>(r.event),
                                   r.address != 0 ? hex(r.address) : "", r.value != 0 ? hex(r.value) : "",
                                   it->second});
  }
  o["stacks"] = std::move(stacks);
  o["steps"] = std::move(steps);

  json::array marks;
  for (const MarkedStep& m : marked_steps(log, v, failure_step))
    marks.emplace_back(json::object{{"step", m.step}, {"role", m.role}, {"label", m.label}});
  o["marks"] = std::move(marks);
  json::array ds;
  for (const auto& [step, cpu] : decisions) ds.emplace_back(json::array{step, cpu});
  o["decisions"] = std::move(ds);

  // The entries, TLB and struct page the violation involves.
  std::vector<std::pair<uint64_t, std::string>> entries;  // word, why
  std::optional<Findings> f;
  if (v && v->kind == ViolationKind::kDataRace) {
    const uint64_t word = v->address & kWordMask;
    const bool pte = std::any_of(log.records().begin(), log.records().end(), [&](const StepRecord& r) {
      return (is_point(r, SchedEvent::kPteLoad) || is_point(r, SchedEvent::kPteStore)) && (r.address & kWordMask) == word;
    });
    if (pte) entries.emplace_back(word, "the page-table entry both racing accesses touch");
  } else if (v) {
    f = find(log, *v, failure_step);
    if (f->leaf_entry)
      entries.emplace_back(*f->leaf_entry,
                           fmt::format("the PTE mapping {:#x}{}", f->va & kPageMask,
                                       f->entry_by_index ? " (found by its index in the PTE table: the MMU's walk "
                                                           "records no step)"
                                                         : ""));
  }
  json::array ptes;
  for (const auto& [word, why] : entries) {
    json::array history;
    for (const StepRecord& r : log.records()) {
      if (r.step > last) break;
      const bool store = is_point(r, SchedEvent::kPteStore);
      if ((!store && !is_point(r, SchedEvent::kPteLoad)) || (r.address & kWordMask) != word) continue;
      json::object h{{"step", r.step}, {"cpu", r.cpu}, {"op", store ? "store" : "load"},
                     {"operation", std::string(r.operation)}};
      if (store) {
        const PteValue pv(r.value);
        h["value"] = hex(r.value);
        h["present"] = pte_present(pv);
        h["frame"] = pte_present(pv) ? json::value(hex(pte_pfn(pv).value())) : json::value(nullptr);
        h["rw"] = pte_write(pv);
      }
      history.emplace_back(std::move(h));
    }
    // The last accesses matter most: keep those.
    if (history.size() > kMaxHistory) history.erase(history.begin(), history.end() - kMaxHistory);
    ptes.emplace_back(json::object{{"entry", hex(word)}, {"why", why}, {"history", std::move(history)}});
  }
  o["ptes"] = std::move(ptes);

  json::value tlb = nullptr, page = nullptr;
  if (f && f->va != 0) {
    const uint64_t va_page = f->va & kPageMask;
    json::array ev;
    for (const StepRecord& r : log.records()) {
      if (r.step > last || ev.size() >= kMaxHistory) break;
      if (is_point(r, SchedEvent::kTlbFill) && (r.address & kPageMask) == va_page)
        ev.emplace_back(json::object{{"step", r.step}, {"cpu", r.cpu}, {"op", "fill"}, {"operation", std::string(r.operation)}});
      else if (is_point(r, SchedEvent::kTlbFlush) && flush_covers(r, f->va))
        ev.emplace_back(json::object{{"step", r.step}, {"cpu", r.cpu}, {"op", r.value == ~uint64_t{0} ? "flush all" : "flush"},
                                     {"range", fmt::format("[{:#x}, {:#x})", r.address, r.value)},
                                     {"operation", std::string(r.operation)}});
    }
    tlb = json::object{{"va", hex(va_page)}, {"cpu", v->cpu.value()}, {"events", std::move(ev)}};
    const uint64_t base = f->va & kStructPageMask;
    json::array acc;
    for (const StepRecord& r : log.records()) {
      if (r.step > last) break;
      if (!is_struct_page_access(r) || (r.address & kStructPageMask) != base) continue;
      acc.emplace_back(json::object{{"step", r.step}, {"cpu", r.cpu}, {"event", std::string(to_string(r.event))},
                                    {"offset", r.address - base}, {"value", r.value != 0 ? hex(r.value) : ""},
                                    {"operation", std::string(r.operation)}});
    }
    // The last accesses matter most: keep those.
    if (acc.size() > kMaxHistory) acc.erase(acc.begin(), acc.end() - kMaxHistory);
    page = json::object{{"va", hex(base)}, {"accesses", std::move(acc)}};
  }
  o["tlb"] = std::move(tlb);
  o["struct_page"] = std::move(page);
  return o;
}

}  // namespace hvo::stress
