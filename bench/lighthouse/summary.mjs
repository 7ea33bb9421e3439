// The summary of bench/lighthouse_bench.sh: for each row (a page in one form factor) it takes
// the median of that row's Lighthouse runs (Lighthouse's own choice: the run nearest the median
// FCP and TTI), keeps it as PREFIX.report.json/.html beside the runs, and prints the scores with
// their ratio to the targets, the key metrics, then what to act on: the performance audits that
// fail, largest estimated savings first, and every failing accessibility audit with its elements.
//   node summary.mjs LABEL FORM PREFIX [LABEL FORM PREFIX ...]
// PREFIX-run<N>.report.json are the runs. Exits 1 when a run has no score (a tooling failure);
// a score under its target is reported, never an error.
import fs from 'node:fs';
import path from 'node:path';
import {computeMedianRun} from 'lighthouse/core/lib/median-run.js';

const TARGET = {performance: 90, accessibility: 95};
const TOP = Number(process.env.TOP ?? 8);

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 3 !== 0) {
  console.error('usage: node summary.mjs LABEL FORM PREFIX [LABEL FORM PREFIX ...]');
  process.exit(2);
}

let failed = false;
const rows = [];
for (let i = 0; i < args.length; i += 3) {
  const [label, form, prefix] = args.slice(i, i + 3);
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const runs = fs.readdirSync(dir)
    .filter((f) => f.startsWith(`${base}-run`) && f.endsWith('.report.json'))
    .sort()
    .map((f) => ({file: path.join(dir, f), lhr: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))}));
  const broken = runs.filter(({lhr}) => lhr.runtimeError ||
    lhr.categories.performance?.score == null || lhr.categories.accessibility?.score == null);
  for (const {file, lhr} of broken) {
    console.error(`lighthouse: ${file}: no score (${lhr.runtimeError?.code ?? 'missing category'}: ` +
      `${lhr.runtimeError?.message ?? ''})`);
  }
  const good = runs.filter((r) => !broken.includes(r));
  if (good.length === 0) {
    failed = true;
    continue;
  }
  let median = good[0];
  try {
    const lhr = computeMedianRun(good.map((r) => r.lhr));
    median = good.find((r) => r.lhr === lhr);
  } catch {
    // A run without FCP or TTI: keep the first one.
  }
  for (const ext of ['json', 'html']) {
    const from = median.file.replace(/\.report\.json$/, `.report.${ext}`);
    if (fs.existsSync(from)) fs.copyFileSync(from, `${prefix}.report.${ext}`);
  }
  rows.push({label, form, prefix, lhr: median.lhr, runs: good.map((r) => r.lhr)});
}

