// The detail pane of one span. The trace page has only the light view of its spans
// (names, times, status, no payloads), so the pane shows those at once and fetches
// the whole span from the single-span endpoint (through the page's SpanCache, so going
// back to a span costs nothing). Then a model call reads as its conversation, then
// model, parameters, token breakdown, cost and finish reason; a tool shows its
// arguments and result as collapsible JSON; a retrieval its documents and scores; an
// error its exception and stack. Raw attributes, resource, events and links are folded
// and only rendered when opened.
import { useEffect, useState } from 'react';
import { exceptions, parseMaybeJson, parseMessages, retrievalDocuments } from '../lib/messages';
import { formatBytes, formatCost, formatCount, formatDuration, formatTimestamp } from '../lib/format';
import type { SpanCache } from '../lib/spanCache';
import { isTruncated, type LightSpan, type Span } from '../lib/types';
import { CopyButton, KindBadge, StatusBadge } from './common';
import { Conversation } from './Messages';
import { JsonView, LongText } from './JsonView';

interface Props {
  light: LightSpan;
  cache: SpanCache<Span>;
  traceStartNs: number;
  onJumpParent?: () => void;
}

interface Loaded { id: string; span?: Span; error?: unknown }

export function SpanDetail({ light, cache, traceStartNs, onJumpParent }: Props) {
  const id = light.span_id;
  const [loaded, setLoaded] = useState<Loaded>(() => ({ id, span: cache.peek(id) }));
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const have = cache.peek(id);
    if (have) {
      setLoaded({ id, span: have });
      return;
    }
    let live = true;
    setLoaded({ id });
    cache.load(id).then(
      (span) => { if (live) setLoaded({ id, span }); },
      (error) => { if (live) setLoaded({ id, error }); },
    );
    return () => { live = false; };
  }, [cache, id, attempt]);
  const span = loaded.id === id ? loaded.span ?? cache.peek(id) : cache.peek(id);
  const error = loaded.id === id && !span ? loaded.error : undefined;

  return (
    <div className="span-detail" data-testid="span-detail" data-span-id={id} data-loaded={span ? 'true' : 'false'}>
      <div className="detail-head">
        <div className="detail-title">
          <KindBadge kind={light.kind} /> <h2>{light.name}</h2> <StatusBadge status={light.status} />
        </div>
        <div className="detail-ids">
          <span className="mono">span {id}</span> <CopyButton text={id} />
          {light.parent_span_id && (
            <button type="button" className="link" onClick={onJumpParent} disabled={!onJumpParent}>↑ parent {light.parent_span_id.slice(0, 8)}…</button>
          )}
        </div>
        <dl className="facts">
          <Fact k="Start" v={`${formatTimestamp(light.start_ns)} (+${formatDuration(light.start_ns - traceStartNs)})`} />
          <Fact k="Duration" v={formatDuration(light.duration_ns)} />
          {light.agent_name && <Fact k="Agent" v={light.agent_name + (span?.agent_id ? ` (${span.agent_id})` : '')} />}
          {light.step !== undefined && light.step !== null && <Fact k="Step" v={String(light.step)} />}
          {span?.service && <Fact k="Service" v={`${span.service}${span.version ? ' ' + span.version : ''}${span.environment ? ' · ' + span.environment : ''}`} />}
        </dl>
      </div>
      {span ? <SpanBody span={span} /> : error ? (
        <div className="sec error-text" data-testid="span-load-error">
          Could not load this span: {(error as Error).message}{' '}
          <button type="button" onClick={() => setAttempt((a) => a + 1)}>Try again</button>
        </div>
      ) : (
        <div className="loading" aria-busy="true" data-testid="span-loading">Loading span…</div>
      )}
    </div>
  );
}

