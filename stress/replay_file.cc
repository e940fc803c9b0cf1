#include "stress/replay_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "engine/sched/memory_model.h"
#include "engine/sched/strategy.h"
#include "engine/sched/verdict.h"
#include "models/registry.h"
#include "stress/atomic_file.h"
#include "stress/campaign_json.h"
#include "stress/fail_alloc_parse.h"
#include "stress/size_parse.h"
#include "stress/workload.h"

namespace hvo::stress {

namespace json = boost::json;

std::string hex64(uint64_t v) { return fmt::format("{:#018x}", v); }

std::string ReplayFile::violation_kind() const {
  if (!violation) return verdict;
  const json::value* k = violation->if_contains("kind");
  return k != nullptr && k->is_string() ? std::string(k->as_string()) : verdict;
}

json::object to_json(const ReplayFile& f) {
  json::object o;
  o["format"] = std::string(kReplayFormat);
  o["version"] = kReplayVersion;
  o["mode"] = std::string(to_string(f.config.mode));
  o["config"] = to_json(f.config);
  if (f.config.mode == CampaignMode::kControlled) {
    o["seed"] = f.seed;
    o["execution"] = f.execution;
    o["strategy"] = std::string(sched::to_string(f.config.strategy));
    json::array ds;
    for (const sched::Decision& d : f.decisions) ds.emplace_back(json::array{d.step, d.cpu});
    o["decisions"] = std::move(ds);
    if (!f.alloc_failures.empty()) {
      json::array af;
      for (uint64_t i : f.alloc_failures) af.emplace_back(i);
      o["alloc_failures"] = std::move(af);
    }
    o["verdict"] = f.verdict;
    o["steps"] = f.steps;
    o["failure_step"] = f.failure_step;
    o["failure_cpu"] = f.failure_cpu;
    o["message"] = f.message;
    o["trace_hash"] = hex64(f.trace_hash);
  }
  o["violation"] = f.violation ? json::value(*f.violation) : json::value(nullptr);
  o["command"] = f.config.command_line();
  return o;
}

std::string replay_file_text(const ReplayFile& f) { return json::serialize(to_json(f)) + "\n"; }

namespace {

// Reading: each accessor throws a Bad naming the field; read_replay_file()
// turns it into the message. Exceptions stay inside this file.
struct Bad {
  std::string what;
};

const json::value& field(const json::object& o, std::string_view name, std::string_view where) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) throw Bad{std::string(where) + "'" + std::string(name) + "' is missing"};
  return *v;
}

std::string get_string(const json::object& o, std::string_view name, std::string_view where = "") {
  const json::value& v = field(o, name, where);
  if (!v.is_string()) throw Bad{std::string(where) + "'" + std::string(name) + "' is not a string"};
  return std::string(v.as_string());
}

uint64_t get_u64(const json::object& o, std::string_view name, std::string_view where = "",
                 uint64_t max = UINT64_MAX) {
  const json::value& v = field(o, name, where);
  uint64_t x = 0;
  if (v.is_uint64()) x = v.as_uint64();
  else if (v.is_int64() && v.as_int64() >= 0) x = static_cast<uint64_t>(v.as_int64());
  else throw Bad{std::string(where) + "'" + std::string(name) + "' is not a non-negative integer"};
  if (x > max) throw Bad{std::string(where) + "'" + std::string(name) + "' is out of range"};
  return x;
}

uint64_t parse_hex(const std::string& s, std::string_view name) {
  uint64_t x = 0;
  if (s.size() < 3 || s[0] != '0' || s[1] != 'x') throw Bad{"'" + std::string(name) + "' is not a hex number"};
  const auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), x, 16);
  if (ec != std::errc() || p != s.data() + s.size()) throw Bad{"'" + std::string(name) + "' is not a hex number"};
  return x;
}

