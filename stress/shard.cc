#include "stress/shard.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "stress/campaign_json.h"
#include "stress/replay_file.h"

namespace hvo::stress {

namespace json = boost::json;

namespace {

// A decimal count with nothing around it, or nullopt.
std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t x = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return x;
}

std::string shown(std::string_view s) { return s.size() <= 40 ? std::string(s) : std::string(s.substr(0, 37)) + "..."; }

uint64_t block_count(const CampaignConfig& c, const ShardSpec& s) { return (c.seeds + s.block - 1) / s.block; }
uint64_t block_begin(const ShardSpec& s, uint64_t b) { return b * s.block; }
uint64_t block_end(const CampaignConfig& c, const ShardSpec& s, uint64_t b) {
  return std::min(c.seeds, (b + 1) * s.block);
}

}  // namespace

std::variant<ShardSpec, std::string> parse_shard(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string form = "'" + shown(text) + "' is not K/N (shard K of N, 0 <= K < N <= " +
                           std::to_string(kMaxShards) + ")";
  if (slash == std::string_view::npos) return form;
  const auto k = parse_u64(text.substr(0, slash));
  const auto n = parse_u64(text.substr(slash + 1));
  if (!k || !n || *n == 0 || *n > kMaxShards || *k >= *n) return form;
  return ShardSpec{.index = *k, .count = *n};
}

std::variant<std::monostate, ShardSpec, std::string> shard_from_environment(const GetEnv& getenv,
                                                                            std::optional<uint64_t> count_flag) {
  auto number = [&](const char* name, uint64_t max) -> std::variant<uint64_t, std::string> {
    const char* v = getenv(name);
    const auto x = v != nullptr ? parse_u64(v) : std::nullopt;
    if (!x || *x > max)
      return fmt::format("{}='{}' is not a count in 0..{}", name, v != nullptr ? shown(v) : "", max);
    return *x;
  };
  if (getenv("SLURM_ARRAY_TASK_ID") != nullptr) {
    if (count_flag) return "--shard-count is for JOB_COMPLETION_INDEX: under Slurm SLURM_ARRAY_TASK_COUNT gives it";
    if (getenv("SLURM_ARRAY_TASK_COUNT") == nullptr)
      return "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not";
    const auto id = number("SLURM_ARRAY_TASK_ID", std::numeric_limits<uint32_t>::max());
    const auto count = number("SLURM_ARRAY_TASK_COUNT", kMaxShards);
    if (auto* e = std::get_if<std::string>(&id)) return *e;
    if (auto* e = std::get_if<std::string>(&count)) return *e;
    uint64_t min = 0;
    if (getenv("SLURM_ARRAY_TASK_MIN") != nullptr) {
      const auto m = number("SLURM_ARRAY_TASK_MIN", std::numeric_limits<uint32_t>::max());
      if (auto* e = std::get_if<std::string>(&m)) return *e;
      min = std::get<uint64_t>(m);
    }
    const uint64_t k = std::get<uint64_t>(id), n = std::get<uint64_t>(count);
    // A stepped array (--array=0-15:4) has ids that are not 0..N-1 above
    // its minimum: refused here rather than leaving seeds unrun.
    if (n == 0 || k < min || k - min >= n)
      return fmt::format(
          "SLURM_ARRAY_TASK_ID={} is not one of {} consecutive ids from SLURM_ARRAY_TASK_MIN={} (use --array=0-{})",
          k, n, min, n == 0 ? 0 : n - 1);
    return ShardSpec{.index = k - min, .count = n};
  }
  if (getenv("JOB_COMPLETION_INDEX") != nullptr) {
    const auto id = number("JOB_COMPLETION_INDEX", kMaxShards);
    if (auto* e = std::get_if<std::string>(&id)) return *e;
    uint64_t n = 0;
    if (count_flag) {
      n = *count_flag;
    } else if (getenv(kShardCountEnv) != nullptr) {
      const auto count = number(kShardCountEnv, kMaxShards);
      if (auto* e = std::get_if<std::string>(&count)) return *e;
      n = std::get<uint64_t>(count);
    } else {
      return fmt::format("JOB_COMPLETION_INDEX is set: give the job's completions as --shard-count N or {}",
                         kShardCountEnv);
    }
    const uint64_t k = std::get<uint64_t>(id);
    if (n == 0 || k >= n) return fmt::format("JOB_COMPLETION_INDEX={} is not below the shard count {}", k, n);
    return ShardSpec{.index = k, .count = n};
  }
  if (count_flag) return "--shard-count needs JOB_COMPLETION_INDEX in the environment (a Kubernetes Indexed Job)";
  return std::monostate{};
}