// Everything below the head, from the whole span.
function SpanBody({ span }: { span: Span }) {
  const excs = exceptions(span.events);
  const otherEvents = span.events.filter((e) => e.name !== 'exception');
  return (
    <>
      {span.status === 'error' && (
        <section className="sec sec-error" data-testid="error-section">
          <h3>Error{span.error_type ? `: ${span.error_type}` : ''}</h3>
          {span.status_message && <p>{span.status_message}</p>}
          {excs.map((x, i) => (
            <div key={i} className="exception">
              <div><strong>{x.type}</strong>{x.message ? `: ${x.message}` : ''}</div>
              {x.stacktrace && <pre className="stack">{x.stacktrace}</pre>}
            </div>
          ))}
        </section>
      )}
      {span.status !== 'error' && excs.length > 0 && (
        <section className="sec sec-error">
          <h3>Exceptions recorded</h3>
          {excs.map((x, i) => <div key={i}><strong>{x.type}</strong>: {x.message}{x.stacktrace && <pre className="stack">{x.stacktrace}</pre>}</div>)}
        </section>
      )}
      {span.status === 'interrupt' && (
        <section className="sec sec-interrupt">
          <h3>Interrupted{span.interrupt_reason ? `: ${span.interrupt_reason}` : ''}</h3>
          {span.status_message && <p>{span.status_message}</p>}
        </section>
      )}

      {span.kind === 'llm' && <ModelFacts span={span} />}
      {span.kind === 'tool' && <ToolSection span={span} />}
      {span.kind === 'retrieval' && <RetrievalSection span={span} />}
      {span.kind !== 'tool' && <Payloads span={span} />}

      {otherEvents.length > 0 && (
        <Folded title={`Events (${otherEvents.length})`}>
          {otherEvents.map((e, i) => (
            <div key={i} className="event">
              <span className="mono">+{formatDuration(e.time_ns - span.start_ns)}</span> <strong>{e.name}</strong>
              {Object.keys(e.attributes).length > 0 && <JsonView value={e.attributes} openDepth={1} />}
            </div>
          ))}
        </Folded>
      )}
      <Folded title={`Attributes (${Object.keys(span.attributes).length})`} testId="attributes">
        <AttrTable attrs={span.attributes} />
      </Folded>
      <Folded title="Resource">
        <AttrTable attrs={span.resource} />
      </Folded>
      {span.links.length > 0 && (
        <Folded title={`Links (${span.links.length})`}>
          {span.links.map((l, i) => <div key={i} className="mono">{l.trace_id} / {l.span_id}</div>)}
        </Folded>
      )}
      {span.scope && span.scope.name && <div className="muted small">instrumentation: {span.scope.name} {span.scope.version}</div>}
    </>
  );
}

function Fact({ k, v }: { k: string; v: React.ReactNode }) {
  return <><dt>{k}</dt><dd>{v}</dd></>;
}

// Content rendered only once opened: the attributes of a big span cost nothing
// until someone looks at them.
function Folded({ title, children, open: initiallyOpen = false, testId }: { title: string; children: React.ReactNode; open?: boolean; testId?: string }) {
  const [open, setOpen] = useState(initiallyOpen);
  return (
    <section className="sec folded" data-testid={testId}>
      <button type="button" className="fold-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} {title}
      </button>
      {open && <div className="fold-body">{children}</div>}
    </section>
  );
}