const pct = (s) => Math.round(s * 100);
const ratio = (s, target) => `${(pct(s) / target).toFixed(2)}x`;
const ms = (a, lhr) => lhr.audits[a]?.numericValue;
const secs = (v) => (v == null ? '-' : `${(v / 1000).toFixed(2)} s`);
const kib = (v) => (v == null ? '-' : `${Math.round(v / 1024)} KiB`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

if (rows.length) {
  const nruns = Math.max(...rows.map((r) => r.runs.length));
  console.log(`scores (the median of ${nruns} run${nruns > 1 ? 's' : ''} per row; ` +
    `targets: performance >= ${TARGET.performance}, accessibility >= ${TARGET.accessibility}):`);
  const w = Math.max(4, ...rows.map((r) => r.label.length));
  console.log(`  ${pad('page', w)}  ${pad('form', 7)}  ${lpad('perf', 4)}  ${lpad('ratio', 6)}  ` +
    `${lpad('a11y', 4)}  ${lpad('ratio', 6)}  ${lpad('FCP', 7)}  ${lpad('LCP', 7)}  ${lpad('TBT', 7)}  ` +
    `${lpad('CLS', 5)}  ${lpad('SI', 7)}  ${lpad('transfer', 9)}  perf of each run`);
  for (const {label, form, lhr, runs} of rows) {
    const perf = lhr.categories.performance.score;
    const a11y = lhr.categories.accessibility.score;
    console.log(`  ${pad(label, w)}  ${pad(form, 7)}  ${lpad(pct(perf), 4)}  ${lpad(ratio(perf, TARGET.performance), 6)}  ` +
      `${lpad(pct(a11y), 4)}  ${lpad(ratio(a11y, TARGET.accessibility), 6)}  ` +
      `${lpad(secs(ms('first-contentful-paint', lhr)), 7)}  ${lpad(secs(ms('largest-contentful-paint', lhr)), 7)}  ` +
      `${lpad(`${Math.round(ms('total-blocking-time', lhr) ?? 0)} ms`, 7)}  ` +
      `${lpad((ms('cumulative-layout-shift', lhr) ?? 0).toFixed(3), 5)}  ${lpad(secs(ms('speed-index', lhr)), 7)}  ` +
      `${lpad(kib(ms('total-byte-weight', lhr)), 9)}  ` +
      runs.map((r) => pct(r.categories.performance.score)).join(' '));
  }
  const env = rows[0].lhr.environment;
  console.log(`  (Lighthouse ${rows[0].lhr.lighthouseVersion}, ${rows[0].lhr.environment.hostUserAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}, ` +
    `host CPU benchmark index ${Math.round(env.benchmarkIndex)}; mobile: simulated slow 4G and 4x CPU slowdown)`);
}

// One line per item of an audit's details: its URL, element or source, and what it would save.
function items(details, n) {
  if (!details) return [];
  const list = details.type === 'list' ? details.items.flatMap((d) => d.items ?? []) : details.items ?? [];
  return list.slice(0, n).map((it) => {
    const node = it.node ?? (it.node === undefined && it.type === 'node' ? it : undefined);
    let what = it.url ?? it.source?.url ?? (typeof it.source === 'string' ? it.source : undefined) ??
      (node ? `${node.selector ?? ''} ${node.snippet ? node.snippet.slice(0, 110) : ''}`.trim() : undefined) ??
      it.label ?? it.groupLabel ?? it.phase ?? it.entity?.text ?? it.entity ?? it.description ?? '';
    if (typeof what === 'object') what = JSON.stringify(what).slice(0, 110);
    const bits = [];
    if (it.wastedMs) bits.push(`${Math.round(it.wastedMs)} ms`);
    if (it.wastedBytes) bits.push(`${kib(it.wastedBytes)} saved`);
    else if (it.totalBytes) bits.push(kib(it.totalBytes));
    if (it.duration != null && !it.wastedMs) bits.push(`${Math.round(it.duration)} ms`);
    if (it.timing != null) bits.push(`${Math.round(it.timing)} ms`);
    if (it.percent) bits.push(it.percent);
    return `${what}${bits.length ? ` (${bits.join(', ')})` : ''}`;
  });
}

function savings(a) {
  const m = a.metricSavings ?? {};
  const parts = Object.entries(m).filter(([, v]) => v > 0)
    .map(([k, v]) => (k === 'CLS' ? `CLS -${v.toFixed(3)}` : `${k} -${Math.round(v)} ms`));
  if (a.details?.overallSavingsBytes) parts.push(`-${kib(a.details.overallSavingsBytes)}`);
  return parts.join(', ');
}
// Weight of the estimated savings for the sort: the metrics' share of the score (LCP 25%, TBT
// 30%, FCP 10%), CLS in its own units.
const weight = (a) => {
  const m = a.metricSavings ?? {};
  return 0.25 * (m.LCP ?? 0) + 0.3 * (m.TBT ?? 0) + 0.1 * (m.FCP ?? 0) + 10000 * (m.CLS ?? 0) +
    0.05 * (a.details?.overallSavingsMs ?? 0);
};

for (const {label, form, prefix, lhr} of rows) {
  console.log(`\n${label}, ${form}: ${prefix}.report.html`);
  for (const w of lhr.runWarnings ?? []) console.log(`  warning: ${w.replace(/\s+/g, ' ')}`);
  const perfRefs = lhr.categories.performance.auditRefs.filter((r) => r.group !== 'metrics' && r.group !== 'hidden');
  const failing = perfRefs.map((r) => lhr.audits[r.id])
    .filter((a) => a && a.score !== null && a.score < 0.9 &&
      !['notApplicable', 'manual', 'error', 'informative'].includes(a.scoreDisplayMode))
    .sort((a, b) => weight(b) - weight(a) || a.score - b.score);
  const api = (lhr.audits['network-requests']?.details?.items ?? []).filter((r) => r.url.includes('/api/v1/properties'));
  for (const r of api) {
    console.log(`  search API (as observed, unthrottled): ${Math.round(r.networkEndTime - r.networkRequestTime)} ms, ` +
      `${kib(r.transferSize)}: ${r.url.replace(/^https?:\/\/[^/]+/, '')}`);
  }
  // Where the score goes: the points each metric loses (its weight times what it misses).
  const lost = lhr.categories.performance.auditRefs.filter((r) => r.group === 'metrics' && r.weight > 0)
    .map((r) => ({id: r.acronym ?? r.id, pts: r.weight * (1 - (lhr.audits[r.id]?.score ?? 0))}))
    .filter((m) => m.pts >= 0.5).sort((a, b) => b.pts - a.pts);
  if (lost.length) {
    console.log(`  points lost by metric: ${lost.map((m) => `${m.id} ${m.pts.toFixed(1)}`).join(', ')}`);
  }
  if ((lhr.audits['total-blocking-time']?.score ?? 1) < 0.9) {
    const tasks = items(lhr.audits['long-tasks']?.details, 4);
    if (tasks.length) console.log(`  longest main-thread tasks (TBT): ${tasks.join('; ')}`);
  }
  const lcpEl = items(lhr.audits['largest-contentful-paint-element']?.details, 1)[0];
  if (lcpEl) console.log(`  LCP element: ${lcpEl}`);
  console.log(`  performance: ${failing.length} failing audit${failing.length === 1 ? '' : 's'}` +
    `${failing.length > TOP ? ` (the first ${TOP})` : ''}${failing.length ? ', largest estimated savings first:' : ''}`);
  for (const a of failing.slice(0, TOP)) {
    const s = savings(a);
    console.log(`    ${a.id}: ${a.title}${a.displayValue ? ` — ${a.displayValue}` : ''}${s ? ` [${s}]` : ''}`);
    for (const line of items(a.details, 3)) console.log(`      ${line}`);
  }
  const a11y = lhr.categories.accessibility.auditRefs.map((r) => lhr.audits[r.id])
    .filter((a) => a && a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary');
  console.log(`  accessibility: ${a11y.length} failing audit${a11y.length === 1 ? '' : 's'}${a11y.length ? ':' : ''}`);
  for (const a of a11y) {
    const n = a.details?.items?.length ?? 0;
    console.log(`    ${a.id}: ${a.title} (${n} element${n === 1 ? '' : 's'})`);
    for (const line of items(a.details, 4)) console.log(`      ${line}`);
  }
}
process.exit(failed ? 1 : 0);