std::string check_shardable(const CampaignConfig& c) {
  if (c.mode != CampaignMode::kControlled) return "needs --mode controlled";
  if (c.strategy != sched::StrategyKind::kRandom)
    return fmt::format(
        "needs --strategy random (the strategy is {}): {}", sched::to_string(c.strategy),
        c.strategy == sched::StrategyKind::kPct
            ? "pct's estimate k grows with every earlier execution, which another shard runs"
            : "the bounded search is one depth-first walk");
  return {};
}

ShardResult run_shard(const CampaignConfig& c, const ShardSpec& spec, std::optional<ControlledResult>& failing) {
  const auto t0 = std::chrono::steady_clock::now();
  ShardResult r;
  r.config = c;
  r.spec = spec;
  const uint64_t blocks = block_count(c, spec);
  // Its executions: block K + j * N holds positions [j * block, (j + 1) *
  // block); only the search's last block can be short, and if it is this
  // shard's it is its last.
  uint64_t count = 0;
  for (uint64_t b = spec.index; b < blocks; b += spec.count) count += block_end(c, spec, b) - block_begin(spec, b);
  auto index_of = [&](uint64_t i) {
    return block_begin(spec, spec.index + (i / spec.block) * spec.count) + i % spec.block;
  };
  r.interrupted = run_random_executions(c, count, index_of, [&](IndexedExecution& x) {
    const uint64_t b = x.result.index / spec.block;
    if (r.blocks.empty() || r.blocks.back().block != b)
      r.blocks.push_back(BlockResult{.block = b, .begin = block_begin(spec, b)});
    BlockResult& br = r.blocks.back();
    ++br.executions;
    ++br.verdicts[static_cast<int>(x.result.verdict)];
    br.schedule_points += x.schedule_points;
    br.last_trace_hash = x.result.trace_hash;
    if (!sched::is_failure(x.result.verdict)) return true;
    r.failure = ShardFailure{.index = x.result.index, .seed = x.result.seed, .replay_file = {}};
    ControlledResult f;
    f.report.first_failure = x.result;
    f.report.last = x.result;
    f.failing_seed = x.result.seed;
    f.violation = std::move(x.violation);
    failing = std::move(f);
    return false;
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

json::object to_json(const ShardResult& r) {
  json::object o;
  o["format"] = std::string(kShardResultFormat);
  o["version"] = kShardResultVersion;
  o["shard"] = r.spec.index;
  o["shards"] = r.spec.count;
  o["block"] = r.spec.block;
  o["config"] = to_json(r.config);
  o["command"] = r.config.command_line();
  json::array blocks;
  for (const BlockResult& b : r.blocks) {
    json::object bo;
    bo["block"] = b.block;
    bo["begin"] = b.begin;
    bo["executions"] = b.executions;
    json::object verdicts;
    for (int v = 0; v < sched::kNumVerdicts; ++v) verdicts[sched::to_string(static_cast<sched::Verdict>(v))] = b.verdicts[v];
    bo["verdicts"] = std::move(verdicts);
    bo["schedule_points"] = b.schedule_points;
    bo["last_trace_hash"] = hex64(b.last_trace_hash);
    blocks.emplace_back(std::move(bo));
  }
  o["blocks"] = std::move(blocks);
  if (r.failure) {
    json::object f;
    f["index"] = r.failure->index;
    f["seed"] = r.failure->seed;
    f["replay_file"] = r.failure->replay_file;
    o["failure"] = std::move(f);
  } else {
    o["failure"] = nullptr;
  }
  o["interrupted"] = r.interrupted;
  o["elapsed_s"] = r.seconds;
  return o;
}

namespace {

struct Bad {
  std::string what;
};

const json::value& field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) throw Bad{"'" + std::string(name) + "' is missing"};
  return *v;
}
uint64_t get_u64(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<uint64_t>(v.as_int64());
  throw Bad{"'" + std::string(name) + "' is not a non-negative integer"};
}
const json::object& get_object(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (!v.is_object()) throw Bad{"'" + std::string(name) + "' is not an object"};
  return v.as_object();
}
std::string get_string(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (!v.is_string()) throw Bad{"'" + std::string(name) + "' is not a string"};
  return std::string(v.as_string());
}
uint64_t get_hex(const json::object& o, std::string_view name) {
  const std::string s = get_string(o, name);
  uint64_t x = 0;
  if (s.size() < 3 || s[0] != '0' || s[1] != 'x') throw Bad{"'" + std::string(name) + "' is not a hex number"};
  const auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), x, 16);
  if (ec != std::errc() || p != s.data() + s.size()) throw Bad{"'" + std::string(name) + "' is not a hex number"};
  return x;
}

