// Traces: the table of trace summaries with every SPEC search filter, the filters
// held in the URL, client sorting of loaded rows, endless scroll by cursor, and a live
// mode that polls for new traces.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api';
import { CopyButton, ErrorBox, StatusBadge } from '../components/common';
import { DurationChart } from '../components/DurationChart';
import { EmptyState } from '../components/EmptyState';
import { useSentinel } from '../components/hooks';
import {
  activeFilterCount, defaultFilters, distinctValues, filtersFromSearch, filtersToApiQuery, filtersToSearch,
  sortTraces, TIME_PRESETS, type SortKey, type TextFilter, type TraceFilters,
} from '../lib/filters';
import { formatCost, formatDuration, formatRelative, formatTimestamp, formatTokens } from '../lib/format';
import { SPAN_KINDS, STATUSES, type TraceSummary } from '../lib/types';
import { Link, useRouter } from '../router';

const PAGE = 50;
const LIVE_INTERVAL_MS = 3000;

export function TracesPage() {
  const { location, navigate } = useRouter();
  const filters = useMemo(() => filtersFromSearch(location.search), [location.search]);
  const apiKey = useMemo(() => {
    // Sorting is client-side: changing it must not refetch.
    const f = { ...filters, sort: 'start' as SortKey, desc: true };
    return filtersToSearch(f);
  }, [filters]);
  const [rows, setRows] = useState<TraceSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [reloadTick, setReloadTick] = useState(0);
  const gen = useRef(0);

  const update = useCallback((f: TraceFilters) => navigate('/' + filtersToSearch(f), { replace: true }), [navigate]);

  // First page whenever the filters change.
  useEffect(() => {
    const my = ++gen.current;
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api.traces(filtersToApiQuery(filters, Date.now(), PAGE), ctl.signal).then(
      (page) => {
        if (my !== gen.current) return;
        setRows(page.traces);
        setCursor(page.next_cursor);
        setFresh(new Set());
        setLoading(false);
      },
      (e) => {
        if (my !== gen.current || (e as Error).name === 'AbortError') return;
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [apiKey, reloadTick]);

  const loadMore = useCallback(() => {
    if (!cursor || loading) return;
    const my = gen.current;
    setLoading(true);
    api.traces(filtersToApiQuery(filters, Date.now(), PAGE, cursor)).then(
      (page) => {
        if (my !== gen.current) return;
        setRows((prev) => {
          const seen = new Set(prev.map((t) => t.trace_id));
          return [...prev, ...page.traces.filter((t) => !seen.has(t.trace_id))];
        });
        setCursor(page.next_cursor);
        setLoading(false);
      },
      (e) => {
        if (my !== gen.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [cursor, loading, filters]);

  // Live mode: poll the first page; new traces go on top, highlighted; traces still
  // running (their summaries change) are refreshed in place.
  useEffect(() => {
    if (!live) return;
    const id = setInterval(async () => {
      const my = gen.current;
      try {
        const page = await api.traces(filtersToApiQuery(filters, Date.now(), PAGE));
        if (my !== gen.current) return;
        setRows((prev) => {
          const latest = new Map(page.traces.map((t) => [t.trace_id, t]));
          const known = new Set(prev.map((t) => t.trace_id));
          const added = page.traces.filter((t) => !known.has(t.trace_id));
          if (added.length) setFresh((f) => new Set([...f, ...added.map((t) => t.trace_id)]));
          return [...added, ...prev.map((t) => latest.get(t.trace_id) ?? t)];
        });
      } catch {
        /* a missed poll is retried on the next tick */
      }
    }, LIVE_INTERVAL_MS);
    return () => clearInterval(id);
  }, [live, filters]);

  const sentinel = useSentinel(loadMore, !!cursor && !error);
  const sorted = useMemo(() => sortTraces(rows, filters.sort, filters.desc), [rows, filters.sort, filters.desc]);
  const options = useMemo(() => ({
    agent: distinctValues(rows, (t) => t.agent_name),
    model: distinctValues(rows, (t) => t.models),
    service: distinctValues(rows, (t) => t.service),
    project: distinctValues(rows, (t) => t.project),
    session_id: distinctValues(rows, (t) => t.session_id),
    user_id: distinctValues(rows, (t) => t.user_id),
    name: distinctValues(rows, (t) => t.root_name),
    kind: SPAN_KINDS as string[],
    tool: [] as string[],
    q: [] as string[],
  }), [rows]);

  const nFilters = activeFilterCount(filters);
  const showEmpty = !loading && !error && rows.length === 0 && nFilters === 0;

  return (
    <div className="page traces-page">
      <div className="page-head">
        <h1>Traces</h1>
        <div className="head-actions">
          <label className="live-toggle" title="Poll for new traces every 3 s">
            <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} data-testid="live" />
            <span className={live ? 'live-dot on' : 'live-dot'} /> Live
          </label>
          <button type="button" onClick={() => setReloadTick((t) => t + 1)}>Refresh</button>
        </div>
      </div>
      <FilterBar filters={filters} options={options} onChange={update} count={nFilters} />
      {error ? <ErrorBox error={error} onRetry={() => setReloadTick((t) => t + 1)} /> : null}
      {showEmpty ? (
        <EmptyState onLoaded={async () => {
          // Acknowledged spans become searchable within about a second: wait for them.
          for (let i = 0; i < 20; i++) {
            const page = await api.traces(new URLSearchParams({ limit: '1' })).catch(() => null);
            if (page && page.traces.length > 0) break;
            await new Promise((r) => setTimeout(r, 250));
          }
          setReloadTick((t) => t + 1);
        }} />
      ) : (
        <>
          <DurationChart traces={rows} />
          <div className="table-wrap">
            <table className="traces-table" data-testid="traces-table">
              <thead>
                <tr>
                  <SortTh k="start" f={filters} onChange={update}>Time</SortTh>
                  <th>Root span</th>
                  <th>Agent</th>
                  <th>Session</th>
                  <th>User</th>
                  <th>Status</th>
                  <SortTh k="duration" f={filters} onChange={update} num>Duration</SortTh>
                  <SortTh k="spans" f={filters} onChange={update} num>Spans</SortTh>
                  <th className="num" title="model calls">LLM</th>
                  <th className="num" title="tool calls">Tools</th>
                  <SortTh k="tokens" f={filters} onChange={update} num>Tokens in / out</SortTh>
                  <SortTh k="cost" f={filters} onChange={update} num>Cost</SortTh>
                  <th>Models</th>
                </tr>
              </thead>
              <tbody>
                {sorted.map((t) => (
                  <tr key={t.trace_id} className={fresh.has(t.trace_id) ? 'fresh' : ''} data-trace-id={t.trace_id}
                    onClick={(e) => {
                      if ((e.target as HTMLElement).closest('a,button')) return;
                      navigate(`/traces/${t.trace_id}`);
                    }}>
                    <td title={formatTimestamp(t.start_ns)} className="nowrap">{formatRelative(t.start_ns)}</td>
                    <td className="name-cell">
                      <Link to={`/traces/${t.trace_id}`} className="trace-link">{t.root_name || <em>(root not arrived)</em>}</Link>
                      <div className="sub mono">{t.trace_id.slice(0, 12)}… {t.service && <span>· {t.service}</span>}</div>
                    </td>
                    <td>{t.agent_name}</td>
                    <td>{t.session_id && <Link to={`/sessions/${encodeURIComponent(t.session_id)}`}>{t.session_id}</Link>}</td>
                    <td>{t.user_id}</td>
                    <td>
                      <StatusBadge status={t.status} />
                      {t.error_count > 0 && <span className="count-err" title="spans with errors">{t.error_count}✕</span>}
                    </td>
                    <td className="num">{formatDuration(t.duration_ns)}</td>
                    <td className="num">{t.span_count}</td>
                    <td className="num">{t.llm_calls}</td>
                    <td className="num">{t.tool_calls}</td>
                    <td className="num">{formatTokens(t.input_tokens)} / {formatTokens(t.output_tokens)}</td>
                    <td className="num">{formatCost(t.cost_usd)}</td>
                    <td className="models">{t.models.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {!loading && rows.length === 0 && !error && (
              <div className="no-results" data-testid="no-results">
                No traces match these filters. <button type="button" className="link" onClick={() => update(defaultFilters())}>Clear filters</button>
              </div>
            )}
            <div ref={sentinel} className="sentinel">
              {loading ? 'Loading…' : cursor ? <button type="button" onClick={loadMore}>Load more</button> : rows.length > 0 ? `${rows.length} traces` : ''}
            </div>
          </div>
        </>
      )}
    </div>
  );
}

function SortTh({ k, f, onChange, num, children }: { k: SortKey; f: TraceFilters; onChange: (f: TraceFilters) => void; num?: boolean; children: React.ReactNode }) {
  const active = f.sort === k;
  return (
    <th className={`sortable ${num ? 'num' : ''} ${active ? 'active' : ''}`} aria-sort={active ? (f.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" title="Sorts the loaded rows" onClick={() => onChange({ ...f, sort: k, desc: active ? !f.desc : true })}>
        {children}{active ? (f.desc ? ' ↓' : ' ↑') : ''}
      </button>
    </th>
  );
}

// A text input that commits on Enter, on blur, or after a pause in typing.
function FilterInput({ value, onCommit, placeholder, list, label, type = 'text', width }: {
  value: string; onCommit: (v: string) => void; placeholder?: string; list?: string; label: string; type?: string; width?: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const id = setTimeout(() => onCommit(text), 600);
    return () => clearTimeout(id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text]);
  return (
    <input
      type={type}
      aria-label={label}
      placeholder={placeholder}
      list={list}
      value={text}
      style={width ? { width } : undefined}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => { if (e.key === 'Enter' && text !== value) onCommit(text); }}
      onBlur={() => { if (text !== value) onCommit(text); }}
    />
  );
}

const PICKERS: { key: TextFilter; label: string }[] = [
  { key: 'agent', label: 'Agent' },
  { key: 'model', label: 'Model' },
  { key: 'tool', label: 'Tool' },
  { key: 'kind', label: 'Span kind' },
  { key: 'service', label: 'Service' },
  { key: 'name', label: 'Span name' },
  { key: 'session_id', label: 'Session' },
  { key: 'user_id', label: 'User' },
  { key: 'project', label: 'Project' },
];

function FilterBar({ filters, options, onChange, count }: {
  filters: TraceFilters; options: Record<string, string[]>; onChange: (f: TraceFilters) => void; count: number;
}) {
  const [more, setMore] = useState(count > 0 && (Object.keys(filters.numbers).length > 0 || filters.attrs.length > 0));
  const [attrKey, setAttrKey] = useState('');
  const [attrVal, setAttrVal] = useState('');
  const setText = (k: TextFilter, v: string) => onChange({ ...filters, text: { ...filters.text, [k]: v } });
  return (
    <div className="filters" data-testid="filters">
      <div className="filter-row">
        <div className="seg" role="group" aria-label="Time range">
          {TIME_PRESETS.map((p) => (
            <button key={p} type="button" className={filters.range === p ? 'on' : ''} onClick={() => onChange({ ...filters, range: p })}>
              {p === 'all' ? 'All time' : p}
            </button>
          ))}
          <button type="button" className={filters.range === 'custom' ? 'on' : ''} onClick={() => onChange({ ...filters, range: 'custom' })}>Custom</button>
        </div>
        {filters.range === 'custom' && (
          <span className="custom-range">
            <input type="datetime-local" aria-label="From" value={filters.from} onChange={(e) => onChange({ ...filters, from: e.target.value })} />
            <span>→</span>
            <input type="datetime-local" aria-label="To" value={filters.to} onChange={(e) => onChange({ ...filters, to: e.target.value })} />
          </span>
        )}
        <div className="seg" role="group" aria-label="Status">
          <button type="button" className={filters.status === '' ? 'on' : ''} onClick={() => onChange({ ...filters, status: '' })}>Any status</button>
          {STATUSES.map((s) => (
            <button key={s} type="button" data-status-chip={s} className={`chip-${s} ${filters.status === s ? 'on' : ''}`}
              onClick={() => onChange({ ...filters, status: filters.status === s ? '' : s })}>
              {s}
            </button>
          ))}
        </div>
        <FilterInput label="Search inputs and outputs" placeholder="Search text in inputs / outputs" value={filters.text.q ?? ''} onCommit={(v) => setText('q', v)} width="16rem" />
      </div>
      <div className="filter-row">
        {PICKERS.slice(0, more ? PICKERS.length : 4).map(({ key, label }) => (
          <span key={key} className="picker">
            <FilterInput label={label} placeholder={label} list={`opts-${key}`} value={filters.text[key] ?? ''} onCommit={(v) => setText(key, v)} width="9rem" />
            <datalist id={`opts-${key}`}>{(options[key] ?? []).slice(0, 100).map((o) => <option key={o} value={o} />)}</datalist>
          </span>
        ))}
        <button type="button" className="link" onClick={() => setMore(!more)}>{more ? 'fewer filters' : 'more filters'}</button>
        {count > 0 && <button type="button" className="link" onClick={() => onChange(defaultFilters())}>clear {count} filter{count > 1 ? 's' : ''}</button>}
      </div>
      {more && (
        <div className="filter-row">
          <FilterInput label="Min duration (ms)" placeholder="min ms" type="number" value={filters.numbers.min_duration_ms ?? ''} onCommit={(v) => onChange({ ...filters, numbers: { ...filters.numbers, min_duration_ms: v } })} width="7rem" />
          <FilterInput label="Max duration (ms)" placeholder="max ms" type="number" value={filters.numbers.max_duration_ms ?? ''} onCommit={(v) => onChange({ ...filters, numbers: { ...filters.numbers, max_duration_ms: v } })} width="7rem" />
          <FilterInput label="Min cost (USD)" placeholder="min $" type="number" value={filters.numbers.min_cost_usd ?? ''} onCommit={(v) => onChange({ ...filters, numbers: { ...filters.numbers, min_cost_usd: v } })} width="7rem" />
          <span className="attr-filters">
            {filters.attrs.map(([k, v], i) => (
              <span key={i} className="attr-chip">
                <span className="mono">{k}={v}</span>
                <button type="button" aria-label={`Remove ${k}`} onClick={() => onChange({ ...filters, attrs: filters.attrs.filter((_, j) => j !== i) })}>×</button>
              </span>
            ))}
            <form onSubmit={(e) => {
              e.preventDefault();
              if (!attrKey.trim()) return;
              onChange({ ...filters, attrs: [...filters.attrs, [attrKey.trim(), attrVal]] });
              setAttrKey('');
              setAttrVal('');
            }}>
              <input aria-label="Attribute key" placeholder="attribute key" value={attrKey} onChange={(e) => setAttrKey(e.target.value)} style={{ width: '10rem' }} />
              <span>=</span>
              <input aria-label="Attribute value" placeholder="value" value={attrVal} onChange={(e) => setAttrVal(e.target.value)} style={{ width: '8rem' }} />
              <button type="submit">Add</button>
            </form>
          </span>
        </div>
      )}
      <CopyButton text={window.location.href} label="copy link to this view" />
    </div>
  );
}
