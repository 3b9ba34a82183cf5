// One trace: totals on top, the span tree beside its waterfall, the selected span's
// detail on the right. The selected span is in the URL (?span=ID), so a link points
// at the exact step that failed. The page loads the trace's light view (no payloads:
// a 20,000-span trace is a few MB, not tens) and the detail pane fetches each span it
// shows, kept in a per-trace cache.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api';
import { CopyButton, ErrorBox, Loading, StatusBadge } from '../components/common';
import { SpanDetail } from '../components/SpanDetail';
import { SpanTreeView } from '../components/SpanTreeView';
import { rollUpCosts } from '../lib/cost';
import { formatCost, formatDuration, formatTimestamp, formatTokens } from '../lib/format';
import { SpanCache } from '../lib/spanCache';
import { defaultCollapsed, nextAfter, reveal, treeOf, visibleRows } from '../lib/tree';
import type { LightTraceDetail, Span } from '../lib/types';
import { Link, useRouter } from '../router';

export function TracePage({ traceId }: { traceId: string }) {
  const { location, navigate } = useRouter();
  const [data, setData] = useState<LightTraceDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    setData((d) => (d && d.trace.trace_id === traceId ? d : null));  // never another trace's tree
    api.traceLight(traceId, ctl.signal).then(setData, (e) => {
      if ((e as Error).name !== 'AbortError') setError(e);
    });
    return () => ctl.abort();
  }, [traceId, tick]);

  // Full spans for the detail pane, fetched on demand; a reload (tick) starts afresh.
  const cache = useMemo(() => new SpanCache<Span>((spanId) => api.span(traceId, spanId)), [traceId, tick]);
  const tree = useMemo(() => (data ? treeOf(data.spans) : null), [data]);
  const costs = useMemo(() => (tree ? rollUpCosts(tree) : null), [tree]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  useEffect(() => { if (tree) setCollapsed(defaultCollapsed(tree, 3)); }, [tree]);
  const rows = useMemo(() => (tree ? visibleRows(tree, collapsed) : []), [tree, collapsed]);

  const spanParam = new URLSearchParams(location.search).get('span');
  // A deep-linked span is fetched alongside the trace rather than after its tree.
  useEffect(() => { if (spanParam) cache.load(spanParam).catch(() => {}); }, [cache]); // eslint-disable-line react-hooks/exhaustive-deps
  const selected = tree ? (spanParam ? tree.index.get(spanParam) ?? 0 : 0) : -1;

  const select = useCallback((i: number) => {
    if (!tree || i < 0) return;
    setCollapsed((c) => (tree.nodes[i].parent >= 0 ? reveal(tree, c, i) : c));
    navigate(`/traces/${traceId}?span=${tree.nodes[i].span.span_id}`, { replace: true });
  }, [tree, traceId, navigate]);
  // Make a deep-linked span visible once the tree exists.
  useEffect(() => { if (tree && selected > 0) setCollapsed((c) => reveal(tree, c, selected)); }, [tree]); // eslint-disable-line react-hooks/exhaustive-deps

  const toggle = useCallback((i: number) => {
    setCollapsed((c) => {
      const n = new Set(c);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });
  }, []);

  if (error) {
    if (error instanceof ApiError && error.status === 404) {
      return (
        <div className="page"><div className="empty" data-testid="not-found">
          <h2>Trace not found</h2>
          <p>No trace <code>{traceId}</code> on this server (yet). Spans are searchable about a second after they arrive.</p>
          <button type="button" onClick={() => setTick((t) => t + 1)}>Try again</button> <Link to="/">All traces</Link>
        </div></div>
      );
    }
    return <div className="page"><ErrorBox error={error} onRetry={() => setTick((t) => t + 1)} /></div>;
  }
  if (!data || !tree || !costs) return <div className="page"><Loading what="trace" /></div>;

  const t = data.trace;
  const node = selected >= 0 ? tree.nodes[selected] : undefined;
  const interrupts = t.interrupt_count ?? tree.interrupts.length;
  return (
    <div className="page trace-page" data-testid="trace-page">
      <div className="trace-head">
        <div className="trace-title">
          <Link to="/" className="back">← Traces</Link>
          <h1>{t.root_name || '(root span not arrived)'}</h1>
          <StatusBadge status={t.status} />
          <span className="mono muted">{t.trace_id}</span> <CopyButton text={t.trace_id} title="Copy trace id" />
        </div>
        <div className="totals" data-testid="totals">
          <Total k="Started" v={formatTimestamp(t.start_ns)} />
          <Total k="Duration" v={formatDuration(t.duration_ns)} />
          <Total k="Spans" v={String(t.span_count)} />
          <Total k="LLM calls" v={String(t.llm_calls)} />
          <Total k="Tool calls" v={String(t.tool_calls)} />
          <Total k="Tokens in / out" v={`${formatTokens(t.input_tokens)} / ${formatTokens(t.output_tokens)}`} />
          <Total k="Cost" v={formatCost(t.cost_usd)} />
          <Total k="Errors" v={String(t.error_count)} cls={t.error_count ? 'bad' : ''} />
          <Total k="Interrupts" v={String(interrupts)} cls={interrupts ? 'warn' : ''} />
          {t.session_id && <Total k="Session" v={<Link to={`/sessions/${encodeURIComponent(t.session_id)}`}>{t.session_id}</Link>} />}
          {t.user_id && <Total k="User" v={<Link to={`/?user_id=${encodeURIComponent(t.user_id)}`}>{t.user_id}</Link>} />}
          {t.service && <Total k="Service" v={t.service} />}
        </div>
        <div className="trace-actions">
          <button type="button" disabled={tree.errors.length === 0} onClick={() => select(nextAfter(tree.errors, selected))} data-testid="next-error">
            Next error ({tree.errors.length})
          </button>
          <button type="button" disabled={tree.interrupts.length === 0} onClick={() => select(tree.interrupts[0])}>
            First interrupt
          </button>
          <button type="button" disabled={!node || node.parent < 0} onClick={() => node && select(node.parent)}>Parent</button>
          <button type="button" onClick={() => setCollapsed(new Set())}>Expand all</button>
          <button type="button" onClick={() => setCollapsed(new Set(tree.nodes.map((n, i) => (n.childCount > 0 && n.depth >= 1 ? i : -1)).filter((i) => i >= 0)))}>
            Collapse all
          </button>
          <span className="muted small">↑↓ move · ←→ collapse/expand · Enter toggle</span>
          <span className="legend">
            {['agent', 'llm', 'tool', 'retrieval', 'chain', 'other'].map((k) => (
              <span key={k}><span className="kind-dot" style={{ background: `var(--kind-${k})` }} />{k}</span>
            ))}
          </span>
        </div>
      </div>
      <div className="trace-body">
        <SpanTreeView
          tree={tree}
          costs={costs}
          rows={rows}
          collapsed={collapsed}
          selected={selected}
          onSelect={select}
          onCollapsedChange={setCollapsed}
          onToggle={toggle}
        />
        <aside className="detail-pane">
          {node ? (
            <SpanDetail light={node.span} cache={cache} traceStartNs={tree.startNs} onJumpParent={node.parent >= 0 ? () => select(node.parent) : undefined} />
          ) : <div className="muted">Select a span</div>}
        </aside>
      </div>
    </div>
  );
}

function Total({ k, v, cls = '' }: { k: string; v: React.ReactNode; cls?: string }) {
  return <div className={`total ${cls}`}><div className="total-k">{k}</div><div className="total-v">{v}</div></div>;
}
