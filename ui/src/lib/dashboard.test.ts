import { describe, expect, it } from 'vitest';
import {
  resumeTile,
  alignSeries, dashFromSearch, dashToSearch, formatMs, formatRate, hasPoints, histogramBars, localDateTime, median,
  mergeTop, metricsQuery, outcomeSeries, rangeWindow, tracesLink, type Distribution, type Timeseries, type Top,
} from './dashboard';
import { filtersFromSearch, filtersToApiQuery } from './filters';

const H = 3600e9; // an hour in ns
const T0 = 1774224000000000000; // 2026-03-23T00:00:00Z in ns

function ts(metric: string, series: [string | null, (number | null)[]][], group_by: string | null = 'status'): Timeseries {
  return {
    metric, level: 'runs', group_by, interval_ms: 3600000, from: T0, to: T0 + 3 * H, groups: series.length,
    series: series.map(([group, vals]) => ({ group, points: vals.map((v, i) => [T0 + i * H, v] as [number, number | null]) })),
  };
}

function top(metric: string, items: [string, number | null, number, number][]): Top {
  return {
    metric, by: 'tool', level: 'spans', groups: items.length,
    items: items.map(([key, value, count, errors]) => ({
      key, value, count, errors, cost_usd: 0.5 * count, median_cost_usd: 0.5, input_tokens: 10 * count, output_tokens: count,
    })),
  };
}

describe('dashboard URL state', () => {
  it('defaults give an empty query string and back', () => {
    expect(dashFromSearch('')).toEqual({ range: '24h', group: 'agent' });
    expect(dashToSearch({ range: '24h', group: 'agent' })).toBe('');
  });
  it('round-trips range and group-by', () => {
    const s = dashFromSearch('?range=7d&group_by=tool');
    expect(s).toEqual({ range: '7d', group: 'tool' });
    expect(dashToSearch(s)).toBe('?range=7d&group_by=tool');
  });
  it('ignores invalid values', () => {
    expect(dashFromSearch('?range=2y&group_by=colour')).toEqual({ range: '24h', group: 'agent' });
  });
});

describe('metrics queries', () => {
  it('resolves the range to a window ending now, in ms', () => {
    expect(rangeWindow('1h', 10_000_000)).toEqual({ from: 10_000_000 - 3600e3, to: 10_000_000 });
  });
  it('drops empty parameters', () => {
    const q = metricsQuery({ from: 1, to: 2 }, { metric: 'count', group_by: '', limit: 8, by: undefined });
    expect(q.toString()).toBe('from=1&to=2&metric=count&limit=8');
  });
});

describe('click-through links', () => {
  it('a tool error rate opens the failed traces using that tool over the same range', () => {
    const to = tracesLink({ range: '6h', status: 'error', text: { tool: 'lookup_invoice' } });
    expect(to).toBe('/traces?range=6h&status=error&tool=lookup_invoice');
    const f = filtersFromSearch(to.slice('/traces'.length));
    expect(f).toMatchObject({ range: '6h', status: 'error', text: { tool: 'lookup_invoice' } });
  });
  it('an agent row opens its traces', () => {
    expect(tracesLink({ range: '24h', text: { agent: 'triage bot' } })).toBe('/traces?range=24h&agent=triage+bot');
  });
  it('a time bucket opens a custom range covering exactly that bucket', () => {
    const start = Date.UTC(2026, 2, 23, 10, 0, 0);
    const to = tracesLink({ bucket: { startMs: start, endMs: start + 3600e3 }, status: 'error' });
    const f = filtersFromSearch(to.slice('/traces'.length));
    expect(f.range).toBe('custom');
    expect(f.status).toBe('error');
    const api = filtersToApiQuery(f, Date.now());
    expect(Number(api.get('from'))).toBe(start);
    expect(Number(api.get('to'))).toBe(start + 3600e3 - 1);
  });
  it('local datetime text parses back to the same instant', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    expect(localDateTime(ms)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    expect(Date.parse(localDateTime(ms))).toBe(ms);
  });
});

describe('chart data', () => {
  it('aligns grouped series on the first series\' buckets, in seconds', () => {
    const a = alignSeries(ts('duration_p95', [['search', [10, null, 30]], ['', [null, 5, null]]], 'tool'));
    expect(a.xs).toEqual([T0 / 1e9, T0 / 1e9 + 3600, T0 / 1e9 + 7200]);
    expect(a.labels).toEqual(['search']); // the rows without a tool are not a series
    expect(a.ys).toEqual([[10, null, 30]]);
    expect(alignSeries(ts('count', [['', [1]], ['a', [2]], ['b', [3]]], 'tool')).index).toEqual([1, 2]);
  });
  it('an ungrouped series is labelled by its metric', () => {
    expect(alignSeries(ts('count', [[null, [1, 2]]], null)).labels).toEqual(['count']);
  });
  it('splits runs per bucket into succeeded (ok, unset), failed and interrupted', () => {
    const o = outcomeSeries(ts('count', [['ok', [3, 0, 1]], ['error', [1, 0, 0]], ['unset', [1, 0, 0]], ['interrupt', [0, 2, 0]]]));
    expect(o.ok).toEqual([4, 0, 1]);
    expect(o.error).toEqual([1, 0, 0]);
    expect(o.interrupt).toEqual([0, 2, 0]);
    expect(o.xs).toHaveLength(3);
  });
  it('no series gives no buckets', () => {
    expect(outcomeSeries(ts('count', [])).xs).toEqual([]);
  });
  it('knows when a series has nothing to draw', () => {
    expect(hasPoints(ts('count', [[null, [0, 0, 0]]]))).toBe(false);
    expect(hasPoints(ts('count', [[null, [0, 2, 0]]]))).toBe(true);
    expect(hasPoints(ts('error_rate', [['a', [null, 0, null]]]))).toBe(true); // a measured 0%
    expect(hasPoints(ts('duration_p95', [['a', [null, null]]]))).toBe(false);
    expect(hasPoints(null)).toBe(false);
    expect(hasPoints(ts('tokens', [['', [5, 0]]], 'tool'))).toBe(false); // only rows without a tool
  });
});

