// Dashboard state and the transforms from the metrics API's answers (docs/api.md,
// "Metrics API") to what the page draws: the URL state (range, group-by), the API
// queries, uPlot's aligned data, the per-tool / per-agent / per-model tables merged
// from several `top` answers, and the click-through links into the traces page (its
// URL filter format, lib/filters.ts).
import { defaultFilters, filtersToSearch, type TextFilter, type TraceFilters } from './filters';
import type { Status } from './types';

// ---- metrics API answers

export type MaybeNum = number | null;

export interface Overview {
  from: MaybeNum;
  to: MaybeNum;
  runs: {
    count: number; ok: number; errors: number; interrupts: number;
    success_rate: MaybeNum; error_rate: MaybeNum; interrupt_rate: MaybeNum;
    // Interrupted runs a later run of their session continued (null: not counted, e.g.
    // with an attr.* or q filter; absent from older servers); resume_rate = resumes /
    // interrupted runs.
    resumes?: number | null; resume_rate?: MaybeNum;
    cost_usd: number; input_tokens: number; output_tokens: number; llm_calls: number; tool_calls: number;
    duration_ms: { p50: MaybeNum; p95: MaybeNum; p99: MaybeNum };
    cost_per_run_usd: { mean: MaybeNum; p50: MaybeNum; p95: MaybeNum };
    steps: { p50: MaybeNum; p95: MaybeNum; max: MaybeNum };
  };
  spans: {
    count: number; errors: number; tool_calls: number; tool_errors: number; tool_error_rate: MaybeNum;
    llm_calls: number; llm_errors: number; llm_error_rate: MaybeNum; truncated: number; truncation_rate: MaybeNum;
    cache_read_tokens: number; reasoning_tokens: number;
  };
}

export interface Timeseries {
  metric: string;
  level: 'runs' | 'spans';
  group_by: string | null;
  interval_ms: number;
  from: number;
  to: number;
  series: { group: string | null; points: [number, MaybeNum][] }[];
  groups: number;
}

export interface Distribution {
  metric: string;
  level: string;
  unit: string;
  count: number;
  min: MaybeNum; max: MaybeNum; mean: MaybeNum; sum: MaybeNum;
  quantiles: { p50: MaybeNum; p75: MaybeNum; p90: MaybeNum; p95: MaybeNum; p99: MaybeNum };
  buckets: { lower: number; upper: number; count: number }[];
}

export interface TopItem {
  key: string;
  value: MaybeNum;
  count: number;
  errors: number;
  cost_usd: number;
  median_cost_usd: MaybeNum;
  input_tokens: number;
  output_tokens: number;
  // With a duration metric: the group's three quantiles (one request for a table).
  duration_ms?: { p50: MaybeNum; p95: MaybeNum; p99: MaybeNum };
}

export interface Top {
  metric: string;
  by: string;
  level: 'runs' | 'spans';
  groups: number;
  median?: MaybeNum; // of `metric` over every group (the server's; absent from older servers)
  items: TopItem[];
}

// ---- URL state

export const DASH_RANGES = ['1h', '6h', '24h', '7d', '30d'] as const;
export type DashRange = (typeof DASH_RANGES)[number];
export const DEFAULT_RANGE: DashRange = '24h';

// What the group-by selector splits the over-time charts by.
export const DASH_GROUPS = ['agent', 'tool', 'model', 'service', 'user'] as const;
export type DashGroup = (typeof DASH_GROUPS)[number];
export const DEFAULT_GROUP: DashGroup = 'agent';

// The traces-page filter each dimension maps to.
export const GROUP_FILTER: Record<DashGroup | 'session', TextFilter> = {
  agent: 'agent', tool: 'tool', model: 'model', service: 'service', user: 'user_id', session: 'session_id',
};

const RANGE_MS: Record<DashRange, number> = {
  '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3,
};

export interface DashState {
  range: DashRange;
  group: DashGroup;
}

export function dashFromSearch(search: string): DashState {
  const p = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const r = p.get('range');
  const g = p.get('group_by');
  return {
    range: (DASH_RANGES as readonly string[]).includes(r ?? '') ? (r as DashRange) : DEFAULT_RANGE,
    group: (DASH_GROUPS as readonly string[]).includes(g ?? '') ? (g as DashGroup) : DEFAULT_GROUP,
  };
}

