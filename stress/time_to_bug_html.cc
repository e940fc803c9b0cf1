#include "stress/time_to_bug_html.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "stress/report_html.h"

namespace hvo::stress {

namespace {

// The strip's geometry, in SVG user units.
constexpr double kLeft = 150, kWidth = 640, kMiss = 40, kHeight = 34, kMid = 17;

double x_of(uint64_t executions, uint64_t budget) {
  const double top = std::log10(static_cast<double>(std::max<uint64_t>(budget, 2)));
  const double v = std::log10(static_cast<double>(std::clamp<uint64_t>(executions, 1, budget)));
  return kLeft + kWidth * v / top;
}

// The q-quantile of sorted `v` (nearest rank, lower).
uint64_t quantile(const std::vector<uint64_t>& v, double q) {
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

std::string ticks(uint64_t budget) {
  std::string s;
  for (uint64_t t = 1; t <= budget; t *= 10) {
    const double x = x_of(t, budget);
    s += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="4" y2="{1}" class="grid"/><text x="{0:.1f}" y="{2}" class="tick">{3}</text>)",
                     x, kHeight - 4, kHeight + 8, t);
    if (t > budget / 10) break;
  }
  const double xb = x_of(budget, budget);
  s += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="2" y2="{1}" class="budget"/><text x="{0:.1f}" y="{2}" class="tick">budget {3}</text>)",
                   xb, kHeight - 2, kHeight + 8, budget);
  return s;
}

std::string strip(const TrialSummary& s) {
  std::vector<uint64_t> found;
  size_t missed = 0;
  for (const TrialResult& t : s.trials) {
    if (t.found) found.push_back(t.executions);
    else ++missed;
  }
  std::sort(found.begin(), found.end());
  std::string g = fmt::format(
      R"(<g class="strategy" data-strategy="{0}" data-found="{1}" data-trials="{2}"><text x="0" y="{3}" class="label">{0}</text><text x="0" y="{4}" class="sub">found {1}/{2}</text>)",
      html_escape(sched::to_string(s.strategy)), s.found, s.trials.size(), kMid - 2, kMid + 11);
  g += fmt::format(R"(<line x1="{}" x2="{}" y1="{}" y2="{}" class="axis"/>)", kLeft, kLeft + kWidth, kMid, kMid);
  g += ticks(s.budget);
  if (!found.empty()) {
    const double lo = x_of(found.front(), s.budget), hi = x_of(found.back(), s.budget);
    const double q1 = x_of(quantile(found, 0.25), s.budget), q3 = x_of(quantile(found, 0.75), s.budget);
    g += fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" class="spread"/>)", lo, hi, kMid, kMid);
    g += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="12" class="iqr"/>)", q1, kMid - 6,
                     std::max(2.0, q3 - q1));
  }
  for (size_t i = 0; i < found.size(); ++i)
    g += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3.5" class="trial found"><title>found after {} executions</title></circle>)",
                     x_of(found[i], s.budget), kMid + (static_cast<double>(i % 3) - 1) * 4, found[i]);
  for (size_t i = 0; i < missed; ++i) {
    const double x = kLeft + kWidth + 12 + static_cast<double>(i % 6) * 5, y = kMid + (static_cast<double>(i / 6 % 3) - 1) * 5;
    g += fmt::format(R"x(<path d="M{0:.1f},{1:.1f} l6,6 m0,-6 l-6,6" transform="translate(-3,-3)" class="trial missed"><title>not found in {2} executions</title></path>)x",
                     x, y, s.budget);
  }
  if (s.median_executions) {
    const double m = x_of(*s.median_executions, s.budget);
    g += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" class="median"/><text x="{0:.1f}" y="4" class="median-label">median {3}</text>)",
                     m, kMid - 10, kMid + 10, *s.median_executions);
  } else {
    g += fmt::format(R"(<text x="{:.1f}" y="4" class="median-label missed-label">median: not found</text>)",
                     kLeft + kWidth + 4);
  }
  return g + "</g>";
}

