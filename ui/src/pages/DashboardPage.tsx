// Dashboard: tiles and charts from the metrics API (overview, timeseries, distribution,
// top) over a time range, the over-time charts split by a group-by dimension, and
// click-through from every number and bucket to the traces it counts (the traces
// page's URL filters). The URL holds the range and the group-by.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api';
import { ErrorBox } from '../components/common';
import { PALETTE, TimeChart, type ChartSeries } from '../components/TimeChart';
import {
  alignSeries, DASH_GROUPS, DASH_RANGES, dashFromSearch, dashToSearch, formatMs, formatRate, GROUP_FILTER, resumeTile,
  hasPoints, histogramBars, intervalFor, median, mergeTop, metricsQuery, outcomeSeries, rangeWindow,
  tracesLink, type BreakdownRow, type DashGroup, type DashState, type Distribution, type MaybeNum,
  type Overview, type Timeseries, type Top, type TracesTarget,
} from '../lib/dashboard';
import { formatCost, formatTokens } from '../lib/format';
import { Link, useRouter } from '../router';

const TABLE_LIMIT = 1000; // every group: the tables merge several answers by key
const CHART_GROUPS = 8;

interface Data {
  overview: Overview;
  outcomes: Timeseries;
  latency: Timeseries;
  errors: Timeseries;
  tokens: Timeseries;
  steps: Distribution;
  tools: BreakdownRow[];
  agents: BreakdownRow[];
  models: BreakdownRow[];
  sessions: Top;
  users: Top;
}

async function load(s: DashState, signal: AbortSignal): Promise<Data> {
  const win = rangeWindow(s.range, Date.now());
  const q = (params: Record<string, string | number | undefined> = {}) => metricsQuery(win, params);
  const interval = intervalFor(s.range);
  // Split by tool or model, only the tool or model calls (other spans have no such key).
  const kind = s.group === 'tool' ? 'tool' : s.group === 'model' ? 'llm' : undefined;
  const grouped = (metric: string) =>
    api.metricsTimeseries(q({ metric, group_by: s.group, interval, limit: CHART_GROUPS, kind }), signal);
  const top = (by: string, metric: string, extra: Record<string, string> = {}) =>
    api.metricsTop(q({ by, metric, limit: TABLE_LIMIT, ...extra }), signal);
  // One top per table: each item of a duration metric carries p50, p95 and p99.
  const [overview, outcomes, latency, errors, tokens, steps, t95, a95, models, sessions, users] = await Promise.all([
    api.metricsOverview(q(), signal),
    api.metricsTimeseries(q({ metric: 'count', group_by: 'status', interval }), signal),
    grouped('duration_p95'),
    grouped('error_rate'),
    grouped('tokens'),
    api.metricsDistribution(q({ metric: 'steps', bins: 24 }), signal),
    top('tool', 'duration_p95'),
    top('agent', 'duration_p95'),
    top('model', 'truncation_rate', { kind: 'llm' }),
    top('session', 'cost'),
    top('user', 'cost'),
  ]);
  return {
    overview, outcomes, latency, errors, tokens, steps, sessions, users,
    tools: mergeTop({ p95: t95 }),
    agents: mergeTop({ p95: a95 }),
    models: mergeTop({ extra: models }),
  };
}

