#include "stress/interleaving_view.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/task.h"

namespace hvo::stress {

std::vector<StepRecord> StepRing::before(uint64_t last, size_t count) const {
  last = std::min(last, steps_);
  const uint64_t kept_from = steps_ > kCapacity ? steps_ - kCapacity + 1 : 1;
  const uint64_t first = std::max<uint64_t>(kept_from, last >= count ? last - count + 1 : 1);
  std::vector<StepRecord> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(ring_[(s - 1) % kCapacity]);
  return out;
}

RecordingHook::RecordingHook(StepSink& ring, unsigned cpu) : ring_(ring), cpu_(cpu), inner_(current().hook) {
  current().hook = this;
}

RecordingHook::~RecordingHook() { current().hook = inner_; }

namespace {

static_assert(std::tuple_size_v<decltype(StepRecord::stack)> == Task::kMaxOperations);

StepRecord record_of(unsigned cpu, StepRecord::Kind kind, const SchedulePoint& p, uint64_t value) {
  const Task& t = current();
  StepRecord r{0, cpu, kind, p.event, p.address, value, t.operation};
  r.depth = static_cast<uint8_t>(std::min<int>(t.nr_operations, static_cast<int>(r.stack.size())));
  for (unsigned i = 0; i < r.depth; ++i) r.stack[i] = t.operations[i];
  return r;
}

}  // namespace

// Noted before forwarding: the scheduler numbers the step when the CPU
// arrives at the point, before it decides who runs.
void RecordingHook::point(const SchedulePoint& p) {
  ring_.add(record_of(cpu_, StepRecord::Kind::kPoint, p, p.value));
  inner_->point(p);
}

void RecordingHook::blocked(const SchedulePoint& p) {
  ring_.add(record_of(cpu_, StepRecord::Kind::kBlocked, p, 0));
  inner_->blocked(p);
}

void RecordingHook::finished() {
  ring_.add({0, cpu_, StepRecord::Kind::kFinish, SchedEvent::kAtomic, 0, 0, "done"});
}

namespace {

constexpr size_t kColumn = 46;

std::string cell(const StepRecord& r) {
  if (r.kind == StepRecord::Kind::kFinish) return "(finished)";
  std::string s = std::string(to_string(r.event));
  if (r.kind == StepRecord::Kind::kBlocked) s += " BLOCKED";
  if (r.address != 0) s += fmt::format(" {:#x}", r.address);
  if (r.value != 0) s += fmt::format("={:#x}", r.value);
  s += fmt::format(" [{}]", r.operation);
  if (s.size() > kColumn) s = s.substr(0, kColumn - 1) + "~";
  return s;
}

}  // namespace

uint64_t violating_step(const StepRing& ring, uint64_t failure_step, const ViolationSite& site) {
  if (site.address == 0) return 0;
  const std::vector<StepRecord> kept = ring.before(failure_step, StepRing::kCapacity);
  for (auto it = kept.rbegin(); it != kept.rend(); ++it)
    if (it->cpu == site.cpu && it->kind == StepRecord::Kind::kPoint && it->address == site.address) return it->step;
  return 0;
}

std::string render_interleaving(const StepRing& ring, unsigned nr_cpus, uint64_t failure_step,
                                const std::optional<ViolationSite>& site, size_t count) {
  const std::vector<StepRecord> rows = ring.before(failure_step, count);
  const uint64_t access = site ? violating_step(ring, failure_step, *site) : 0;
  std::string out = fmt::format("   {:>6} ", "step");
  for (unsigned c = 0; c < nr_cpus; ++c) out += fmt::format("| {:<{}} ", fmt::format("cpu{}", c), kColumn);
  while (out.back() == ' ') out.pop_back();
  out += "\n";
  for (const StepRecord& r : rows) {
    out += fmt::format("{}{} {:>6} ", r.step == failure_step ? '>' : ' ', r.step == access ? '*' : ' ', r.step);
    for (unsigned c = 0; c < nr_cpus; ++c) out += fmt::format("| {:<{}} ", c == r.cpu ? cell(r) : "", kColumn);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (r.step == access) out += "   <== the violating access";
    if (r.step == failure_step) out += "   <== violation seen here";
    out += "\n";
  }
  if (rows.empty()) out += "  (no step recorded before the failure)\n";
  return out;
}

}  // namespace hvo::stress