ShardResult shard_from_json(const json::value& doc) {
  if (!doc.is_object()) throw Bad{"not a JSON object"};
  const json::object& o = doc.as_object();
  if (get_string(o, "format") != kShardResultFormat) throw Bad{"not a shard result (format)"};
  if (get_u64(o, "version") != kShardResultVersion) throw Bad{"unsupported version"};
  ShardResult r;
  r.spec.index = get_u64(o, "shard");
  r.spec.count = get_u64(o, "shards");
  r.spec.block = get_u64(o, "block");
  if (r.spec.count == 0 || r.spec.count > kMaxShards || r.spec.index >= r.spec.count)
    throw Bad{"'shard' / 'shards' out of range"};
  if (r.spec.block == 0 || r.spec.block > kMaxShardBlock) throw Bad{"'block' out of range"};
  auto config = parse_controlled_config(get_object(o, "config"));
  if (auto* e = std::get_if<std::string>(&config)) throw Bad{*e};
  r.config = std::get<CampaignConfig>(config);
  if (std::string err = check_shardable(r.config); !err.empty()) throw Bad{"config: " + err};
  const json::value& blocks = field(o, "blocks");
  if (!blocks.is_array()) throw Bad{"'blocks' is not an array"};
  for (const json::value& bv : blocks.as_array()) {
    if (!bv.is_object()) throw Bad{"'blocks' holds a non-object"};
    const json::object& bo = bv.as_object();
    BlockResult b;
    b.block = get_u64(bo, "block");
    b.begin = get_u64(bo, "begin");
    b.executions = get_u64(bo, "executions");
    const json::object& verdicts = get_object(bo, "verdicts");
    uint64_t sum = 0;
    for (int v = 0; v < sched::kNumVerdicts; ++v) {
      b.verdicts[v] = get_u64(verdicts, sched::to_string(static_cast<sched::Verdict>(v)));
      sum += b.verdicts[v];
    }
    if (sum != b.executions) throw Bad{"block " + std::to_string(b.block) + ": verdicts do not add up to executions"};
    b.schedule_points = get_u64(bo, "schedule_points");
    b.last_trace_hash = get_hex(bo, "last_trace_hash");
    r.blocks.push_back(b);
  }
  const json::value& f = field(o, "failure");
  if (!f.is_null()) {
    if (!f.is_object()) throw Bad{"'failure' is not an object or null"};
    r.failure = ShardFailure{.index = get_u64(f.as_object(), "index"),
                             .seed = get_u64(f.as_object(), "seed"),
                             .replay_file = get_string(f.as_object(), "replay_file")};
  }
  const json::value& interrupted = field(o, "interrupted");
  if (!interrupted.is_bool()) throw Bad{"'interrupted' is not a boolean"};
  r.interrupted = interrupted.as_bool();
  if (const json::value* s = o.if_contains("elapsed_s"); s != nullptr && s->is_number())
    r.seconds = s->to_number<double>();
  return r;
}

// The shard's blocks must be its own, in order, each whole but the last
// (cut by its failure or a signal), and its failure inside the last.
void check_shard_shape(const ShardResult& r) {
  const ShardSpec& s = r.spec;
  const uint64_t blocks = block_count(r.config, s);
  for (size_t j = 0; j < r.blocks.size(); ++j) {
    const BlockResult& b = r.blocks[j];
    const uint64_t want = s.index + j * s.count;
    if (b.block != want || want >= blocks) throw Bad{"block " + std::to_string(b.block) + " is not its own or out of order"};
    if (b.begin != block_begin(s, b.block)) throw Bad{"block " + std::to_string(b.block) + ": wrong 'begin'"};
    const uint64_t size = block_end(r.config, s, b.block) - b.begin;
    const bool last = j + 1 == r.blocks.size();
    if (b.executions > size || b.executions == 0 || (!last && b.executions != size))
      throw Bad{"block " + std::to_string(b.block) + ": wrong 'executions'"};
  }
  if (r.failure) {
    if (r.blocks.empty() || r.failure->index + 1 != r.blocks.back().begin + r.blocks.back().executions)
      throw Bad{"'failure' is not its last execution run"};
    if (r.failure->seed != r.config.seed + r.failure->index) throw Bad{"'failure': wrong seed"};
  } else if (!r.interrupted) {
    // Clean and not interrupted: every one of its blocks ran whole.
    const uint64_t own = s.index < blocks ? (blocks - s.index + s.count - 1) / s.count : 0;
    if (r.blocks.size() != own || (!r.blocks.empty() && r.blocks.back().begin + r.blocks.back().executions !=
                                                            block_end(r.config, s, r.blocks.back().block)))
      throw Bad{"neither failed nor interrupted, yet did not run all its blocks"};
  }
}