export function DashboardPage() {
  const { location, navigate } = useRouter();
  const state = useMemo(() => dashFromSearch(location.search), [location.search]);
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);

  const update = useCallback((s: DashState) => navigate('/dashboard' + dashToSearch(s), { replace: true }), [navigate]);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    load(state, ctl.signal).then(
      (d) => { setData(d); setLoading(false); },
      (e) => {
        if ((e as Error).name === 'AbortError') return;
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [state, tick]);

  const o = data?.overview;
  const empty = !!o && o.runs.count === 0 && o.spans.count === 0;
  const link = (t: Omit<TracesTarget, 'range'>) => tracesLink({ range: state.range, ...t });

  return (
    <div className="page dashboard-page" data-testid="dashboard" aria-busy={loading}>
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="head-actions">
          <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
        </div>
      </div>
      <div className="filters">
        <div className="filter-row">
          <div className="seg" role="group" aria-label="Time range">
            {DASH_RANGES.map((r) => (
              <button key={r} type="button" className={state.range === r ? 'on' : ''} onClick={() => update({ ...state, range: r })}>
                {r}
              </button>
            ))}
          </div>
          <label className="picker">
            Group by{' '}
            <select aria-label="Group by" value={state.group} onChange={(e) => update({ ...state, group: e.target.value as DashGroup })}>
              {DASH_GROUPS.map((g) => <option key={g} value={g}>{g}</option>)}
            </select>
          </label>
          <span className="muted dash-status">{loading ? 'loading…' : ''}</span>
        </div>
      </div>
      {error ? <ErrorBox error={error} onRetry={() => setTick((t) => t + 1)} /> : null}
      {empty ? (
        <div className="empty" data-testid="dashboard-empty">
          <h2>No runs in the last {state.range}</h2>
          <p>Nothing was recorded in this range. Try a wider one, or send traces (the <Link to="/traces">Traces</Link> page
            shows the exporter settings and can load a demo run).</p>
          <div className="seg">
            {DASH_RANGES.filter((r) => r !== state.range).map((r) => (
              <button key={r} type="button" onClick={() => update({ ...state, range: r })}>{r}</button>
            ))}
          </div>
        </div>
      ) : !data ? (
        error ? null : <DashSkeleton />
      ) : (
        <Body d={data} state={state} link={link} />
      )}
    </div>
  );
}

// The page's shape while the first answers load: the same tiles and panels, so nothing
// moves when they arrive.
function DashSkeleton() {
  return (
    <div aria-hidden>
      <div className="tiles">
        {Array.from({ length: 11 }, (_, i) => (
          <div key={i} className="tile"><div className="tile-k">&nbsp;</div><div className="tile-v">—</div><div className="tile-sub">&nbsp;</div></div>
        ))}
      </div>
      {[4, 6].map((n) => (
        <div key={n} className="dash-grid">
          {Array.from({ length: n }, (_, i) => (
            <section key={i} className="panel"><div className="panel-head"><h2>&nbsp;</h2></div><div className="panel-empty">loading…</div></section>
          ))}
        </div>
      ))}
    </div>
  );
}

function Tile({ k, v, sub, to, bad, testId }: { k: string; v: string; sub?: string; to?: string; bad?: boolean; testId: string }) {
  const body = (
    <>
      <div className="tile-k">{k}</div>
      <div className={bad ? 'tile-v bad' : 'tile-v'} data-testid={`${testId}-value`}>{v}</div>
      <div className="tile-sub">{sub ?? '\u00a0'}</div>
    </>
  );
  return to ? (
    <Link to={to} className="tile link-tile" data-testid={testId} title="Open these traces">{body}</Link>
  ) : (
    <div className="tile" data-testid={testId}>{body}</div>
  );
}

const fmtCount = (n: number) => (n >= 1000 ? formatTokens(n) : String(+n.toFixed(2)));
const fmtRate = (r: number) => formatRate(r);
const fmtMs = (v: number) => formatMs(v);
const fmtTokens = (v: number) => formatTokens(v);