std::string entry(const TimeToBug& t) {
  std::string s = fmt::format(R"(<section class="entry" data-race="{}"><h2>{} <span class="model">{}</span></h2><p class="title">{}</p><p class="expected">expected: {}</p>)",
                              html_escape(t.entry->id), html_escape(t.entry->id), html_escape(t.entry->model),
                              html_escape(t.entry->title), html_escape(t.entry->expected));
  const double h = static_cast<double>(t.strategies.size()) * (kHeight + 20) + 10;
  s += fmt::format(R"(<svg class="chart" viewBox="0 -6 {} {}" width="{}" height="{}" role="img" aria-label="executions to find {}">)",
                   kLeft + kWidth + kMiss + 10, h, kLeft + kWidth + kMiss + 10, h + 6, html_escape(t.entry->id));
  for (size_t i = 0; i < t.strategies.size(); ++i)
    s += fmt::format(R"x(<g transform="translate(0,{})">{}</g>)x", static_cast<double>(i) * (kHeight + 20) + 8,
                     strip(t.strategies[i]));
  s += "</svg>";
  if (t.free_run) {
    const FreeRunResult& f = *t.free_run;
    s += fmt::format(R"(<p class="free {}">free-running stress ({} threads): {}</p>)", f.found ? "found" : "missed",
                     f.threads,
                     html_escape(f.found ? fmt::format("found {} after {:.2f} s", f.kind, f.seconds)
                                         : fmt::format("not found in {:.0f} s ({} operations)", f.seconds, f.operations)));
  }
  return s + "</section>";
}

constexpr std::string_view kCss = R"css(
body{margin:0;padding:16px 24px 40px;background:#0e1116;color:#dce3ee;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:18px;margin:0 0 4px}h2{font:700 15px ui-monospace,"DejaVu Sans Mono",monospace;margin:0}
.model{color:#8a96a8;font-weight:400;margin-left:8px}
.lede{color:#8a96a8;margin:0 0 16px}
.entry{background:#151a22;border:1px solid #28303c;border-radius:4px;padding:10px 14px;margin:12px 0}
.title{margin:2px 0;color:#dce3ee}.expected{margin:0 0 6px;color:#8a96a8;font-size:12px}
svg text{fill:#8a96a8;font:11px ui-monospace,"DejaVu Sans Mono",monospace}
svg .label{fill:#dce3ee;font-weight:700;font-size:12px}
.axis{stroke:#3a4656}.grid{stroke:#222a35}.budget{stroke:#8a96a8;stroke-dasharray:3 3}
.tick{text-anchor:middle}
.spread{stroke:#63a8ff;stroke-width:2}.iqr{fill:rgba(99,168,255,.25);stroke:#63a8ff}
.found{fill:#45d49a;stroke:#0e1116}.missed{stroke:#ff6b6b;stroke-width:2;fill:none}
.median{stroke:#f2b84b;stroke-width:3}.median-label{fill:#f2b84b;text-anchor:middle}.missed-label{fill:#ff6b6b;text-anchor:end}
p.free{font-size:12px;margin:4px 0 0}p.free.found{color:#45d49a}p.free.missed{color:#ff6b6b}
)css";

}  // namespace

std::string time_to_bug_html(const std::vector<TimeToBug>& results, unsigned trials) {
  std::string body;
  for (const TimeToBug& t : results) body += entry(t);
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>hvo-stress time-to-bug</title><style>{}</style></head><body>
<h1>Time to bug</h1>
<p class="lede">Executions the controlled search needed to find each catalogue bug, {} independent trials per strategy (log scale, 1 to the budget). Dots: trials that found it; crosses past the budget: trials that did not; line and box: the spread and middle half of the found trials; amber: the median (not-found trials count as infinite).</p>
{}
</body></html>
)",
                     kCss, trials, body);
}

}  // namespace hvo::stress