// Only non-default values, stable order (as the traces page does).
export function dashToSearch(s: DashState): string {
  const p = new URLSearchParams();
  if (s.range !== DEFAULT_RANGE) p.set('range', s.range);
  if (s.group !== DEFAULT_GROUP) p.set('group_by', s.group);
  const q = p.toString();
  return q ? `?${q}` : '';
}

// The API's time window for a range, in Unix ms, resolved at request time.
export function rangeWindow(range: DashRange, nowMs: number): { from: number; to: number } {
  return { from: Math.floor(nowMs - RANGE_MS[range]), to: Math.floor(nowMs) };
}

// A metrics API query: the window plus endpoint parameters (empty values dropped).
export function metricsQuery(win: { from: number; to: number }, params: Record<string, string | number | undefined> = {}): URLSearchParams {
  const p = new URLSearchParams({ from: String(win.from), to: String(win.to) });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p;
}

// ---- click-through into the traces page

// A local datetime-local text with milliseconds ("2026-03-23T10:05:00.000"), which the
// traces page's custom range shows in its inputs and parses back as local time.
export function localDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export interface TracesTarget {
  range?: DashRange;                 // the dashboard's range as the same preset
  bucket?: { startMs: number; endMs: number }; // or one time bucket, [start, end)
  status?: Status;
  text?: Partial<Record<TextFilter, string>>;
}

export function tracesLink(t: TracesTarget): string {
  const f: TraceFilters = defaultFilters();
  if (t.bucket) {
    f.range = 'custom';
    f.from = localDateTime(t.bucket.startMs);
    f.to = localDateTime(t.bucket.endMs - 1);
  } else if (t.range) {
    f.range = t.range;
  }
  if (t.status) f.status = t.status;
  if (t.text) for (const [k, v] of Object.entries(t.text)) if (v) f.text[k as TextFilter] = v;
  return '/traces' + filtersToSearch(f);
}

// ---- charts

// uPlot's aligned data from a timeseries answer: x in Unix seconds (bucket starts), one
// y array per series in the answer's order (nulls kept: nothing happened). Series of
// rows without the grouped key (group "") are left out; `index` maps each kept series
// back to its place in the answer.
export function alignSeries(ts: Timeseries): { xs: number[]; labels: string[]; ys: MaybeNum[][]; index: number[] } {
  const first = ts.series[0]?.points ?? [];
  const xs = first.map(([t]) => t / 1e9);
  const index = ts.series.map((_, i) => i).filter((i) => ts.series[i].group !== '');
  const kept = index.map((i) => ts.series[i]);
  const labels = kept.map((s) => (s.group === null ? ts.metric : s.group));
  const ys = kept.map((s) => {
    const byT = new Map(s.points.map(([t, v]) => [t, v] as const));
    return first.map(([t]) => byT.get(t) ?? null);
  });
  return { xs, labels, ys, index };
}

// Runs per bucket split into succeeded (ok or unset), failed (error) and interrupted,
// from `timeseries?metric=count&group_by=status`.
export function outcomeSeries(ts: Timeseries): { xs: number[]; ok: number[]; error: number[]; interrupt: number[] } {
  const first = ts.series[0]?.points ?? [];
  const xs = first.map(([t]) => t / 1e9);
  const ok = xs.map(() => 0);
  const error = xs.map(() => 0);
  const interrupt = xs.map(() => 0);
  const index = new Map(first.map(([t], i) => [t, i] as const));
  for (const s of ts.series) {
    const into = s.group === 'error' ? error : s.group === 'interrupt' ? interrupt : ok;
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i !== undefined && v) into[i] += v;
    }
  }
  return { xs, ok, error, interrupt };
}

// Whether a timeseries has anything to draw: a value for rates and quantiles (whose
// zero is a measurement), a non-zero value for sums (listed as 0 where nothing happened).
export function hasPoints(ts: Timeseries | null | undefined): boolean {
  if (!ts) return false;
  const measured = ts.metric.endsWith('_rate') || ts.metric.startsWith('duration_');
  return ts.series.some((s) => s.group !== '' && s.points.some(([, v]) => v !== null && (measured || v !== 0)));
}