function Body({ d, state, link }: { d: Data; state: DashState; link: (t: Omit<TracesTarget, 'range'>) => string }) {
  const { navigate } = useRouter();
  const o = d.overview;
  const r = o.runs;
  const s = o.spans;
  const intervalMs = d.outcomes.interval_ms;
  const bucketLink = (xs: number[], i: number, extra: Omit<TracesTarget, 'range' | 'bucket'> = {}) =>
    tracesLink({ bucket: { startMs: xs[i] * 1000, endMs: xs[i] * 1000 + intervalMs }, ...extra });
  // A grouped chart's point: the bucket, narrowed to the group of the series clicked.
  const groupBucket = (ts: Timeseries, chart: { xs: number[]; index: number[] }, extra: Omit<TracesTarget, 'range' | 'bucket'> = {}) =>
    (i: number, k: number | null) => {
      const g = k === null ? null : ts.series[chart.index[k]]?.group;
      navigate(bucketLink(chart.xs, i, g ? { ...extra, text: { [GROUP_FILTER[state.group]]: g } } : extra));
    };
  const OUTCOME_STATUS = ['ok', 'error', 'interrupt'] as const;

  const outcome = useMemo(() => {
    const x = outcomeSeries(d.outcomes);
    const series: ChartSeries[] = [
      { label: 'succeeded', values: x.ok, color: 'var(--ok)' },
      { label: 'failed', values: x.error, color: 'var(--err)' },
      { label: 'interrupted', values: x.interrupt, color: 'var(--int)' },
    ];
    return { xs: x.xs, series };
  }, [d.outcomes]);
  const grouped = (ts: Timeseries) => {
    const a = alignSeries(ts);
    return { xs: a.xs, index: a.index, series: a.labels.map((label, i) => ({ label, values: a.ys[i], color: PALETTE[i % PALETTE.length] })) };
  };
  const latency = useMemo(() => grouped(d.latency), [d.latency]);
  const errors = useMemo(() => grouped(d.errors), [d.errors]);
  const tokens = useMemo(() => grouped(d.tokens), [d.tokens]);
  const more = (ts: Timeseries) => (ts.groups > ts.series.length ? ` (the busiest ${ts.series.length} of ${ts.groups})` : '');
  const bucketWord = intervalLabel(intervalMs);

  return (
    <>
      <div className="tiles" data-testid="tiles">
        <Tile testId="tile-runs" k="Runs" v={String(r.count)} sub={`${r.ok} succeeded · ${r.errors} failed`} to={link({})} />
        <Tile testId="tile-success" k="Success rate" v={formatRate(r.success_rate)} sub={`${r.errors} failed`} to={link({ status: 'error' })} bad={(r.error_rate ?? 0) > 0} />
        <Tile testId="tile-interrupts" k="Interrupt rate" v={formatRate(r.interrupt_rate)} sub={`${r.interrupts} interrupted runs`} to={link({ status: 'interrupt' })} />
        <Tile testId="tile-resumes" k="Resume rate" v={resumeTile(r).v} sub={resumeTile(r).sub} to={link({ status: 'interrupt' })} />
        <Tile testId="tile-latency" k="Run latency p50 / p95" v={`${formatMs(r.duration_ms.p50)} / ${formatMs(r.duration_ms.p95)}`} sub={`p99 ${formatMs(r.duration_ms.p99)}`} />
        <Tile testId="tile-cost" k="Cost per run (median)" v={formatCost(r.cost_per_run_usd.p50)} sub={`mean ${formatCost(r.cost_per_run_usd.mean)} · p95 ${formatCost(r.cost_per_run_usd.p95)} · total ${formatCost(r.cost_usd)}`} />
        <Tile testId="tile-steps" k="Steps per run (median)" v={num(r.steps.p50)} sub={`p95 ${num(r.steps.p95)} · max ${num(r.steps.max)}`} />
        <Tile testId="tile-spans" k="Spans" v={String(s.count)} sub={`${s.errors} failed spans`} />
        <Tile testId="tile-tool-errors" k="Tool error rate" v={formatRate(s.tool_error_rate)} sub={`${s.tool_errors} of ${s.tool_calls} tool calls`} bad={s.tool_errors > 0} />
        <Tile testId="tile-llm-errors" k="Model error rate" v={formatRate(s.llm_error_rate)} sub={`${s.llm_errors} of ${s.llm_calls} model calls`} bad={s.llm_errors > 0} />
        <Tile testId="tile-truncation" k="Truncation rate" v={formatRate(s.truncation_rate)} sub={`${s.truncated} stopped at the length limit`} />
        <Tile testId="tile-tokens" k="Tokens in / out" v={`${formatTokens(r.input_tokens)} / ${formatTokens(r.output_tokens)}`} sub={`${formatTokens(s.cache_read_tokens)} cache read · ${formatTokens(s.reasoning_tokens)} reasoning`} />
      </div>

      <div className="dash-grid">
        <Panel title={`Runs per ${bucketWord}`} note="succeeded / failed / interrupted">
          <TimeChart testId="chart-outcomes" label="Runs per bucket by outcome" xs={outcome.xs} series={outcome.series} stacked
            yFormat={fmtCount} intervalMs={intervalMs} onBucket={(i, k) => navigate(bucketLink(outcome.xs, i, k === null ? {} : { status: OUTCOME_STATUS[k] }))} />
        </Panel>
        <Panel title={`p95 latency by ${state.group}${more(d.latency)}`} note={d.latency.level}>
          <ChartOrEmpty ts={d.latency}>
            <TimeChart testId="chart-latency" label={`p95 latency by ${state.group}`} xs={latency.xs} series={latency.series}
              yFormat={fmtMs} intervalMs={intervalMs} onBucket={groupBucket(d.latency, latency)} />
          </ChartOrEmpty>
        </Panel>
        <Panel title={`Error rate by ${state.group}${more(d.errors)}`} note={d.errors.level}>
          <ChartOrEmpty ts={d.errors}>
            <TimeChart testId="chart-errors" label={`Error rate by ${state.group}`} xs={errors.xs} series={errors.series}
              yFormat={fmtRate} intervalMs={intervalMs} onBucket={groupBucket(d.errors, errors, { status: 'error' })} />
          </ChartOrEmpty>
        </Panel>
        <Panel title={`Tokens by ${state.group}${more(d.tokens)}`} note="input + output">
          <ChartOrEmpty ts={d.tokens}>
            <TimeChart testId="chart-tokens" label={`Tokens by ${state.group}`} xs={tokens.xs} series={tokens.series}
              yFormat={fmtTokens} intervalMs={intervalMs} onBucket={groupBucket(d.tokens, tokens)} />
          </ChartOrEmpty>
        </Panel>
      </div>

      <div className="dash-grid">
        <Panel title="Tools" note="per call: error rate and latency">
          <Breakdown testId="tools-table" rows={d.tools} what="tool" unit="Calls"
            nameLink={(k) => link({ text: { tool: k } })} errLink={(k) => link({ status: 'error', text: { tool: k } })} />
        </Panel>
        <Panel title="Agents" note="per run: error rate, latency and cost">
          <Breakdown testId="agents-table" rows={d.agents} what="agent" unit="Runs" cost
            nameLink={(k) => link({ text: { agent: k } })} errLink={(k) => link({ status: 'error', text: { agent: k } })} />
        </Panel>
        <Panel title="Models" note="per model call: errors, truncation (finish reason length), tokens">
          <ModelTable rows={d.models} link={link} />
        </Panel>
        <Panel title="Steps per run" note={`median ${num(r.steps.p50)} · p95 ${num(r.steps.p95)} · max ${num(r.steps.max)}`}>
          <Histogram d={d.steps} />
        </Panel>
        <Panel title="Cost per session" note={costNote(d.sessions, 'sessions')}>
          <CostTable testId="sessions-cost" top={d.sessions} label="Session" link={(k) => link({ text: { session_id: k } })} />
        </Panel>
        <Panel title="Cost per user" note={costNote(d.users, 'users')}>
          <CostTable testId="users-cost" top={d.users} label="User" link={(k) => link({ text: { user_id: k } })} />
        </Panel>
      </div>
      <p className="muted dash-foot">Runs are traces, spans single calls. Every number and bucket links to the traces it counts.</p>
    </>
  );
}