CampaignConfig config_from_json(const json::object& o, CampaignMode mode) {
  constexpr std::string_view w = "config: ";
  CampaignConfig c;
  c.mode = mode;
  if (get_string(o, "mode", w) != to_string(mode)) throw Bad{"config: 'mode' does not match the file's"};
  c.model = get_string(o, "model", w);
  const json::value& reverts = field(o, "reverts", w);
  if (!reverts.is_array()) throw Bad{"config: 'reverts' is not an array"};
  for (const json::value& r : reverts.as_array()) {
    if (!r.is_string()) throw Bad{"config: 'reverts' holds a non-string"};
    c.reverts.insert(std::string(r.as_string()));
  }
  if (std::string err = check_model_and_reverts(c.model, c.reverts); !err.empty()) throw Bad{"config: " + err};
  c.threads = static_cast<unsigned>(get_u64(o, "threads", w, MachineConfig::kMaxCpus));
  if (c.threads == 0) throw Bad{"config: 'threads' is 0"};
  if (o.contains("iterations")) c.iterations = get_u64(o, "iterations", w, uint64_t{1} << 50);
  if (o.contains("duration_ms")) c.duration_ms = get_u64(o, "duration_ms", w);
  if (!c.iterations && !c.duration_ms) throw Bad{"config: neither 'iterations' nor 'duration_ms'"};
  c.seed = get_u64(o, "seed", w);
  c.workload = get_string(o, "workload", w);
  if (find_workload(c.workload) == nullptr) throw Bad{"config: unknown workload '" + c.workload + "'"};
  const std::string size = get_string(o, "hugepage_size", w);
  if (size == "2M") c.hstate = kHstate2M;
  else if (size == "1G") c.hstate = kHstate1G;
  else throw Bad{"config: 'hugepage_size' is not 2M or 1G"};
  c.memory_bytes = get_u64(o, "memory_bytes", w);
  if (c.memory_bytes < MachineConfig::kMinMemory || c.memory_bytes > MachineConfig::kMaxMemory ||
      c.memory_bytes % (uint64_t{2} << 20) != 0)
    throw Bad{"config: 'memory_bytes' is out of range"};
  const std::string pte = get_string(o, "pte_access", w);
  if (const std::optional<PteAccess> a = pte_access_from_string(pte)) c.pte_access = *a;
  else throw Bad{"config: 'pte_access' is not once, plain or plain-torn"};
  if (mode == CampaignMode::kFree) {
    c.check_every = get_u64(o, "check_every", w);
    if (c.check_every == 0) throw Bad{"config: 'check_every' is 0"};
    if (o.contains("fail_alloc")) {
      auto attr = parse_fail_alloc(get_string(o, "fail_alloc", w));
      if (auto* err = std::get_if<std::string>(&attr)) throw Bad{"config: 'fail_alloc': " + *err};
      c.fail_alloc = std::get<FaultAttr>(attr);
    }
    return c;
  }
  const auto strategy = sched::strategy_from_string(get_string(o, "strategy", w));
  if (!strategy || *strategy == sched::StrategyKind::kReplay) throw Bad{"config: unknown 'strategy'"};
  c.strategy = *strategy;
  c.seeds = get_u64(o, "seeds", w);
  c.depth = static_cast<unsigned>(get_u64(o, "depth", w, 64));
  if (c.depth == 0) throw Bad{"config: 'depth' is 0"};
  c.preemptions = static_cast<unsigned>(get_u64(o, "preemptions", w, 1000));
  c.max_steps = get_u64(o, "max_steps", w);
  if (c.max_steps == 0) throw Bad{"config: 'max_steps' is 0"};
  // Optional: files written before it existed had the default.
  if (o.contains("initial_pool")) c.initial_pool = get_u64(o, "initial_pool", w, 64);
  if (o.contains("memory_model")) {
    const auto m = sched::memory_model_from_string(get_string(o, "memory_model", w));
    if (!m) throw Bad{"config: 'memory_model' is not sc, tso or weak"};
    c.memory_model = *m;
  }
  if (o.contains("fail_allocs")) c.fail_allocs = get_u64(o, "fail_allocs", w, uint64_t{1} << 20);
  if (c.threads * sched::ids_per_cpu(c.memory_model) > sched::kMaxCpus)
    throw Bad{"config: too many CPUs for the memory model"};
  if (!c.iterations || c.duration_ms) throw Bad{"config: controlled mode needs 'iterations' and no 'duration_ms'"};
  return c;
}