// The interval to ask for: hours for "tasks per hour" up to a day, coarser beyond.
export function intervalFor(range: DashRange): string {
  switch (range) {
    case '1h': return '5m';
    case '6h': return '15m';
    case '24h': return '1h';
    case '7d': return '6h';
    case '30d': return '1d';
  }
}

// ---- tables

export interface BreakdownRow {
  key: string;
  count: number;
  errors: number;
  errorRate: MaybeNum;
  p50: MaybeNum;
  p95: MaybeNum;
  p99: MaybeNum;
  costUsd: number;
  medianCostUsd: MaybeNum;
  inputTokens: number;
  outputTokens: number;
  extra: MaybeNum; // a further metric asked with its own `top` (truncation rate for models)
}

// One row per key from several `top` answers over the same rows (the same filters and
// `by`, different `metric`s): counts, errors, cost and tokens from whichever answer has
// the key, the quantiles from the duration_pXX answers. Rows without a key (spans that
// have no tool, runs without an agent) are left out. Most rows first, then by key.
export function mergeTop(answers: { p50?: Top | null; p95?: Top | null; p99?: Top | null; extra?: Top | null; base?: Top | null }): BreakdownRow[] {
  const rows = new Map<string, BreakdownRow>();
  const row = (it: TopItem): BreakdownRow => {
    let r = rows.get(it.key);
    if (!r) {
      r = {
        key: it.key, count: it.count, errors: it.errors, errorRate: it.count > 0 ? it.errors / it.count : null,
        p50: null, p95: null, p99: null, costUsd: it.cost_usd, medianCostUsd: it.median_cost_usd,
        inputTokens: it.input_tokens, outputTokens: it.output_tokens, extra: null,
      };
      rows.set(it.key, r);
    }
    return r;
  };
  for (const name of ['base', 'p50', 'p95', 'p99', 'extra'] as const) {
    const a = answers[name];
    if (!a) continue;
    for (const it of a.items) {
      if (!it.key) continue;
      const r = row(it);
      if (it.duration_ms) {
        r.p50 = it.duration_ms.p50;
        r.p95 = it.duration_ms.p95;
        r.p99 = it.duration_ms.p99;
      }
      if (name === 'p50' || name === 'p95' || name === 'p99' || name === 'extra') r[name] = it.value;
    }
  }
  return [...rows.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// The median of the listed values (lower middle for an even count), null for none.
export function median(values: readonly MaybeNum[]): MaybeNum {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.floor((v.length - 1) / 2)];
}

// Histogram bars as fractions of the tallest bar, with a label per bar ("4" or "4–6").
export function histogramBars(d: Distribution | null | undefined, fmt: (x: number) => string = (x) => String(Math.round(x))): { label: string; count: number; height: number }[] {
  if (!d || d.count === 0) return [];
  const top = Math.max(1, ...d.buckets.map((b) => b.count));
  return d.buckets.map((b) => {
    const lo = fmt(b.lower);
    const hi = fmt(b.upper);
    return { label: lo === hi ? lo : `${lo}–${hi}`, count: b.count, height: b.count / top };
  });
}

// A rate as a percentage with one decimal below 10% ("4.5%", "20%"); a dash for null.
// The resume tile's value and line: "50%" and "1 of 2 interrupted runs resumed"; "—"
// with no interrupted run, or when the server did not count resumes.
export function resumeTile(r: { interrupts: number; resumes?: number | null; resume_rate?: MaybeNum }): { v: string; sub: string } {
  if (r.resumes === null || r.resumes === undefined) return { v: '—', sub: 'not counted for this filter' };
  if (r.interrupts === 0 && r.resumes === 0) return { v: '—', sub: 'no interrupted runs' };
  return { v: formatRate(r.resume_rate), sub: `${r.resumes} resumed in a later run of the session` };
}

export function formatRate(r: MaybeNum | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return '—';
  const pct = r * 100;
  if (pct === 0) return '0%';
  if (pct < 10) return `${+pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}

// Milliseconds as the traces page shows durations ("850ms", "1.52s", "2m 5s").
export function formatMs(ms: MaybeNum | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${+ms.toFixed(2)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${Math.round((ms % 60_000) / 1000)}s`;
}