function AttrTable({ attrs }: { attrs: Record<string, unknown> }) {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return <div className="muted">none</div>;
  return (
    <table className="attrs">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <td className="mono attr-key">{k}</td>
            <td>{typeof v === 'object' && v !== null ? <JsonView value={v} openDepth={1} /> : <AttrValue v={v} />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AttrValue({ v }: { v: unknown }) {
  const parsed = parseMaybeJson(v);
  if (parsed !== v) return <JsonView value={parsed} openDepth={0} />;
  return <LongText text={String(v)} max={1000} />;
}

const PARAM_PREFIXES = ['gen_ai.request.', 'llm.invocation_parameters', 'llm.request.'];

function ModelFacts({ span }: { span: Span }) {
  const params = Object.entries(span.attributes).filter(([k]) =>
    PARAM_PREFIXES.some((p) => k.startsWith(p)) && k !== 'gen_ai.request.model');
  const total = (span.input_tokens ?? 0) + (span.output_tokens ?? 0);
  return (
    <section className="sec model-facts" data-testid="model-facts">
      <dl className="facts">
        <Fact k="Model" v={<>{span.model || '–'}{span.provider && <span className="muted"> · {span.provider}</span>}</>} />
        {span.attributes['gen_ai.request.model'] !== undefined && span.attributes['gen_ai.request.model'] !== span.model &&
          <Fact k="Requested" v={String(span.attributes['gen_ai.request.model'])} />}
        {span.finish_reason && <Fact k="Finish reason" v={span.finish_reason} />}
        {span.prompt_name && <Fact k="Prompt" v={`${span.prompt_name}${span.prompt_version ? ' v' + span.prompt_version : ''}`} />}
        <Fact k="Cost" v={<>{formatCost(span.cost_usd)} <span className="muted">({span.cost_source})</span></>} />
      </dl>
      <div className="tokens" data-testid="tokens">
        <Tok label="input" n={span.input_tokens} />
        <Tok label="output" n={span.output_tokens} />
        <Tok label="cache read" n={span.cache_read_tokens} />
        <Tok label="cache write" n={span.cache_write_tokens} />
        <Tok label="reasoning" n={span.reasoning_tokens} />
        <Tok label="total" n={total || null} />
      </div>
      {params.length > 0 && (
        <div className="params">
          {params.map(([k, v]) => (
            <span key={k} className="param"><span className="muted">{k.replace(/^gen_ai\.request\.|^llm\.request\./, '')}</span> {typeof v === 'object' ? JSON.stringify(v) : String(v)}</span>
          ))}
        </div>
      )}
    </section>
  );
}

function Tok({ label, n }: { label: string; n: number | null }) {
  return <div className={`tok ${n === null ? 'none' : ''}`}><div className="tok-n">{formatCount(n)}</div><div className="tok-l">{label}</div></div>;
}

function ToolSection({ span }: { span: Span }) {
  return (
    <section className="sec tool-section" data-testid="tool-section">
      <dl className="facts">
        <Fact k="Tool" v={span.tool_name || '–'} />
        {span.tool_call_id && <Fact k="Call id" v={<span className="mono">{span.tool_call_id}</span>} />}
      </dl>
      <h3>Arguments</h3>
      <div data-testid="tool-args"><ValueView value={span.input} /></div>
      <h3>Result</h3>
      <div data-testid="tool-result">{span.output === null || span.output === undefined ? <div className="muted">no result{span.status === 'error' ? ' (the call failed)' : ''}</div> : <ValueView value={span.output} />}</div>
    </section>
  );
}

function RetrievalSection({ span }: { span: Span }) {
  const docs = retrievalDocuments(span.output, span.attributes);
  if (docs.length === 0) return null;
  return (
    <section className="sec" data-testid="documents">
      <h3>Documents ({docs.length})</h3>
      <table className="docs">
        <thead><tr><th>#</th><th>id</th><th className="num">score</th><th>content</th></tr></thead>
        <tbody>
          {docs.map((d, i) => (
            <tr key={d.id}>
              <td>{i + 1}</td><td className="mono">{d.id}</td>
              <td className="num">{d.score === null ? '–' : d.score.toFixed(3)}</td>
              <td><LongText text={d.content} max={600} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Payloads({ span }: { span: Span }) {
  const hasIn = span.input !== null && span.input !== undefined;
  const hasOut = span.output !== null && span.output !== undefined;
  if (!hasIn && !hasOut) return null;
  return (
    <>
      {hasIn && (
        <section className="sec" data-testid="input">
          <h3>Input</h3>
          <ValueView value={span.input} />
        </section>
      )}
      {hasOut && span.kind !== 'retrieval' && (
        <section className="sec" data-testid="output">
          <h3>Output</h3>
          <ValueView value={span.output} />
        </section>
      )}
    </>
  );
}

// Messages as a conversation; other JSON as a tree; text as text.
function ValueView({ value }: { value: unknown }) {
  // The single-span endpoint sends payloads whole; a summary here means another source.
  if (isTruncated(value)) return <div className="muted">summarised ({formatBytes(value.bytes)})</div>;
  const msgs = parseMessages(value);
  if (msgs) return <Conversation messages={msgs} />;
  const v = parseMaybeJson(value);
  if (typeof v === 'string') return <LongText text={v} />;
  return <JsonView value={v} />;
}
