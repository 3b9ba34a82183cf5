// One session: its turns in order, each with what the user asked, what the agent
// answered, status, cost (the turn's, and the session's running total after it: "≥"
// once a turn with model calls had no price) and duration, and a way into the trace. The question and
// answer come from each turn's root span (or its model calls when the root carries
// no payload); they are fetched a few at a time so a 50-turn session fills in fast.
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api';
import { ErrorBox, Loading, StatusBadge } from '../components/common';
import { formatRunningCost, formatTurnCost, pricedSpans, runningCosts, unpricedCalls } from '../lib/cost';
import { formatCost, formatDuration, formatTimestamp, formatTokens } from '../lib/format';
import { previewText } from '../lib/messages';
import type { SessionDetail, Span, TraceDetail } from '../lib/types';
import { Link } from '../router';

const PARALLEL = 4;

export interface TurnText { asked: string; answered: string; failure: string; priced?: number; unpriced?: number }

// What a turn was about, from its spans (tree order): the root's input/output, else
// the first model call's last user message and the last model call's answer.
export function turnText(spans: readonly Span[]): TurnText {
  const root = spans.find((s) => !s.parent_span_id) ?? spans[0];
  const llms = spans.filter((s) => s.kind === 'llm');
  let asked = root ? previewText(root.input, 'user') : '';
  let answered = root ? previewText(root.output, 'assistant') : '';
  if (!asked && llms.length) asked = previewText(llms[0].input, 'user');
  if (!answered && llms.length) answered = previewText(llms[llms.length - 1].output, 'assistant');
  // Where it first went wrong: the failed span that ended first (a tool's error, not
  // the agent root that failed because of it), else the first interrupt.
  const first = (st: string) => spans.filter((s) => s.status === st).sort((a, b) => a.end_ns - b.end_ns)[0];
  const bad = first('error') ?? first('interrupt');
  const failure = bad ? `${bad.name}: ${bad.status === 'error' ? bad.status_message || bad.error_type || 'error' : bad.interrupt_reason || 'interrupted'}` : '';
  return { asked, answered, failure, priced: pricedSpans(spans), unpriced: unpricedCalls(spans) };
}

export function SessionPage({ sessionId }: { sessionId: string }) {
  const [data, setData] = useState<SessionDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [texts, setTexts] = useState<Record<string, TurnText>>({});

  useEffect(() => {
    let live = true;
    api.session(sessionId).then((d) => {
      if (!live) return;
      setData(d);
      const queue = [...d.traces.map((t) => t.trace_id)];
      const worker = async () => {
        for (let id = queue.shift(); id && live; id = queue.shift()) {
          try {
            const tr: TraceDetail = await api.trace(id);
            const text = turnText(tr.spans);
            if (live) setTexts((m) => ({ ...m, [id!]: text }));
          } catch {
            if (live) setTexts((m) => ({ ...m, [id!]: { asked: '', answered: '', failure: '' } }));
          }
        }
      };
      for (let i = 0; i < PARALLEL; ++i) void worker();
    }, (e) => { if (live) setError(e); });
    return () => { live = false; };
  }, [sessionId]);

  if (error) {
    if (error instanceof ApiError && error.status === 404) {
      return <div className="page"><div className="empty" data-testid="not-found"><h2>Session not found</h2><p>No session <code>{sessionId}</code>.</p><Link to="/sessions">All sessions</Link></div></div>;
    }
    return <div className="page"><ErrorBox error={error} /></div>;
  }
  if (!data) return <div className="page"><Loading what="session" /></div>;
  const s = data.session;
  const costs = runningCosts(data.traces.map((t) => ({ ...t, priced: texts[t.trace_id]?.priced, unpriced: texts[t.trace_id]?.unpriced })));
  const partial = costs.length > 0 && costs[costs.length - 1].partial;
  return (
    <div className="page session-page" data-testid="session-page">
      <div className="trace-head">
        <div className="trace-title">
          <Link to="/sessions" className="back">← Sessions</Link>
          <h1>Session {s.session_id}</h1>
          <StatusBadge status={s.status} />
        </div>
        <div className="totals">
          {s.user_id && <div className="total"><div className="total-k">User</div><div className="total-v"><Link to={`/?user_id=${encodeURIComponent(s.user_id)}`}>{s.user_id}</Link></div></div>}
          <div className="total"><div className="total-k">Turns</div><div className="total-v">{s.trace_count}</div></div>
          <div className="total"><div className="total-k">Spans</div><div className="total-v">{s.span_count}</div></div>
          <div className="total"><div className="total-k">Errored turns</div><div className={`total-v ${s.error_traces ? 'bad' : ''}`}>{s.error_traces}</div></div>
          <div className="total"><div className="total-k">Tokens in / out</div><div className="total-v">{formatTokens(s.input_tokens)} / {formatTokens(s.output_tokens)}</div></div>
          <div className="total"><div className="total-k">Cost</div><div className={`total-v${partial ? ' warn' : ''}`} data-testid="session-cost" title={partial ? 'some turns made model calls without a price: not counted' : ''}>{partial ? '≥ ' : ''}{formatCost(s.cost_usd)}</div></div>
          <div className="total"><div className="total-k">From – to</div><div className="total-v">{formatTimestamp(s.first_start_ns)} → {formatDuration(s.last_end_ns - s.first_start_ns)}</div></div>
        </div>
      </div>
      <ol className="turns" data-testid="turns">
        {data.traces.map((t, i) => {
          const text = texts[t.trace_id];
          return (
            <li key={t.trace_id} className={`turn turn-${t.status}`} data-testid="turn" data-trace-id={t.trace_id} data-loaded={text ? 'true' : 'false'}>
              <div className="turn-n">{i + 1}</div>
              <div className="turn-body">
                <div className="turn-meta">
                  <StatusBadge status={t.status} />
                  <span>{formatTimestamp(t.start_ns)}</span>
                  <span>{formatDuration(t.duration_ns)}</span>
                  <span className={`turn-cost${costs[i].unknown || costs[i].turnPartial ? ' unknown' : ''}`} data-testid="turn-cost" title="this turn's cost">{formatTurnCost(costs[i])}</span>
                  <span className={`turn-running${costs[i].partial ? ' partial' : ''}`} data-testid="turn-running" title="the session's cost so far">Σ {formatRunningCost(costs[i])}</span>
                  <span>{t.llm_calls} LLM · {t.tool_calls} tools · {t.span_count} spans</span>
                  <Link to={`/traces/${t.trace_id}`} className="open-trace">open trace →</Link>
                </div>
                <div className="turn-q"><span className="who">user</span> {text ? text.asked || <span className="muted">(no input recorded)</span> : <span className="muted">…</span>}</div>
                <div className="turn-a"><span className="who">agent</span> {text ? text.answered || <span className="muted">(no answer recorded)</span> : <span className="muted">…</span>}</div>
                {text?.failure && <div className={`turn-fail ${t.status}`}>{text.failure}</div>}
              </div>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
