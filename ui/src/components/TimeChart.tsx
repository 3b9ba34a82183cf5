// A time-bucketed chart for the dashboard (uPlot): lines per series, or bars stacked
// bottom-up. Fixed height, colours read from the theme's CSS variables (redrawn when the
// theme switches), a readout line for the hovered bucket (its own fixed-height line, so
// nothing moves), and a click on a bucket calls onBucket with its index and the series
// under the pointer (the stacked segment clicked, or the line nearest the pointer), or
// null when the click is on no series (above a bar, away from every line).
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import type { MaybeNum } from '../lib/dashboard';

export interface ChartSeries {
  label: string;
  values: MaybeNum[];
  color: string; // a CSS colour or var(--name)
}

// CSS variables resolved against the document (uPlot draws on a canvas).
function resolve(color: string, style: CSSStyleDeclaration): string {
  const m = /^var\((--[\w-]+)\)$/.exec(color);
  return m ? style.getPropertyValue(m[1]).trim() || '#888' : color;
}

// Bumps when <html data-theme> changes.
export function useThemeVersion(): number {
  const [v, setV] = useState(0);
  useEffect(() => {
    const mo = new MutationObserver(() => setV((x) => x + 1));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);
  return v;
}

export const PALETTE = [
  'var(--kind-llm)', 'var(--kind-tool)', 'var(--kind-retrieval)', 'var(--kind-agent)', 'var(--kind-rerank)',
  'var(--kind-evaluator)', 'var(--kind-memory)', 'var(--kind-guardrail)',
];

export function TimeChart({
  xs, series, height = 160, stacked = false, yFormat, intervalMs, onBucket, testId, label,
}: {
  xs: number[];               // bucket starts, Unix seconds
  series: ChartSeries[];
  height?: number;
  stacked?: boolean;          // bars, each bucket's values stacked
  yFormat: (v: number) => string;
  intervalMs: number;
  onBucket?: (index: number, series: number | null) => void;
  testId?: string;
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const onBucketRef = useRef(onBucket);
  onBucketRef.current = onBucket;
  const [hover, setHover] = useState<number | null>(null);
  const theme = useThemeVersion();

  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const style = getComputedStyle(document.documentElement);
    const fg = style.getPropertyValue('--muted').trim() || '#888';
    const grid = style.getPropertyValue('--border').trim() || '#ddd';
    // Stacked bars: series i is drawn at the sum of series i..n-1, the first (tallest)
    // first, so each later one covers the lower part of the bar.
    const ys = stacked
      ? series.map((_, i) => xs.map((_x, j) => series.slice(i).reduce((a, s) => a + (s.values[j] ?? 0), 0)))
      : series.map((s) => s.values);
    const data = [xs, ...ys] as uPlot.AlignedData;
    const bars = uPlot.paths.bars!({ size: [0.7, 40], align: 0 });
    let focused: number | null = null; // a line series index (data order), from setSeries
    const opts: uPlot.Options = {
      width: host.clientWidth || 600,
      height,
      legend: { show: false },
      cursor: { points: { size: 6 }, drag: { x: false, y: false }, focus: { prox: stacked ? -1 : 24 } },
      focus: { alpha: stacked ? 1 : 0.35 },
      scales: {
        x: { time: true, range: (_u, min, max) => [min - (stacked ? intervalMs / 2000 : 0), max + (stacked ? intervalMs / 2000 : 0)] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 60,
          values: (_u, v) => v.map((x) => (x === null || x === undefined ? '' : yFormat(x))) },
      ],
      series: [
        {},
        ...series.map((s) => {
          const c = resolve(s.color, style);
          return stacked
            ? { label: s.label, stroke: c, fill: c, width: 0, paths: bars, points: { show: false } }
            : { label: s.label, stroke: c, width: 2, spanGaps: false, points: { show: true, size: 4, fill: c, stroke: c } };
        }),
      ],
      hooks: {
        setCursor: [(u) => setHover(u.cursor.idx ?? null)],
        setSeries: [(_u, idx, opts) => {
          const f = (opts as { focus?: boolean }).focus;
          if (f !== undefined) focused = f && idx ? idx - 1 : null;
        }],
        ready: [(u) => {
          u.over.style.cursor = onBucketRef.current ? 'pointer' : 'default';
          u.over.addEventListener('click', () => {
            const i = u.cursor.idx;
            if (i === null || i === undefined) return;
            let which: number | null = focused;
            if (stacked) {
              // The segment under the pointer: series k covers (ys[k+1], ys[k]].
              const v = u.posToVal(u.cursor.top ?? 0, 'y');
              which = null;
              for (let k = 0; k < ys.length; k++) if (v <= (ys[k][i] ?? 0) && (ys[k][i] ?? 0) > 0) which = k;
            }
            onBucketRef.current?.(i, which);
          });
        }],
      },
    };
    plot.current?.destroy();
    plot.current = xs.length > 0 ? new uPlot(opts, data, host) : null;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: host.clientWidth, height }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [xs, series, height, stacked, yFormat, intervalMs, theme]);

  const t = hover !== null ? xs[hover] : null;
  return (
    <div className="dash-chart" data-testid={testId}>
      <div className="chart-legend">
        {series.map((s) => (
          <span key={s.label} className="legend-item">
            <span className="legend-dot" style={{ background: s.color }} />
            {s.label}
            {hover !== null && <b>{s.values[hover] === null ? '—' : yFormat(s.values[hover] as number)}</b>}
          </span>
        ))}
        <span className="legend-time">
          {t !== null ? new Date(t * 1000).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : onBucket ? 'click a bar or point for its traces' : ''}
        </span>
      </div>
      <div ref={el} style={{ height }} aria-label={label} role="img" />
    </div>
  );
}
