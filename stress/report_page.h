// The report page's stylesheet and script, inline in every report
// (report_html.cc): a report is one file a developer can mail or attach to
// a bug, opened with no network. Dark, dense and monospaced where the
// kernel's numbers are, because it is read at 2 a.m. next to a terminal.
//
// The script reads the JSON of <script id="report-data"> (report.cc,
// report_trace.cc) and builds: the key steps (#key-steps), the lanes
// (#lanes: one column per CPU, a .row per step with data-step and
// data-cpu, .switch where another CPU runs, .marked with data-role where
// the violation names the step, an SVG path joining the marked steps), the
// step detail (#detail: the call stack), and the PTE / TLB / struct page
// histories. It sets <body data-rendered="1"> when done (the browser test
// waits for it). Data reaches the document through textContent only.
#pragma once

#include <string_view>

namespace hvo::stress {

inline constexpr std::string_view kReportCss = R"css(
:root{--bg:#0e1116;--panel:#151a22;--panel2:#1b212b;--fg:#dce3ee;--dim:#8a96a8;--line:#28303c;
--red:#ff6b6b;--amber:#f2b84b;--blue:#63a8ff;--green:#45d49a;--violet:#b99be0;--cyan:#5fd0dc;--brown:#e0916f;--grey:#9aa5b5}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
code,pre,.mono,#lanes,table.hist td{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",Menlo,monospace;font-size:12px}
a{color:var(--blue)}
header.verdict{padding:16px 24px 14px;border-bottom:3px solid var(--red);background:linear-gradient(180deg,#2b1518,#181216)}
header.verdict.passed{border-bottom-color:var(--green);background:linear-gradient(180deg,#13261d,#111a16)}
header .kind{font:700 22px/1.2 ui-monospace,"DejaVu Sans Mono",monospace;color:var(--red);letter-spacing:.02em}
header.passed .kind{color:var(--green)}
header h1{margin:4px 0 6px;font-size:15px;font-weight:500;color:var(--fg)}
header .quick{margin:8px 0 0;font:12px ui-monospace,"DejaVu Sans Mono",monospace;color:var(--dim)}
header .quick code{color:#e8f0ff;background:#0a0d12;border:1px solid var(--line);border-radius:3px;padding:1px 6px}
header .message{margin:6px 0 8px;font:13px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;color:#ffd7d7;white-space:pre-wrap;word-break:break-word}
.badge{display:inline-block;margin-right:6px;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid var(--line);background:var(--panel2)}
.badge.ok{color:var(--green);border-color:#2f6b52}.badge.bad{color:var(--red);border-color:#7a3434}.badge.warn{color:var(--amber);border-color:#75602e}
main{padding:12px 24px 40px}
section{margin:14px 0 22px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.08em;color:var(--dim);margin:0 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:13px;margin:12px 0 6px;font-weight:600}
.notice{padding:10px 14px;border-left:4px solid var(--amber);background:#221d12;color:#f5e3b8;margin:10px 0}
.cmd{display:flex;align-items:center;gap:8px;margin:4px 0}
.cmd label{width:70px;color:var(--dim);font-size:12px;text-align:right}
.cmd pre{flex:1;margin:0;padding:6px 10px;background:#0a0d12;border:1px solid var(--line);border-radius:4px;white-space:pre-wrap;word-break:break-all;color:#e8f0ff}
button{background:var(--panel2);color:var(--fg);border:1px solid var(--line);border-radius:4px;padding:4px 10px;font-size:12px;cursor:pointer}
button:hover{border-color:var(--blue)}
#key-steps ol{margin:0;padding:0;list-style:none}
#key-steps li{display:flex;gap:10px;align-items:baseline;padding:4px 8px;border-left:3px solid var(--grey);margin:3px 0;background:var(--panel);cursor:pointer}
#key-steps li:hover{background:var(--panel2)}
#key-steps .at{font:12px ui-monospace,monospace;color:var(--dim);min-width:120px}
.role-race{--role:var(--red)}.role-access{--role:var(--red)}.role-seen{--role:#ff9f43}.role-fill{--role:var(--green)}
.role-flush{--role:var(--cyan)}.role-free{--role:var(--brown)}.role-pte-store{--role:var(--amber)}
#key-steps li[class*=role-]{border-left-color:var(--role)}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 340px;gap:16px;align-items:start}
.controls{display:flex;gap:10px;align-items:center;margin-bottom:6px;color:var(--dim);font-size:12px;flex-wrap:wrap}
.legend span{display:inline-flex;align-items:center;gap:4px;margin-right:10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;background:var(--c)}
#lanes-wrap{position:relative;border:1px solid var(--line);border-radius:4px;background:var(--panel);max-height:70vh;overflow:auto}
#lanes{position:relative;min-width:100%}
#links{position:absolute;left:0;top:0;pointer-events:none;overflow:visible}
.row,.lane-heads{display:grid;grid-template-columns:76px repeat(var(--cpus),minmax(220px,1fr));align-items:stretch}
.lane-heads{position:sticky;top:0;z-index:3;background:#10141b;border-bottom:1px solid var(--line)}
.lane-head{padding:6px 8px;font-weight:700;color:var(--fg);border-left:1px solid var(--line)}
.lane-head .sub{font-weight:400;color:var(--dim);margin-left:6px}
.row{min-height:20px;border-top:1px solid transparent}
.row .num{padding:1px 6px 1px 26px;color:var(--dim);text-align:right;white-space:nowrap;grid-column:1}
.row .cell{margin:1px 4px;padding:1px 6px;border-radius:3px;border-left:3px solid var(--c);background:rgba(255,255,255,.025);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;cursor:pointer}
.row .cell .op{color:var(--dim);margin-left:8px}
.row:hover .cell{background:rgba(99,168,255,.12)}
.row.switch{border-top:1px dashed #3a4656}
.row.switch .num::before{content:"\21c4 ";color:var(--amber)}
.row.decision .num{color:var(--amber)}
.row.marked .cell{background:color-mix(in srgb,var(--role) 22%,transparent);outline:1px solid var(--role);white-space:normal}
.row.marked .num{color:var(--role);font-weight:700}
.row .mark-label{display:block;color:var(--role);font-weight:600;white-space:normal}
.row.selected .cell{outline:2px solid #fff}
.row.flash .cell{animation:flash 1.2s}
@keyframes flash{0%{background:rgba(255,255,255,.45)}100%{}}
.gap{padding:3px 8px;text-align:center;color:var(--dim);background:repeating-linear-gradient(45deg,#121720,#121720 6px,#161c26 6px,#161c26 12px);cursor:pointer;border-top:1px solid var(--line);border-bottom:1px solid var(--line)}
.gap:hover{color:var(--fg)}
.lane-cols{position:absolute;top:0;bottom:0;pointer-events:none}
.ev-pte{--c:var(--amber)}.ev-page{--c:var(--blue)}.ev-lock{--c:var(--violet)}.ev-atomic{--c:var(--grey)}
.ev-rcu{--c:var(--cyan)}.ev-buddy{--c:var(--brown)}.ev-tlb{--c:var(--green)}.ev-finish{--c:#555}
aside#detail{position:sticky;top:8px;background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:10px 12px;min-height:120px}
aside#detail .empty{color:var(--dim)}
aside#detail dl{display:grid;grid-template-columns:80px 1fr;gap:2px 8px;margin:0 0 8px;font:12px ui-monospace,monospace}
aside#detail dt{color:var(--dim)}
aside#detail dd{margin:0;word-break:break-all}
ol.stack{margin:4px 0 0;padding-left:0;list-style:none;font:12px ui-monospace,monospace}
ol.stack li{padding:1px 0}
ol.stack li:last-child{color:#fff;font-weight:700}
#tip{position:fixed;z-index:10;pointer-events:none;background:#0a0d12;border:1px solid #3a4656;border-radius:4px;padding:6px 8px;max-width:520px;font:12px ui-monospace,monospace;box-shadow:0 4px 14px rgba(0,0,0,.5);display:none}
table{border-collapse:collapse;width:100%;margin:4px 0 10px}
th{text-align:left;color:var(--dim);font-weight:500;font-size:12px;border-bottom:1px solid var(--line);padding:3px 8px}
td{padding:2px 8px;border-bottom:1px solid #1c222c;vertical-align:top}
table.hist tr{cursor:pointer}
table.hist tr:hover td{background:var(--panel2)}
table.hist tr.marked td{background:color-mix(in srgb,var(--role) 18%,transparent)}
td.rw{color:var(--green)}td.ro{color:var(--amber)}td.np{color:var(--red)}
.dim{color:var(--dim)}
table.config td:first-child{color:var(--dim);width:200px}
pre.json{background:#0a0d12;border:1px solid var(--line);padding:8px;overflow:auto;max-height:300px}
)css";

inline constexpr std::string_view kReportJs = R"js(
(function () {
'use strict';
const D = JSON.parse(document.getElementById('report-data').textContent);
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function table(cls, heads, rows) {
  const t = el('table', cls), hr = el('tr');
  heads.forEach((h) => hr.appendChild(el('th', '', h)));
  t.appendChild(hr);
  rows.forEach((r) => t.appendChild(r));
  return t;
}
function tr(cells, classes) {
  const r = el('tr');
  cells.forEach((c, i) => r.appendChild(el('td', classes ? classes[i] || '' : '', c)));
  return r;
}

document.querySelectorAll('button.copy').forEach((b) => b.addEventListener('click', () => {
  const text = $(b.dataset.for).textContent;
  const done = () => { b.textContent = 'copied'; setTimeout(() => { b.textContent = 'copy'; }, 1200); };
  if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, () => {});
}));

function renderConfig() {
  const rows = [];
  const add = (k, v) => rows.push(tr([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
  Object.keys(D.config || {}).forEach((k) => add(k, D.config[k]));
  if (D.recorded) Object.keys(D.recorded).forEach((k) => add('recorded ' + k, D.recorded[k]));
  if (D.replayed) ['verdict', 'steps', 'failure_step', 'failure_cpu', 'trace_hash', 'recorded_trace_hash', 'reproduced',
                   'steps_exact']
    .forEach((k) => add('replayed ' + k, D.replayed[k]));
  $('config').appendChild(table('config', ['field', 'value'], rows));
  const v = D.violation;
  if (v) $('violation').appendChild(el('pre', 'json', JSON.stringify(v, null, 2)));
}

function renderExtra() {
  const box = $('rings');
  if (!box) return;
  const keys = Object.keys(D.extra || {});
  if (keys.length === 0) {
    box.appendChild(el('p', 'dim', 'This file records no per-CPU event rings: free mode runs real threads and keeps ' +
      'no trace of their steps. The violation above and the configuration are all there is; the command re-runs ' +
      'the campaign (not the same interleaving). To get an interleaving, run the same workload with --mode controlled.'));
    return;
  }
  keys.forEach((k) => {
    box.appendChild(el('h3', '', k));
    box.appendChild(el('pre', 'json ring', JSON.stringify(D.extra[k], null, 2)));
  });
}

renderConfig();
renderExtra();
if (D.mode !== 'controlled' || !D.trace) { document.body.dataset.rendered = '1'; return; }

const T = D.trace;
const S = T.steps;  // [step, cpu, kind (0 point, 1 blocked, 2 finish), event, address, value, stack]
const FIRST = S.length ? S[0][0] : 1;
const LAST = S.length ? S[S.length - 1][0] : 0;
const EV_CLASS = ['pte', 'pte', 'page', 'page', 'page', 'page', 'lock', 'lock', 'atomic', 'rcu', 'rcu', 'rcu',
                  'buddy', 'buddy', 'tlb', 'tlb'];
const at = (s) => S[s - FIRST];
const marks = new Map(T.marks.map((m) => [m.step, m]));
const decisions = new Set(T.decisions.map((d) => d[0]));
const DEFAULT_LAST = 150, CONTEXT = 3;

function evClass(r) { return r[2] === 2 ? 'finish' : EV_CLASS[r[3]] || 'atomic'; }
function evText(r) {
  if (r[2] === 2) return '(finished)';
  let s = T.events[r[3]];
  if (r[2] === 1) s += ' BLOCKED';
  if (r[4]) s += ' ' + r[4];
  if (r[5]) s += ' = ' + r[5];
  return s;
}
function stackOf(r) { return T.stacks[r[6]] || []; }
function opOf(r) { const s = stackOf(r); return s.length ? s[s.length - 1] : ''; }
function pteDecode(v) {
  if (!v) return 'none (not present)';
  const x = BigInt(v);
  if ((x & 1n) === 0n) return 'not present';
  const pfn = (x & ((1n << 52n) - 1n) & ~0xfffn) >> 12n;
  return 'frame 0x' + pfn.toString(16) + ((x & 2n) ? ' RW' : ' RO') + ((x & 0x80n) ? ' (2M leaf)' : '');
}

// --- the key steps
const keyList = $('key-steps-list');
T.marks.forEach((m) => {
  const r = at(m.step);
  const li = el('li', 'role-' + m.role);
  li.dataset.step = m.step;
  li.appendChild(el('span', 'at', 'step ' + m.step + (r ? ' \u00b7 CPU ' + r[1] : '')));
  li.appendChild(el('span', '', m.label));
  li.addEventListener('click', () => jump(m.step));
  keyList.appendChild(li);
});
if (T.marks.length === 0) keyList.appendChild(el('li', '', 'The violation names no step the recording kept.'));

// --- the lanes
let ranges = [];
function defaultRanges() {
  const want = [[Math.max(FIRST, LAST - DEFAULT_LAST + 1), LAST]];
  T.marks.forEach((m) => want.push([Math.max(FIRST, m.step - CONTEXT), Math.min(LAST, m.step + CONTEXT)]));
  return merge(want);
}
function merge(rs) {
  rs = rs.filter((r) => r[0] <= r[1]).sort((a, b) => a[0] - b[0]);
  const out = [];
  rs.forEach((r) => {
    const l = out[out.length - 1];
    if (l && r[0] <= l[1] + 1) l[1] = Math.max(l[1], r[1]); else out.push([r[0], r[1]]);
  });
  return out;
}
function shownCount() { return ranges.reduce((n, r) => n + r[1] - r[0] + 1, 0); }

const lanes = $('lanes');
lanes.style.setProperty('--cpus', T.cpus);
lanes.dataset.cpus = T.cpus;

function header() {
  const h = el('div', 'lane-heads');
  h.appendChild(el('div', 'lane-head', 'step'));
  const counts = new Array(T.cpus).fill(0);
  S.forEach((r) => { counts[r[1]]++; });
  for (let c = 0; c < T.cpus; c++) {
    const d = el('div', 'lane-head', 'CPU ' + c);
    d.dataset.cpu = c;
    d.id = 'lane-' + c;
    d.appendChild(el('span', 'sub', counts[c] + ' steps'));
    h.appendChild(d);
  }
  return h;
}

function rowFor(r, prevCpu) {
  const row = el('div', 'row ev-' + evClass(r));
  row.dataset.step = r[0];
  row.dataset.cpu = r[1];
  if (prevCpu !== null && prevCpu !== r[1]) {
    row.classList.add('switch');
    row.title = 'context switch: CPU ' + prevCpu + ' \u2192 CPU ' + r[1];
  }
  if (decisions.has(r[0])) row.classList.add('decision');
  row.appendChild(el('span', 'num', r[0]));
  const cell = el('div', 'cell');
  cell.style.gridColumn = String(r[1] + 2);
  cell.appendChild(el('span', 'ev', evText(r)));
  cell.appendChild(el('span', 'op', opOf(r)));
  const m = marks.get(r[0]);
  if (m) {
    row.classList.add('marked', 'role-' + m.role);
    row.dataset.role = m.role;
    cell.appendChild(el('span', 'mark-label', m.label));
  }
  row.appendChild(cell);
  return row;
}

function gapRow(a, b) {
  const g = el('div', 'gap', '\u22ef ' + (b - a + 1) + ' steps (' + a + '\u2013' + b + ') hidden: click to show \u22ef');
  g.dataset.from = a;
  g.dataset.to = b;
  g.addEventListener('click', () => { ranges = merge(ranges.concat([[a, b]])); render(); });
  return g;
}

function render() {
  lanes.textContent = '';
  lanes.appendChild(header());
  let prevCpu = null, next = FIRST;
  const frag = document.createDocumentFragment();
  ranges.forEach((rg) => {
    if (rg[0] > next) { frag.appendChild(gapRow(next, rg[0] - 1)); prevCpu = at(rg[0] - 1)[1]; }
    for (let s = rg[0]; s <= rg[1]; s++) { const r = at(s); frag.appendChild(rowFor(r, prevCpu)); prevCpu = r[1]; }
    next = rg[1] + 1;
  });
  lanes.appendChild(frag);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.id = 'links';
  lanes.appendChild(svg);
  const shown = shownCount();
  $('shown').textContent = shown === S.length ? 'all ' + S.length + ' steps shown'
    : shown + ' of ' + S.length + ' steps shown (the last ' + DEFAULT_LAST + ' and each marked step with its neighbours)';
  if (D.replayed && D.replayed.steps_exact === false)
    $('shown').textContent += '; step numbers are approximate (some steps did not go through the recorder)';
  if (T.dropped > 0)
    $('shown').textContent += '; the first ' + T.dropped + ' steps of the execution were not kept (the recorder keeps the last ' + T.cap + ')';
  $('show-all').disabled = shown === S.length;
  // At once, not on the next frame: reading the boxes forces the layout,
  // and a page dumped right after load (the browser test) has its links.
  drawLinks();
}

// The marked steps joined in step order: the story of the violation.
function drawLinks() {
  const svg = $('links');
  if (!svg) return;
  svg.textContent = '';
  const box = lanes.getBoundingClientRect();
  svg.setAttribute('width', lanes.scrollWidth);
  svg.setAttribute('height', lanes.scrollHeight);
  const defs = document.createElementNS(svg.namespaceURI, 'defs');
  const marker = document.createElementNS(svg.namespaceURI, 'marker');
  marker.id = 'arrow'; marker.setAttribute('viewBox', '0 0 10 10'); marker.setAttribute('refX', '9');
  marker.setAttribute('refY', '5'); marker.setAttribute('markerWidth', '7'); marker.setAttribute('markerHeight', '7');
  marker.setAttribute('orient', 'auto-start-reverse');
  const tip = document.createElementNS(svg.namespaceURI, 'path');
  tip.setAttribute('d', 'M0,0 L10,5 L0,10 z'); tip.setAttribute('fill', '#ffffff');
  marker.appendChild(tip); defs.appendChild(marker); svg.appendChild(defs);
  const cells = Array.from(lanes.querySelectorAll('.row.marked .cell'));
  for (let i = 1; i < cells.length; i++) {
    const a = cells[i - 1].getBoundingClientRect(), b = cells[i].getBoundingClientRect();
    const x1 = a.left - box.left + 2, y1 = a.top - box.top + a.height / 2;
    const x2 = b.left - box.left + 2, y2 = b.top - box.top + b.height / 2;
    // Routed through the step-number gutter, so the line crosses no
    // other CPU's steps: out of the cell, down the gutter, into the next.
    const g = 8 + (i % 3) * 6;
    const p = document.createElementNS(svg.namespaceURI, 'path');
    p.setAttribute('d', 'M' + x1 + ',' + y1 + ' C' + g + ',' + y1 + ' ' + g + ',' + y1 + ' ' + g + ',' + (y1 + Math.sign(y2 - y1) * 8) +
                   ' L' + g + ',' + (y2 - Math.sign(y2 - y1) * 8) + ' C' + g + ',' + y2 + ' ' + g + ',' + y2 + ' ' + x2 + ',' + y2);
    p.setAttribute('class', 'link');
    p.setAttribute('fill', 'none');
    p.setAttribute('stroke', getComputedStyle(cells[i]).getPropertyValue('--role') || '#fff');
    p.setAttribute('stroke-width', '1.6');
    p.setAttribute('stroke-dasharray', '5 3');
    p.setAttribute('marker-end', 'url(#arrow)');
    svg.appendChild(p);
  }
}

function jump(step) {
  if (!at(step)) return;
  if (!ranges.some((r) => r[0] <= step && step <= r[1])) {
    ranges = merge(ranges.concat([[Math.max(FIRST, step - 10), Math.min(LAST, step + 10)]]));
    render();
  }
  const row = lanes.querySelector('.row[data-step="' + step + '"]');
  if (!row) return;
  row.scrollIntoView({block: 'center'});
  row.classList.remove('flash'); void row.offsetWidth; row.classList.add('flash');
  select(row);
}

// --- step detail (click) and tooltip (hover): the call stack
function detail(r) {
  const frag = document.createDocumentFragment();
  const dl = el('dl');
  const add = (k, v) => { dl.appendChild(el('dt', '', k)); dl.appendChild(el('dd', '', v)); };
  add('step', r[0]); add('cpu', r[1]);
  add('event', r[2] === 2 ? 'finished' : T.events[r[3]] + (r[2] === 1 ? ' (blocked: waits)' : ''));
  if (r[4]) add('address', r[4]);
  if (r[5]) add('value', r[5]);
  if (r[2] === 0 && T.events[r[3]] === 'pte-store') add('PTE', pteDecode(r[5]));
  if (decisions.has(r[0])) add('schedule', 'a switch the strategy chose here');
  const m = marks.get(r[0]);
  if (m) add('why', m.label);
  frag.appendChild(dl);
  frag.appendChild(el('div', 'dim', 'call stack (outermost first):'));
  const ol = el('ol', 'stack');
  stackOf(r).forEach((f, i) => ol.appendChild(el('li', '', '\u00a0'.repeat(2 * i) + (i ? '\u21b3 ' : '') + f)));
  frag.appendChild(ol);
  return frag;
}
function select(row) {
  lanes.querySelectorAll('.row.selected').forEach((x) => x.classList.remove('selected'));
  row.classList.add('selected');
  const d = $('detail-body');
  d.textContent = '';
  d.appendChild(detail(at(Number(row.dataset.step))));
}
lanes.addEventListener('click', (e) => { const row = e.target.closest('.row'); if (row) select(row); });
const tipBox = $('tip');
lanes.addEventListener('mousemove', (e) => {
  const row = e.target.closest('.row');
  if (!row) { tipBox.style.display = 'none'; return; }
  const r = at(Number(row.dataset.step));
  tipBox.textContent = '';
  tipBox.appendChild(el('div', '', 'step ' + r[0] + ' \u00b7 CPU ' + r[1] + ' \u00b7 ' + evText(r)));
  const ol = el('ol', 'stack');
  stackOf(r).forEach((f, i) => ol.appendChild(el('li', '', '\u00a0'.repeat(2 * i) + (i ? '\u21b3 ' : '') + f)));
  tipBox.appendChild(ol);
  tipBox.style.display = 'block';
  tipBox.style.left = Math.min(e.clientX + 14, window.innerWidth - 540) + 'px';
  tipBox.style.top = (e.clientY + 14) + 'px';
});
lanes.addEventListener('mouseleave', () => { tipBox.style.display = 'none'; });

$('show-all').addEventListener('click', () => { ranges = [[FIRST, LAST]]; render(); });
$('show-last').addEventListener('click', () => { ranges = defaultRanges(); render(); });
window.addEventListener('resize', () => requestAnimationFrame(drawLinks));

// --- histories
function histRow(cells, step, classes) {
  const r = tr(cells, classes);
  r.dataset.step = step;
  const m = marks.get(step);
  if (m) r.classList.add('marked', 'role-' + m.role);
  r.addEventListener('click', () => jump(step));
  return r;
}
const ph = $('pte-history');
if (T.ptes.length === 0)
  ph.appendChild(el('p', 'dim', 'No page-table entry of the violation is in the recorded steps (an entry written ' +
    'before the CPUs started has no recorded store, and a fault through a TLB entry filled before them names no walk).'));
T.ptes.forEach((p) => {
  ph.appendChild(el('h3', 'mono', 'PTE at ' + p.entry + ' \u2014 ' + p.why));
  const rows = p.history.map((h) => {
    const perm = h.op !== 'store' ? '' : !h.present ? 'none' : h.rw ? 'RW' : 'RO';
    const cls = ['', '', '', '', '', perm === 'RW' ? 'rw' : perm === 'RO' ? 'ro' : perm === 'none' ? 'np' : '', ''];
    return histRow([h.step, h.cpu, h.op, h.value || '', h.frame || (h.op === 'store' ? '-' : ''), perm, h.operation],
                   h.step, cls);
  });
  if (rows.length === 0) ph.appendChild(el('p', 'dim', 'No access to this entry in the recorded steps.'));
  else ph.appendChild(table('hist pte', ['step', 'CPU', 'op', 'value', 'frame', 'perm', 'in'], rows));
});
const th = $('tlb-history');
if (!T.tlb) th.appendChild(el('p', 'dim', 'The violation names no virtual address with a TLB history.'));
else {
  th.appendChild(el('h3', 'mono', 'TLB entries for ' + T.tlb.va + ' (the faulting CPU is ' + T.tlb.cpu + ')'));
  const rows = T.tlb.events.map((h) => histRow([h.step, h.cpu, h.op, h.range || '', h.operation], h.step));
  if (rows.length === 0) th.appendChild(el('p', 'dim', 'No fill or flush of this address in the recorded steps: the entry was filled before the CPUs started.'));
  else th.appendChild(table('hist tlb', ['step', 'CPU', 'op', 'range', 'in'], rows));
}
const sp = $('page-history');
const FIELDS = {0: 'flags', 8: 'compound_head', 16: 'compound_info', 24: 'mapping', 32: 'index', 40: 'private',
                48: '_mapcount', 52: '_refcount', 56: 'memcg_data'};
if (!T.struct_page) sp.appendChild(el('p', 'dim', 'The violation names no struct page.'));
else {
  sp.appendChild(el('h3', 'mono', 'struct page at ' + T.struct_page.va));
  const rows = T.struct_page.accesses.map((h) =>
    histRow([h.step, h.cpu, h.event, FIELDS[h.offset] || ('+' + h.offset), h.value, h.operation], h.step));
  if (rows.length === 0) sp.appendChild(el('p', 'dim', 'No access to it in the recorded steps.'));
  else sp.appendChild(table('hist page', ['step', 'CPU', 'access', 'field', 'value', 'in'], rows));
}

ranges = defaultRanges();
render();
// The violating access is what the reader wants in the detail first.
const races = T.marks.filter((m) => m.role === 'race');
const first = T.marks.find((m) => m.role === 'access') || races[races.length - 1] || T.marks[0];
if (first) {
  const row = lanes.querySelector('.row[data-step="' + first.step + '"]');
  if (row) select(row);
}
const wrap = $('lanes-wrap');
wrap.scrollTop = wrap.scrollHeight;
document.body.dataset.rendered = '1';
})();
)js";

}  // namespace hvo::stress
