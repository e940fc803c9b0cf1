#include "stress/report.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <variant>

#include "stress/campaign_json.h"
#include "stress/controlled_campaign.h"
#include "stress/output_file.h"
#include "stress/replay_file.h"
#include "stress/report_html.h"
#include "stress/report_trace.h"
#include "stress/step_log.h"

namespace hvo::stress {

namespace json = boost::json;

std::string report_path_for(const std::string& replay_path) {
  constexpr std::string_view kJson = ".json";
  if (replay_path.size() > kJson.size() && replay_path.ends_with(kJson))
    return replay_path.substr(0, replay_path.size() - kJson.size()) + ".html";
  return replay_path + ".html";
}

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789_-./=:,+@%") == std::string::npos;
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

namespace {

// The replay file's fields other than those the page shows anyway: a
// free-mode file may carry more (per-CPU event rings, in later versions),
// and the page shows what the file has.
json::object extra_fields(const json::object& doc) {
  static constexpr std::string_view kShown[] = {"format", "version", "mode", "config", "violation", "command",
                                                "seed", "execution", "strategy", "decisions", "verdict", "steps",
                                                "failure_step", "failure_cpu", "message", "trace_hash"};
  json::object extra;
  for (const auto& kv : doc)
    if (std::find(std::begin(kShown), std::end(kShown), kv.key()) == std::end(kShown)) extra[kv.key()] = kv.value();
  return extra;
}

json::object replayed(const ReplayFile& f, const ReplayResult& r, const StepLog& log) {
  const sched::ExecutionResult& x = r.result;
  json::object o;
  o["verdict"] = std::string(sched::to_string(x.verdict));
  o["steps"] = x.steps;
  o["failure_step"] = x.failure_step;
  o["failure_cpu"] = x.failure_cpu;
  o["message"] = x.message;
  o["trace_hash"] = hex64(x.trace_hash);
  o["recorded_trace_hash"] = hex64(f.trace_hash);
  o["reproduced"] = x.verdict != sched::Verdict::kDiverged && sched::to_string(x.verdict) == f.verdict &&
                    x.failure_step == f.failure_step && x.trace_hash == f.trace_hash;
  // Step numbers in the lanes are the scheduler's only when every step
  // went through the recorder (interleaving_view.h).
  o["steps_exact"] = log.steps() == x.steps;
  o["violation"] = r.violation ? json::value(to_json(*r.violation)) : json::value(nullptr);
  return o;
}

}  // namespace

json::object report_data(const std::string& replay_path, ReportError& error) {
  auto read = read_replay_file(replay_path);
  if (auto* err = std::get_if<std::string>(&read)) {
    error = {replay_path, *err};
    return {};
  }
  const ReplayFile& f = std::get<ReplayFile>(read);
  json::object d;
  d["file"] = replay_path;
  d["mode"] = std::string(to_string(f.config.mode));
  d["config"] = to_json(f.config);
  d["violation"] = f.violation ? json::value(*f.violation) : json::value(nullptr);
  d["run_command"] = f.config.command_line();
  d["replay_command"] = "hvo-stress replay " + shell_quote(replay_path);
  d["report_command"] = "hvo-stress report " + shell_quote(replay_path);
  // The file as read, not as to_json() rewrites it: fields this build does
  // not know are kept only in the text.
  json::error_code ec;
  std::string raw;
  {
    std::ifstream in(replay_path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    raw = s.str();
  }
  const json::value original = json::parse(raw, ec);
  d["extra"] = !ec && original.is_object() ? extra_fields(original.as_object()) : json::object();
  if (f.config.mode == CampaignMode::kFree) return d;

  d["minimize_command"] = "hvo-stress minimize " + shell_quote(replay_path);
  d["recorded"] = json::object{{"seed", f.seed},           {"execution", f.execution},
                               {"verdict", f.verdict},     {"steps", f.steps},
                               {"failure_step", f.failure_step}, {"failure_cpu", f.failure_cpu},
                               {"message", f.message},     {"decisions", f.decisions.size()}};
  StepLog log;
  const ReplayResult r = replay_execution(f.config, f.seed, f.decisions, &log, f.alloc_failures);
  d["replayed"] = replayed(f, r, log);
  std::vector<std::pair<uint64_t, uint32_t>> decisions;
  for (const sched::Decision& x : f.decisions) decisions.emplace_back(x.step, x.cpu);
  d["trace"] = trace_json(log, f.config.threads, r.violation, r.result.failure_step, decisions);
  return d;
}

bool write_report(const std::string& replay_path, const std::string& html_path, ReportError& error) {
  const json::object data = report_data(replay_path, error);
  if (data.empty()) return false;
  if (std::string err = write_file_atomically(html_path, render_report_html(data)); !err.empty()) {
    error = {html_path, err};
    return false;
  }
  return true;
}

}  // namespace hvo::stress