describe('tables', () => {
  it('merges the quantile answers by key, without unkeyed rows, busiest first', () => {
    const rows = mergeTop({
      p50: top('duration_p50', [['', 100, 12, 0], ['search', 20, 4, 1], ['refund', 50, 8, 0]]),
      p95: top('duration_p95', [['refund', 90, 8, 0], ['search', 40, 4, 1]]),
      p99: top('duration_p99', [['search', 45, 4, 1], ['refund', 99, 8, 0]]),
    });
    expect(rows.map((r) => r.key)).toEqual(['refund', 'search']);
    expect(rows[1]).toMatchObject({ key: 'search', count: 4, errors: 1, errorRate: 0.25, p50: 20, p95: 40, p99: 45, costUsd: 2, inputTokens: 40 });
    expect(rows[0]).toMatchObject({ key: 'refund', errorRate: 0, p50: 50, p95: 90, p99: 99 });
  });
  it('takes all three quantiles from one answer whose items carry them', () => {
    const t = top('duration_p95', [['search', 40, 4, 1], ['refund', 90, 8, 0]]);
    t.items[0].duration_ms = { p50: 20, p95: 40, p99: 45 };
    t.items[1].duration_ms = { p50: 50, p95: 90, p99: null };
    const rows = mergeTop({ p95: t });
    expect(rows[0]).toMatchObject({ key: 'refund', p50: 50, p95: 90, p99: null });
    expect(rows[1]).toMatchObject({ key: 'search', p50: 20, p95: 40, p99: 45 });
  });
  it('keeps a further metric and null rates for empty rows', () => {
    const rows = mergeTop({ extra: top('truncation_rate', [['gpt-4o', 0.5, 2, 0], ['mini', null, 0, 0]]) });
    expect(rows.find((r) => r.key === 'gpt-4o')?.extra).toBe(0.5);
    expect(rows.find((r) => r.key === 'mini')).toMatchObject({ errorRate: null, extra: null, p50: null });
  });
  it('takes the lower median and skips nulls', () => {
    expect(median([])).toBeNull();
    expect(median([null, 3])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2);
  });
});

describe('histogram', () => {
  const d: Distribution = {
    metric: 'steps', level: 'runs', unit: 'spans', count: 4, min: 4, max: 9, mean: 6, sum: 24,
    quantiles: { p50: 5, p75: 8, p90: 9, p95: 9, p99: 9 },
    buckets: [{ lower: 3.96, upper: 4, count: 2 }, { lower: 5.1, upper: 6.2, count: 1 }, { lower: 8.9, upper: 9, count: 1 }],
  };
  it('scales bars to the tallest and labels them by their rounded bounds', () => {
    expect(histogramBars(d)).toEqual([
      { label: '4', count: 2, height: 1 },
      { label: '5–6', count: 1, height: 0.5 },
      { label: '9', count: 1, height: 0.5 },
    ]);
  });
  it('no runs, no bars', () => {
    expect(histogramBars({ ...d, count: 0, buckets: [] })).toEqual([]);
    expect(histogramBars(null)).toEqual([]);
  });
});

describe('formatting', () => {
  it('rates', () => {
    expect(formatRate(null)).toBe('—');
    expect(formatRate(0)).toBe('0%');
    expect(formatRate(0.045)).toBe('4.5%');
    expect(formatRate(0.2)).toBe('20%');
    expect(formatRate(1)).toBe('100%');
  });
  it('milliseconds', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(0.5)).toBe('0.5ms');
    expect(formatMs(850.4)).toBe('850ms');
    expect(formatMs(1520)).toBe('1.52s');
    expect(formatMs(125_000)).toBe('2m 5s');
  });
});

describe('resumeTile', () => {
  it('shows the share of interrupted runs that a later run of their session continued', () => {
    expect(resumeTile({ interrupts: 4, resumes: 1, resume_rate: 0.25 })).toEqual({ v: '25%', sub: '1 resumed in a later run of the session' });
    expect(resumeTile({ interrupts: 2, resumes: 0, resume_rate: 0 }).v).toBe('0%');
  });
  it('says when there is nothing to rate, or the server did not count', () => {
    expect(resumeTile({ interrupts: 0, resumes: 0, resume_rate: null })).toEqual({ v: '—', sub: 'no interrupted runs' });
    expect(resumeTile({ interrupts: 3, resumes: null, resume_rate: null }).v).toBe('—');
    expect(resumeTile({ interrupts: 3 }).sub).toBe('not counted for this filter');
  });
});