std::optional<sched::Verdict> verdict_from_string(std::string_view s) {
  for (int v = 0; v < sched::kNumVerdicts; ++v)
    if (sched::to_string(static_cast<sched::Verdict>(v)) == s) return static_cast<sched::Verdict>(v);
  return std::nullopt;
}

Violation violation_from_json(const json::object& o) {
  Violation v;
  const auto kind = violation_kind_from_string(get_string(o, "kind"));
  if (!kind) throw Bad{"violation: unknown 'kind'"};
  v.kind = *kind;
  const std::string inv = get_string(o, "invariant");
  bool found = false;
  for (int i = 0; i < kNumInvariants && !found; ++i)
    if (to_string(static_cast<Invariant>(i)) == inv) {
      v.invariant = static_cast<Invariant>(i);
      found = true;
    }
  if (!found) throw Bad{"violation: unknown 'invariant'"};
  v.cpu = CpuId(static_cast<uint32_t>(get_u64(o, "cpu")));
  v.step = get_u64(o, "step");
  v.operation = get_string(o, "operation");
  v.message = get_string(o, "message");
  if (!field(o, "address").is_null()) v.address = get_hex(o, "address");
  if (!field(o, "pfn").is_null()) v.pfn = Pfn(get_hex(o, "pfn"));
  if (!field(o, "frame").is_null()) v.frame = Pfn(get_hex(o, "frame"));
  return v;
}

// The failing shard's replay file: the path it wrote, else the same name
// beside its result file (results and findings copied together).
std::string locate_replay_file(const std::string& written, const std::string& result_name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(written, ec)) return written;
  const fs::path beside = fs::path(result_name).parent_path() / fs::path(written).filename();
  if (fs::exists(beside, ec)) return beside.string();
  return written;
}

}  // namespace

std::variant<ShardResult, std::string> parse_shard_result(std::string_view text) {
  json::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) return "not valid JSON (" + ec.message() + "): corrupt or truncated";
  try {
    ShardResult r = shard_from_json(doc);
    check_shard_shape(r);
    return r;
  } catch (const Bad& b) {
    return b.what;
  } catch (const std::exception& e) {
    return std::string("malformed: ") + e.what();
  }
}