function num(v: MaybeNum): string {
  return v === null || v === undefined ? '—' : String(+v.toFixed(1));
}

function intervalLabel(ms: number): string {
  if (ms === 3600e3) return 'hour';
  if (ms === 86400e3) return 'day';
  if (ms % 3600e3 === 0) return `${ms / 3600e3} hours`;
  if (ms % 60e3 === 0) return `${ms / 60e3} minutes`;
  return `${ms / 1000} s`;
}

function costNote(t: Top, what: string): string {
  // The server's median covers every group; an older server's answer, only those listed.
  if (t.median !== undefined) return t.groups > 0 ? `median ${formatCost(t.median)} over ${t.groups} ${what}` : `no ${what}`;
  const keyed = t.items.filter((i) => i.key);
  const m = median(keyed.map((i) => i.value));
  const partial = t.groups > t.items.length ? ` of the top ${t.items.length}` : '';
  return keyed.length ? `median ${formatCost(m)} over ${keyed.length} ${what}${partial}` : `no ${what}`;
}

function Panel({ title, note, children }: { title: string; note?: string; children: React.ReactNode }) {
  return (
    <section className="panel">
      <div className="panel-head"><h2>{title}</h2>{note && <span className="muted">{note}</span>}</div>
      {children}
    </section>
  );
}

function ChartOrEmpty({ ts, children }: { ts: Timeseries; children: React.ReactNode }) {
  return hasPoints(ts) ? <>{children}</> : <div className="panel-empty">Nothing in this range</div>;
}

