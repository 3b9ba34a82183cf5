// Duration of the loaded traces over time (uPlot): a glance at slow and failing runs.
// Fixed height, so the table below never jumps when the chart appears.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { TraceSummary } from '../lib/types';

export function DurationChart({ traces }: { traces: TraceSummary[] }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const sorted = [...traces].sort((a, b) => a.start_ns - b.start_ns);
    const xs = sorted.map((t) => t.start_ns / 1e9);
    const ok = sorted.map((t) => (t.status === 'error' ? null : t.duration_ns / 1e6));
    const err = sorted.map((t) => (t.status === 'error' ? t.duration_ns / 1e6 : null));
    const data: uPlot.AlignedData = [xs, ok, err];
    const style = getComputedStyle(document.documentElement);
    const fg = style.getPropertyValue('--muted').trim() || '#888';
    const grid = style.getPropertyValue('--border').trim() || '#ddd';
    const opts: uPlot.Options = {
      width: host.clientWidth || 800,
      height: 110,
      legend: { show: false },
      cursor: { points: { size: 6 } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 56, values: (_u, v) => v.map((x) => (x === null || x === undefined ? '' : x >= 1000 ? `${+(x / 1000).toFixed(2)}s` : `${+x.toFixed(1)}ms`)) },
      ],
      series: [
        {},
        { label: 'duration', stroke: 'transparent', points: { show: true, size: 5, fill: '#3b82f6', stroke: '#3b82f6' }, paths: () => null },
        { label: 'error', stroke: 'transparent', points: { show: true, size: 6, fill: '#dc2626', stroke: '#dc2626' }, paths: () => null },
      ],
    };
    plot.current?.destroy();
    plot.current = xs.length > 0 ? new uPlot(opts, data, host) : null;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: host.clientWidth, height: 110 }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [traces]);
  return <div className="chart" ref={el} aria-label="Trace durations over time" />;
}