std::variant<MergedResult, std::string> merge_shards(const std::vector<ShardResult>& shards,
                                                     const std::vector<std::string>& names) {
  if (shards.empty()) return "no shard results given";
  const ShardResult& first = shards.front();
  const std::string config = json::serialize(to_json(first.config));
  const uint64_t n = first.spec.count;
  std::vector<std::optional<size_t>> by_index(n);
  for (size_t i = 0; i < shards.size(); ++i) {
    const ShardResult& s = shards[i];
    if (json::serialize(to_json(s.config)) != config || s.spec.count != first.spec.count ||
        s.spec.block != first.spec.block)
      return fmt::format("{} and {} are not shards of one search: {} (shard of {}, blocks of {}) vs {} (shard of {}, blocks of {})",
                         names[0], names[i], first.config.command_line(), first.spec.count, first.spec.block,
                         s.config.command_line(), s.spec.count, s.spec.block);
    if (by_index[s.spec.index])
      return fmt::format("shard {}/{} is given twice: {} and {}", s.spec.index, n, names[*by_index[s.spec.index]],
                         names[i]);
    by_index[s.spec.index] = i;
  }
  for (uint64_t k = 0; k < n; ++k)
    if (!by_index[k]) return fmt::format("shard {}/{} is missing (every shard 0..{} is needed)", k, n, n - 1);

  const CampaignConfig& c = first.config;
  const ShardSpec& spec = first.spec;
  // F: the lowest failure of any shard (each shard's is its lowest).
  std::optional<size_t> failing;
  for (size_t i = 0; i < shards.size(); ++i)
    if (shards[i].failure && (!failing || shards[i].failure->index < shards[*failing].failure->index)) failing = i;
  const uint64_t end = failing ? shards[*failing].failure->index + 1 : c.seeds;  // executions [0, end) count

  MergedResult m;
  m.config = c;
  sched::Report& rep = m.result.report;
  rep.scenario = c.model;
  rep.strategy = c.strategy;
  rep.expected = sched::Verdict::kPass;
  for (const ShardResult& s : shards) rep.seconds = std::max(rep.seconds, s.seconds);
  uint64_t last_hash = 0;
  for (uint64_t b = 0; b < block_count(c, spec) && block_begin(spec, b) < end; ++b) {
    const uint64_t k = b % n;
    const ShardResult& s = shards[*by_index[k]];
    const uint64_t j = b / n;  // its place in shard k's list
    const uint64_t need = std::min(end, block_end(c, spec, b)) - block_begin(spec, b);
    if (j >= s.blocks.size() || s.blocks[j].executions < need)
      return fmt::format(
          "{} (shard {}/{}) stopped{} before execution {}, which the merged result needs (it counts executions up "
          "to {}): run that shard again",
          names[*by_index[k]], k, n, s.interrupted ? " by a signal" : "", block_begin(spec, b) + (j < s.blocks.size() ? s.blocks[j].executions : 0),
          end - 1);
    const BlockResult& br = s.blocks[j];
    // need < br.executions only for a block run past F (no shard fails
    // inside another's block): then F is not in it, so it is not counted.
    if (need != br.executions) return fmt::format("internal: block {} overlaps the failure", b);
    rep.executions += br.executions;
    for (int v = 0; v < sched::kNumVerdicts; ++v) rep.verdicts[v] += br.verdicts[v];
    rep.schedule_points += br.schedule_points;
    last_hash = br.last_trace_hash;
  }
  rep.executions_per_second = rep.seconds > 0 ? static_cast<double>(rep.executions) / rep.seconds : 0;
  if (rep.executions != end) return fmt::format("internal: {} executions counted, {} expected", rep.executions, end);
  for (const ShardResult& s : shards)
    if (s.interrupted && (!failing || &s != &shards[*failing]))
      m.notes.push_back(fmt::format("shard {}/{} was interrupted after the merged result's last execution: not needed",
                                    s.spec.index, n));
  if (!failing) {
    rep.last.index = c.seeds - 1;
    rep.last.seed = c.seed + c.seeds - 1;
    rep.last.trace_hash = last_hash;
    return m;
  }
  const ShardResult& fs = shards[*failing];
  const std::string& fname = names[*failing];
  if (fs.failure->replay_file.empty())
    return fmt::format("{} (shard {}/{}) holds the lowest failure (execution {}) but could not save its replay file",
                       fname, fs.spec.index, n, fs.failure->index);
  const std::string path = locate_replay_file(fs.failure->replay_file, fname);
  auto file = read_replay_file(path);
  if (auto* e = std::get_if<std::string>(&file))
    return fmt::format("{}: the replay file of shard {}/{}'s failure: {}", path, fs.spec.index, n, *e);
  const ReplayFile& f = std::get<ReplayFile>(file);
  if (json::serialize(to_json(f.config)) != config || f.execution != fs.failure->index || f.seed != fs.failure->seed)
    return fmt::format("{}: not the replay file of shard {}/{}'s failure (execution {})", path, fs.spec.index, n,
                       fs.failure->index);
  sched::ExecutionResult x;
  const auto verdict = verdict_from_string(f.verdict);
  if (!verdict || !sched::is_failure(*verdict)) return path + ": the replay file's verdict is not a failure";
  x.verdict = *verdict;
  x.index = f.execution;
  x.seed = f.seed;
  x.steps = f.steps;
  x.trace_hash = f.trace_hash;
  x.failure_step = f.failure_step;
  x.failure_cpu = f.failure_cpu;
  x.message = f.message;
  x.decisions = f.decisions;
  if (f.violation) {
    try {
      m.result.violation = violation_from_json(*f.violation);
    } catch (const Bad& b) {
      return path + ": " + b.what;
    }
  }
  rep.first_failure = x;
  rep.last = std::move(x);
  m.result.failing_seed = f.seed;
  m.replay_file = path;
  return m;
}

}  // namespace hvo::stress
