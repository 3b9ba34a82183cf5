// Sessions: every session with its totals, newest activity first, endless scroll.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { ErrorBox, StatusBadge } from '../components/common';
import { useSentinel } from '../components/hooks';
import { formatCost, formatDuration, formatRelative, formatTimestamp, formatTokens } from '../lib/format';
import type { SessionSummary } from '../lib/types';
import { Link, useRouter } from '../router';

export function SessionsPage() {
  const { location, navigate } = useRouter();
  const params = new URLSearchParams(location.search);
  const userId = params.get('user_id') ?? '';
  const status = params.get('status') ?? '';
  const [rows, setRows] = useState<SessionSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const gen = useRef(0);

  const query = useCallback((c?: string | null) => {
    const q = new URLSearchParams({ limit: '50' });
    if (userId) q.set('user_id', userId);
    if (status) q.set('status', status);
    if (c) q.set('cursor', c);
    return q;
  }, [userId, status]);

  useEffect(() => {
    const my = ++gen.current;
    setLoading(true);
    setError(null);
    api.sessions(query()).then((p) => {
      if (my !== gen.current) return;
      setRows(p.sessions);
      setCursor(p.next_cursor);
      setLoading(false);
    }, (e) => { if (my === gen.current) { setError(e); setLoading(false); } });
  }, [query]);

  const more = useCallback(() => {
    if (!cursor || loading) return;
    const my = gen.current;
    setLoading(true);
    api.sessions(query(cursor)).then((p) => {
      if (my !== gen.current) return;
      setRows((r) => [...r, ...p.sessions]);
      setCursor(p.next_cursor);
      setLoading(false);
    }, (e) => { if (my === gen.current) { setError(e); setLoading(false); } });
  }, [cursor, loading, query]);
  const sentinel = useSentinel(more, !!cursor && !error);

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(location.search);
    if (v) p.set(k, v);
    else p.delete(k);
    const s = p.toString();
    navigate('/sessions' + (s ? '?' + s : ''), { replace: true });
  };

  return (
    <div className="page">
      <div className="page-head"><h1>Sessions</h1></div>
      <div className="filters">
        <div className="filter-row">
          <div className="seg" role="group" aria-label="Status">
            {['', 'ok', 'error', 'interrupt'].map((s) => (
              <button key={s} type="button" className={status === s ? 'on' : ''} onClick={() => set('status', s)}>{s || 'Any status'}</button>
            ))}
          </div>
          <input aria-label="User" placeholder="User id" defaultValue={userId}
            onKeyDown={(e) => { if (e.key === 'Enter') set('user_id', e.currentTarget.value.trim()); }}
            onBlur={(e) => set('user_id', e.currentTarget.value.trim())} />
        </div>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      <div className="table-wrap">
        <table className="sessions-table" data-testid="sessions-table">
          <thead>
            <tr>
              <th>Last activity</th><th>Session</th><th>User</th><th>Status</th><th className="num">Turns</th>
              <th className="num">Spans</th><th className="num">Errored turns</th><th className="num">Span of time</th>
              <th className="num">Tokens in / out</th><th className="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={`${s.project}/${s.session_id}`} onClick={(e) => {
                if ((e.target as HTMLElement).closest('a')) return;
                navigate(`/sessions/${encodeURIComponent(s.session_id)}`);
              }}>
                <td title={formatTimestamp(s.last_end_ns)}>{formatRelative(s.last_end_ns)}</td>
                <td><Link to={`/sessions/${encodeURIComponent(s.session_id)}`}>{s.session_id}</Link>{s.project !== 'default' && <span className="muted"> · {s.project}</span>}</td>
                <td>{s.user_id}</td>
                <td><StatusBadge status={s.status} /></td>
                <td className="num">{s.trace_count}</td>
                <td className="num">{s.span_count}</td>
                <td className="num">{s.error_traces}</td>
                <td className="num">{formatDuration(s.last_end_ns - s.first_start_ns)}</td>
                <td className="num">{formatTokens(s.input_tokens)} / {formatTokens(s.output_tokens)}</td>
                <td className="num">{formatCost(s.cost_usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && rows.length === 0 && !error && (
          <div className="no-results">No sessions{userId || status ? ' match these filters' : ' yet: traces carrying session.id (or gen_ai.conversation.id) group into sessions'}.</div>
        )}
        <div ref={sentinel} className="sentinel">{loading ? 'Loading…' : cursor ? <button type="button" onClick={more}>Load more</button> : ''}</div>
      </div>
    </div>
  );
}
