#include "stress/report_html.h"

#include <fmt/format.h>

#include "stress/report_page.h"

namespace hvo::stress {

namespace json = boost::json;

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string script_json(const json::value& v) {
  // '<', '>' and '&' occur in JSON text only inside strings, where \u
  // escapes mean the same characters: the parsed data is unchanged and no
  // "</script>" or "<!--" can appear in the element.
  const std::string text = json::serialize(v);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->as_object() : kEmpty;
}

std::string command_row(std::string_view id, std::string_view label, const std::string& text) {
  if (text.empty()) return {};
  return fmt::format(R"(<div class="cmd"><label>{}</label><pre id="{}">{}</pre><button class="copy" data-for="{}">copy</button></div>)",
                     label, id, html_escape(text), id);
}

// The verdict banner: what broke, where, and whether the replay agreed.
std::string banner(const json::object& d) {
  const bool controlled = str(d, "mode") == "controlled";
  const json::object& v = obj(d, "violation");
  const json::object& c = obj(d, "config");
  const json::object& rep = obj(d, "replayed");
  std::string kind = str(v, "kind");
  if (kind.empty()) kind = controlled ? str(obj(d, "recorded"), "verdict") : "no violation recorded";
  std::string reverts;
  if (const json::value* r = c.if_contains("reverts"); r != nullptr && r->is_array())
    for (const json::value& x : r->as_array())
      reverts += (reverts.empty() ? "" : ", ") + std::string(x.is_string() ? std::string_view(x.as_string()) : "?");
  const std::string where =
      fmt::format("model {} · reverts: {} · {} mode · {} CPUs · {} · pte {} · seed {}", str(c, "model"),
                  reverts.empty() ? "none" : reverts, str(d, "mode"), str(c, "threads"), str(c, "workload"),
                  str(c, "pte_access"), controlled ? str(obj(d, "recorded"), "seed") : str(c, "seed"));
  std::string message = str(v, "message");
  if (message.empty()) message = controlled ? str(obj(d, "recorded"), "message") : "";
  std::string badges = controlled ? R"(<span class="badge">controlled: exact replay</span>)"
                                  : R"(<span class="badge warn" id="not-replayable">free mode: not replayable step by step</span>)";
  if (controlled) {
    const bool reproduced = rep.if_contains("reproduced") != nullptr && rep.at("reproduced").is_bool() &&
                            rep.at("reproduced").as_bool();
    badges += reproduced ? fmt::format(R"(<span class="badge ok" id="reproduced">REPRODUCED at step {} · trace {}</span>)",
                                       html_escape(str(rep, "failure_step")), html_escape(str(rep, "trace_hash")))
                         : fmt::format(R"(<span class="badge bad" id="diverged">DIVERGED: the replay is not the recorded execution (verdict {}, step {}, trace {}; recorded {})</span>)",
                                       html_escape(str(rep, "verdict")), html_escape(str(rep, "failure_step")),
                                       html_escape(str(rep, "trace_hash")), html_escape(str(rep, "recorded_trace_hash")));
  }
  if (!str(v, "invariant").empty())
    badges += fmt::format(R"(<span class="badge">invariant: {}</span>)", html_escape(str(v, "invariant")));
  if (!str(v, "operation").empty())
    badges += fmt::format(R"(<span class="badge">in {}</span>)", html_escape(str(v, "operation")));
  // The one command wanted first, where the eye lands; all of them below.
  if (const std::string replay = str(d, "replay_command"); controlled && !replay.empty())
    badges += fmt::format(R"(<p class="quick">replay: <code id="quick-replay">{}</code></p>)", html_escape(replay));
  return fmt::format(R"(<header class="verdict{}" id="verdict"><div class="kind" id="verdict-kind">{}</div><h1>{}</h1><p class="message" id="verdict-message">{}</p><div class="badges">{}</div></header>)",
                     v.empty() && controlled && str(obj(d, "recorded"), "verdict") == "pass" ? " passed" : "",
                     html_escape(kind), html_escape(where), html_escape(message), badges);
}

}  // namespace

std::string render_report_html(const json::object& d) {
  const bool controlled = str(d, "mode") == "controlled";
  const json::object& v = obj(d, "violation");
  const std::string title = fmt::format("{} · {} · hvo-stress report", str(v, "kind").empty() ? "finding" : str(v, "kind"),
                                        str(obj(d, "config"), "model"));
  std::string commands = command_row("cmd-replay", "replay", str(d, "replay_command")) +
                         command_row("cmd-minimize", "minimize", str(d, "minimize_command")) +
                         command_row("cmd-run", controlled ? "campaign" : "re-run", str(d, "run_command")) +
                         command_row("cmd-report", "report", str(d, "report_command"));
  commands = R"(<section id="commands"><h2>Commands</h2>)" + commands + "</section>\n";
  // A controlled finding leads with its story (the key steps, the lanes);
  // a free one has only its commands and its violation to show.
  std::string body = controlled ? "" : commands;
  if (controlled) {
    body += R"(<section id="key-steps"><h2>What happened</h2><ol id="key-steps-list"></ol></section>
<section id="interleaving"><h2>Interleaving up to the violation</h2>
<div class="controls"><button id="show-last">last steps</button><button id="show-all">show all steps</button><span id="shown"></span>
<span class="legend"><span class="ev-pte"><i></i>PTE</span><span class="ev-page"><i></i>struct page</span><span class="ev-tlb"><i></i>TLB</span><span class="ev-lock"><i></i>lock</span><span class="ev-rcu"><i></i>RCU</span><span class="ev-buddy"><i></i>buddy</span><span class="ev-atomic"><i></i>atomic</span><span>&#8644; context switch</span></span></div>
<div class="layout"><div id="lanes-wrap"><div id="lanes"></div></div><aside id="detail"><h2>Step</h2><div id="detail-body"><p class="empty">Click a step for its call stack.</p></div></aside></div>
<p class="dim">Each CPU stops at a step before its access, which runs when it is next scheduled. Hover a step for its kernel call stack; click to keep it. Dashed lines join the steps the violation names.</p></section>
<section id="pte-section"><h2>Page-table entries</h2><div id="pte-history"></div></section>
<section id="tlb-section"><h2>TLB</h2><div id="tlb-history"></div></section>
<section id="page-section"><h2>struct page</h2><div id="page-history"></div></section>
)" + commands;
  } else {
    body += R"(<div class="notice" id="free-notice"><b>Free-mode finding.</b> Real threads found it: there is no recorded schedule, so it cannot be replayed step by step and no interleaving is drawn. <code>replay</code> re-runs the campaign from its seed, which makes the same choices but not the same interleaving.</div>
<section id="rings-section"><h2>Per-CPU event rings</h2><div id="rings"></div></section>
)";
  }
  body += R"(<section id="violation-section"><h2>Violation</h2><div id="violation"></div></section>
<section id="config-section"><h2>Configuration</h2><div id="config"></div></section>
)";
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{}</title><style>{}</style></head>
<body data-mode="{}">
{}
<main>
{}<p class="dim">File: <code id="source-file">{}</code></p>
</main>
<div id="tip"></div>
<script id="report-data" type="application/json">{}</script>
<script>{}</script>
</body></html>
)",
                     html_escape(title), kReportCss, controlled ? "controlled" : "free", banner(d), body,
                     html_escape(str(d, "file")), script_json(d), kReportJs);
}

}  // namespace hvo::stress
