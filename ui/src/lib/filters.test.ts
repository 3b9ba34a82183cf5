import { describe, expect, it } from 'vitest';
import {
  activeFilterCount, defaultFilters, distinctValues, filtersFromSearch, filtersToApiQuery, filtersToSearch, parseTimeBound, sortTraces,
} from './filters';

describe('filters <-> URL', () => {
  it('defaults give an empty query string', () => {
    expect(filtersToSearch(defaultFilters())).toBe('');
    expect(filtersFromSearch('')).toEqual(defaultFilters());
  });

  it('round-trips every filter', () => {
    const search = '?range=24h&status=error&agent=triage&model=gpt-4o&tool=lookup_invoice&session_id=ticket-9421&q=refund' +
      '&min_duration_ms=100&min_cost_usd=0.01&attr.http.route=%2Fchat&attr.tenant=acme&sort=cost&dir=asc';
    const f = filtersFromSearch(search);
    expect(f.range).toBe('24h');
    expect(f.status).toBe('error');
    expect(f.text).toMatchObject({ agent: 'triage', model: 'gpt-4o', tool: 'lookup_invoice', session_id: 'ticket-9421', q: 'refund' });
    expect(f.numbers).toEqual({ min_duration_ms: '100', min_cost_usd: '0.01' });
    expect(f.attrs).toEqual([['http.route', '/chat'], ['tenant', 'acme']]);
    expect(f.sort).toBe('cost');
    expect(f.desc).toBe(false);
    expect(filtersFromSearch(filtersToSearch(f))).toEqual(f);
    expect(activeFilterCount(f)).toBe(11);
  });

  it('ignores invalid values', () => {
    const f = filtersFromSearch('?status=bogus&range=2y&sort=name&min_cost_usd=abc');
    expect(f).toEqual(defaultFilters());
  });

  it('a from/to without range means a custom range', () => {
    const f = filtersFromSearch('?from=2026-03-23T10:00&to=2026-03-23T12:00');
    expect(f.range).toBe('custom');
    expect(filtersToSearch(f)).toBe('?range=custom&from=2026-03-23T10%3A00&to=2026-03-23T12%3A00');
  });
});

describe('filters -> API query', () => {
  const now = Date.UTC(2026, 2, 23, 12, 0, 0);

  it('resolves presets against now and passes filters through', () => {
    const f = filtersFromSearch('?range=1h&status=interrupt&agent=billing&attr.k=v&sort=cost');
    const q = filtersToApiQuery(f, now, 50, 'CUR');
    expect(q.get('from')).toBe(String(now - 3600e3));
    expect(q.get('to')).toBeNull();
    expect(q.get('status')).toBe('interrupt');
    expect(q.get('agent')).toBe('billing');
    expect(q.get('attr.k')).toBe('v');
    expect(q.get('limit')).toBe('50');
    expect(q.get('cursor')).toBe('CUR');
    expect(q.has('sort')).toBe(false);
  });

  it('custom ranges accept Unix ms and RFC 3339 and skip what does not parse', () => {
    const f = { ...defaultFilters(), range: 'custom' as const, from: '1700000000000', to: 'garbage' };
    const q = filtersToApiQuery(f, now);
    expect(q.get('from')).toBe('1700000000000');
    expect(q.has('to')).toBe(false);
    expect(parseTimeBound('2026-03-23T17:42:11Z')).toBe(Date.UTC(2026, 2, 23, 17, 42, 11));
    expect(parseTimeBound('')).toBeNull();
  });
});

describe('sorting and pickers', () => {
  const rows = [
    { trace_id: 'a', start_ns: 3, duration_ns: 10, span_count: 5, input_tokens: 1, output_tokens: 1, cost_usd: null, error_count: 0 },
    { trace_id: 'b', start_ns: 1, duration_ns: 30, span_count: 2, input_tokens: 100, output_tokens: 5, cost_usd: 0.2, error_count: 2 },
    { trace_id: 'c', start_ns: 2, duration_ns: 20, span_count: 9, input_tokens: 10, output_tokens: 0, cost_usd: 0.1, error_count: 1 },
  ];
  it.each([
    ['start', true, ['a', 'c', 'b']], ['duration', true, ['b', 'c', 'a']], ['duration', false, ['a', 'c', 'b']],
    ['spans', true, ['c', 'a', 'b']], ['tokens', true, ['b', 'c', 'a']], ['cost', true, ['b', 'c', 'a']], ['errors', true, ['b', 'c', 'a']],
  ] as const)('sort by %s desc=%s', (key, desc, order) => {
    expect(sortTraces(rows, key, desc).map((r) => r.trace_id)).toEqual(order);
  });

  it('picker options: distinct, most frequent first', () => {
    const data = [{ m: ['gpt-4o', 'mini'] }, { m: ['gpt-4o'] }, { m: [] as string[] }, { m: ['claude'] }];
    expect(distinctValues(data, (r) => r.m)).toEqual(['gpt-4o', 'claude', 'mini']);
    expect(distinctValues([{ a: '' }, { a: 'x' }], (r) => r.a)).toEqual(['x']);
  });
});