function Breakdown({ rows, what, unit, cost, nameLink, errLink, testId }: {
  rows: BreakdownRow[]; what: string; unit: string; cost?: boolean; testId: string;
  nameLink: (k: string) => string; errLink: (k: string) => string;
}) {
  if (rows.length === 0) return <div className="panel-empty">No {what} in this range</div>;
  return (
    <div className="panel-table">
      <table className="dash-table" data-testid={testId}>
        <thead>
          <tr>
            <th>{what[0].toUpperCase() + what.slice(1)}</th><th className="num">{unit}</th><th className="num">Error rate</th>
            <th className="num">p50</th><th className="num">p95</th><th className="num">p99</th>
            {cost && <th className="num">Cost</th>}{cost && <th className="num">Median / run</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-key={r.key}>
              <td className="key-cell"><Link to={nameLink(r.key)} title={`Traces with ${what} ${r.key}`}>{r.key}</Link></td>
              <td className="num">{r.count}</td>
              <td className="num">
                <Link to={errLink(r.key)} className={r.errors > 0 ? 'rate bad' : 'rate'} data-testid="error-rate"
                  title={`Failed traces with ${what} ${r.key}`}>{formatRate(r.errorRate)}</Link>
                <span className="muted"> ({r.errors})</span>
              </td>
              <td className="num">{formatMs(r.p50)}</td>
              <td className="num">{formatMs(r.p95)}</td>
              <td className="num">{formatMs(r.p99)}</td>
              {cost && <td className="num">{formatCost(r.costUsd)}</td>}
              {cost && <td className="num">{formatCost(r.medianCostUsd)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ModelTable({ rows, link }: { rows: BreakdownRow[]; link: (t: Omit<TracesTarget, 'range'>) => string }) {
  if (rows.length === 0) return <div className="panel-empty">No model calls in this range</div>;
  return (
    <div className="panel-table">
      <table className="dash-table" data-testid="models-table">
        <thead>
          <tr><th>Model</th><th className="num">Calls</th><th className="num">Error rate</th><th className="num">Truncated</th>
            <th className="num">Tokens in</th><th className="num">Tokens out</th><th className="num">Cost</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-key={r.key}>
              <td className="key-cell"><Link to={link({ text: { model: r.key } })}>{r.key}</Link></td>
              <td className="num">{r.count}</td>
              <td className="num"><Link to={link({ status: 'error', text: { model: r.key } })} className={r.errors > 0 ? 'rate bad' : 'rate'}>{formatRate(r.errorRate)}</Link></td>
              <td className="num">{formatRate(r.extra)}</td>
              <td className="num">{formatTokens(r.inputTokens)}</td>
              <td className="num">{formatTokens(r.outputTokens)}</td>
              <td className="num">{formatCost(r.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CostTable({ top, label, link, testId }: { top: Top; label: string; link: (k: string) => string; testId: string }) {
  const items = top.items.filter((i) => i.key).slice(0, 10);
  if (items.length === 0) return <div className="panel-empty">No {label.toLowerCase()}s in this range</div>;
  return (
    <div className="panel-table">
      <table className="dash-table" data-testid={testId}>
        <thead><tr><th>{label}</th><th className="num">Runs</th><th className="num">Cost</th><th className="num">Median / run</th></tr></thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.key}>
              <td className="key-cell"><Link to={link(i.key)}>{i.key}</Link></td>
              <td className="num">{i.count}</td>
              <td className="num">{formatCost(i.cost_usd)}</td>
              <td className="num">{formatCost(i.median_cost_usd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Histogram({ d }: { d: Distribution }) {
  const bars = histogramBars(d);
  if (bars.length === 0) return <div className="panel-empty">No runs in this range</div>;
  return (
    <div className="histogram" data-testid="steps-histogram" role="img" aria-label="Distribution of steps per run">
      {bars.map((b, i) => (
        <div key={i} className="hbar" title={`${b.label} spans: ${b.count} runs`}>
          <div className="hbar-area">
            <span className="hbar-count" style={{ bottom: `${b.height * 100}%` }}>{b.count}</span>
            <div className="hbar-fill" style={{ height: `${Math.max(1, b.height * 100)}%` }} />
          </div>
          <span className="hbar-label">{b.label}</span>
        </div>
      ))}
    </div>
  );
}
