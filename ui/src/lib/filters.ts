// Traces-page filter state and its two encodings: the page URL (what a user shares;
// only non-default values, stable order) and the API query (SPEC search parameters,
// with time presets resolved to Unix milliseconds at request time).
import type { Status } from './types';

export const TIME_PRESETS = ['15m', '1h', '6h', '24h', '7d', '30d', 'all'] as const;
export type TimePreset = (typeof TIME_PRESETS)[number];

const PRESET_MS: Record<Exclude<TimePreset, 'all'>, number> = {
  '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3,
};

// Text filters passed through to the API under the same name.
export const TEXT_FILTERS = [
  'project', 'service', 'agent', 'session_id', 'user_id', 'kind', 'name', 'model', 'tool', 'q',
] as const;
export type TextFilter = (typeof TEXT_FILTERS)[number];

export const NUMBER_FILTERS = ['min_duration_ms', 'max_duration_ms', 'min_cost_usd'] as const;
export type NumberFilter = (typeof NUMBER_FILTERS)[number];

export const SORT_KEYS = ['start', 'duration', 'spans', 'tokens', 'cost', 'errors'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface TraceFilters {
  range: TimePreset | 'custom';
  from: string;            // custom range: datetime-local text or RFC 3339, '' when open
  to: string;
  status: Status | '';
  text: Partial<Record<TextFilter, string>>;
  numbers: Partial<Record<NumberFilter, string>>;
  attrs: [string, string][];
  sort: SortKey;
  desc: boolean;
}

export function defaultFilters(): TraceFilters {
  return { range: 'all', from: '', to: '', status: '', text: {}, numbers: {}, attrs: [], sort: 'start', desc: true };
}

const STATUS_VALUES = new Set(['ok', 'error', 'interrupt', 'unset']);

export function filtersFromSearch(search: string): TraceFilters {
  const p = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const f = defaultFilters();
  const range = p.get('range');
  if (range && ((TIME_PRESETS as readonly string[]).includes(range) || range === 'custom')) {
    f.range = range as TraceFilters['range'];
  }
  f.from = p.get('from') ?? '';
  f.to = p.get('to') ?? '';
  if ((f.from || f.to) && !range) f.range = 'custom';
  const st = p.get('status') ?? '';
  if (STATUS_VALUES.has(st)) f.status = st as Status;
  for (const k of TEXT_FILTERS) {
    const v = p.get(k);
    if (v) f.text[k] = v;
  }
  for (const k of NUMBER_FILTERS) {
    const v = p.get(k);
    if (v && Number.isFinite(Number(v))) f.numbers[k] = v;
  }
  for (const [k, v] of p.entries()) {
    if (k.startsWith('attr.') && k.length > 5) f.attrs.push([k.slice(5), v]);
  }
  const sort = p.get('sort');
  if (sort && (SORT_KEYS as readonly string[]).includes(sort)) f.sort = sort as SortKey;
  f.desc = p.get('dir') !== 'asc';
  return f;
}

export function filtersToSearch(f: TraceFilters): string {
  const p = new URLSearchParams();
  if (f.range !== 'all') p.set('range', f.range);
  if (f.range === 'custom') {
    if (f.from) p.set('from', f.from);
    if (f.to) p.set('to', f.to);
  }
  if (f.status) p.set('status', f.status);
  for (const k of TEXT_FILTERS) {
    const v = f.text[k]?.trim();
    if (v) p.set(k, v);
  }
  for (const k of NUMBER_FILTERS) {
    const v = f.numbers[k]?.trim();
    if (v) p.set(k, v);
  }
  for (const [k, v] of f.attrs) if (k.trim()) p.append(`attr.${k.trim()}`, v);
  if (f.sort !== 'start') p.set('sort', f.sort);
  if (!f.desc) p.set('dir', 'asc');
  const s = p.toString();
  return s ? `?${s}` : '';
}

// A custom-range bound as the API takes it: Unix ms from a datetime-local value
// (local time) or an RFC 3339 / Unix-ms text. Null when it does not parse.
export function parseTimeBound(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  if (/^\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

// The API query for a page of traces. Sorting is not an API parameter: the server
// answers newest first, and the page sorts what it has loaded.
export function filtersToApiQuery(f: TraceFilters, nowMs: number, limit = 50, cursor?: string | null): URLSearchParams {
  const p = new URLSearchParams();
  if (f.range !== 'all' && f.range !== 'custom') {
    p.set('from', String(Math.floor(nowMs - PRESET_MS[f.range])));
  } else if (f.range === 'custom') {
    const from = parseTimeBound(f.from);
    const to = parseTimeBound(f.to);
    if (from !== null) p.set('from', String(from));
    if (to !== null) p.set('to', String(to));
  }
  if (f.status) p.set('status', f.status);
  for (const k of TEXT_FILTERS) {
    const v = f.text[k]?.trim();
    if (v) p.set(k, v);
  }
  for (const k of NUMBER_FILTERS) {
    const v = f.numbers[k]?.trim();
    if (v && Number.isFinite(Number(v))) p.set(k, v);
  }
  for (const [k, v] of f.attrs) if (k.trim()) p.append(`attr.${k.trim()}`, v);
  p.set('limit', String(limit));
  if (cursor) p.set('cursor', cursor);
  return p;
}

// How many filters narrow the list (for the "clear filters" affordance).
export function activeFilterCount(f: TraceFilters): number {
  let n = f.range !== 'all' ? 1 : 0;
  if (f.status) n++;
  n += Object.values(f.text).filter((v) => v && v.trim()).length;
  n += Object.values(f.numbers).filter((v) => v && v.trim()).length;
  n += f.attrs.filter(([k]) => k.trim()).length;
  return n;
}

// Client-side ordering of the loaded rows.
export function sortTraces<T extends {
  start_ns: number; duration_ns: number; span_count: number; input_tokens: number; output_tokens: number;
  cost_usd: number | null; error_count: number; trace_id: string;
}>(rows: readonly T[], key: SortKey, desc: boolean): T[] {
  const val = (t: T): number => {
    switch (key) {
      case 'start': return t.start_ns;
      case 'duration': return t.duration_ns;
      case 'spans': return t.span_count;
      case 'tokens': return (t.input_tokens ?? 0) + (t.output_tokens ?? 0);
      case 'cost': return t.cost_usd ?? -1;
      case 'errors': return t.error_count;
    }
  };
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const d = val(a) - val(b);
    if (d !== 0) return sign * d;
    return a.trace_id < b.trace_id ? -1 : a.trace_id > b.trace_id ? 1 : 0;
  });
}

// Picker options derived from loaded rows: distinct values, most frequent first.
export function distinctValues<T>(rows: readonly T[], pick: (row: T) => string | string[] | undefined): string[] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const v = pick(r);
    const list = Array.isArray(v) ? v : v ? [v] : [];
    for (const x of list) if (x) counts.set(x, (counts.get(x) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
}