ReplayFile from_json(const json::value& doc) {
  if (!doc.is_object()) throw Bad{"not a JSON object"};
  const json::object& o = doc.as_object();
  if (get_string(o, "format") != kReplayFormat) throw Bad{"not an hvo-stress replay file ('format' is not hvo-stress-replay)"};
  const uint64_t version = get_u64(o, "version");
  if (version != kReplayVersion)
    throw Bad{"replay file version " + std::to_string(version) + ", this build reads version " +
              std::to_string(kReplayVersion)};
  const std::string mode = get_string(o, "mode");
  if (mode != "free" && mode != "controlled") throw Bad{"unknown mode '" + mode + "'"};
  const json::value& config = field(o, "config", "");
  if (!config.is_object()) throw Bad{"'config' is not an object"};
  ReplayFile f;
  f.config = config_from_json(config.as_object(),
                              mode == "controlled" ? CampaignMode::kControlled : CampaignMode::kFree);
  const json::value& violation = field(o, "violation", "");
  if (violation.is_object()) f.violation = violation.as_object();
  else if (!violation.is_null()) throw Bad{"'violation' is not an object"};
  if (f.config.mode == CampaignMode::kFree) return f;

  f.seed = get_u64(o, "seed");
  f.execution = get_u64(o, "execution");
  if (get_string(o, "strategy") != sched::to_string(f.config.strategy))
    throw Bad{"'strategy' does not match the configuration's"};
  const json::value& ds = field(o, "decisions", "");
  if (!ds.is_array()) throw Bad{"'decisions' is not an array"};
  uint64_t last = 0;
  for (const json::value& d : ds.as_array()) {
    const json::array* pair = d.if_array();
    if (pair == nullptr || pair->size() != 2) throw Bad{"'decisions' holds something other than [step, cpu]"};
    json::object tmp{{"step", (*pair)[0]}, {"cpu", (*pair)[1]}};
    const uint64_t step = get_u64(tmp, "step", "decisions: ");
    // Under tso/weak a decision may name a CPU's store-buffer drain: ids
    // beyond the CPUs (memory_model.h). Under weak it may also name which
    // buffered store drains out of order: an entry index, below 64
    // (Scheduler::drain_choice).
    const uint64_t ids = f.config.threads * sched::ids_per_cpu(f.config.memory_model);
    const uint64_t max_choice = f.config.memory_model == sched::MemoryModel::kWeak ? sched::kMaxCpus - 1 : ids - 1;
    const uint64_t cpu = get_u64(tmp, "cpu", "decisions: ", max_choice);
    if (step <= last) throw Bad{"'decisions' are not in increasing step order"};
    last = step;
    f.decisions.push_back(sched::Decision{step, static_cast<uint32_t>(cpu)});
  }
  // Optional: a file without it failed no allocation.
  if (const json::value* af = o.if_contains("alloc_failures")) {
    if (!af->is_array()) throw Bad{"'alloc_failures' is not an array"};
    uint64_t prev = 0;
    for (const json::value& v : af->as_array()) {
      json::object tmp{{"index", v}};
      const uint64_t i = get_u64(tmp, "index", "alloc_failures: ");
      if (i <= prev) throw Bad{"'alloc_failures' are not increasing indices from 1"};
      prev = i;
      f.alloc_failures.push_back(i);
    }
  }
  f.verdict = get_string(o, "verdict");
  f.steps = get_u64(o, "steps");
  f.failure_step = get_u64(o, "failure_step");
  const json::value& cpu = field(o, "failure_cpu", "");
  if (!cpu.is_int64() && !cpu.is_uint64()) throw Bad{"'failure_cpu' is not an integer"};
  f.failure_cpu = static_cast<int>(cpu.to_number<int64_t>());
  f.message = get_string(o, "message");
  f.trace_hash = parse_hex(get_string(o, "trace_hash"), "trace_hash");
  return f;
}

}  // namespace

InputText read_input_file(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO with no writer must not hang; the fstat()
  // below then refuses it without a single read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return {{}, std::string("cannot open: ") + errno_text(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {{}, std::string("cannot stat: ") + errno_text(errno)};
  if (S_ISDIR(st.st_mode)) return {{}, "is a directory, not a replay file"};
  if (!S_ISREG(st.st_mode))
    return {{},
            std::string("is not a regular file (") +
                (S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "a socket") +
                "): replay files are read from regular files only"};
  const auto too_big = [&] {
    return fmt::format("is larger than {} (the most a replay file may hold)", cli::format_size(max_bytes));
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return {{}, too_big()};
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {{}, std::string("cannot read: ") + errno_text(errno)};
    }
    if (n == 0) break;
    // The file may grow while it is read: the cap holds for what is read.
    if (text.size() + static_cast<size_t>(n) > max_bytes) return {{}, too_big()};
    text.append(buf, static_cast<size_t>(n));
  }
  return {std::move(text), {}};
}

std::variant<ReplayFile, std::string> parse_replay_text(std::string_view text) {
  json::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) return "not valid JSON (" + ec.message() + "): corrupt or truncated";
  try {
    return from_json(doc);
  } catch (const Bad& b) {
    return b.what;
  } catch (const std::exception& e) {
    return std::string("malformed: ") + e.what();
  }
}

std::variant<CampaignConfig, std::string> parse_controlled_config(const json::object& o) {
  try {
    return config_from_json(o, CampaignMode::kControlled);
  } catch (const Bad& b) {
    return b.what;
  } catch (const std::exception& e) {
    return std::string("malformed: ") + e.what();
  }
}

std::variant<ReplayFile, std::string> read_replay_file(const std::string& path) {
  InputText in = read_input_file(path, kMaxReplayFileBytes);
  if (!in.error.empty()) return in.error;
  return parse_replay_text(in.text);
}

}  // namespace hvo::stress
