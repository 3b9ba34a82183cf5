// Waterfall timeline layout: where each span's bar sits on the trace's time axis,
// and the axis ticks. Positions are fractions of the width (0..1), so the view can
// draw with percentages and never re-layout on resize.

export interface Bar {
  left: number;   // 0..1
  width: number;  // 0..1, at least minWidth so zero-length spans stay visible
}

export function barLayout(startNs: number, endNs: number, traceStart: number, traceEnd: number,
  minWidth = 0.002): Bar {
  const total = traceEnd - traceStart;
  if (!(total > 0)) return { left: 0, width: 1 };
  let left = (startNs - traceStart) / total;
  let right = (Math.max(endNs, startNs) - traceStart) / total;
  left = clamp01(left);
  right = clamp01(right);
  let width = Math.max(right - left, minWidth);
  if (left + width > 1) left = Math.max(0, 1 - width);
  width = Math.min(width, 1);
  return { left, width };
}

// Where an instant (an event, e.g. an exception) falls on the axis.
export function markerPosition(timeNs: number, traceStart: number, traceEnd: number): number {
  const total = traceEnd - traceStart;
  if (!(total > 0)) return 0;
  return clamp01((timeNs - traceStart) / total);
}

function clamp01(v: number): number {
  if (!Number.isFinite(v)) return 0;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

// "Nice" tick steps (1, 2, 5 × 10^k ns) giving at most `maxTicks` intervals.
export function niceStep(totalNs: number, maxTicks: number): number {
  if (!(totalNs > 0) || maxTicks < 1) return 1;
  const raw = totalNs / maxTicks;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

export interface Tick { offsetNs: number; at: number }

// Ticks from the trace start: offsets 0, step, 2·step… within the trace.
export function ticks(totalNs: number, maxTicks: number): Tick[] {
  if (!(totalNs > 0)) return [{ offsetNs: 0, at: 0 }];
  const step = niceStep(totalNs, maxTicks);
  const out: Tick[] = [];
  for (let t = 0; t <= totalNs + 1e-9 && out.length <= maxTicks + 1; t += step) {
    out.push({ offsetNs: t, at: t / totalNs });
  }
  return out;
}

// Bar colour class per span kind (see styles.css --kind-* variables).
export function kindColorVar(kind: string): string {
  switch (kind) {
    case 'agent': case 'llm': case 'tool': case 'retrieval': case 'embedding': case 'rerank':
    case 'guardrail': case 'evaluator': case 'memory': case 'chain': case 'human':
      return `var(--kind-${kind})`;
    default:
      return 'var(--kind-other)';
  }
}
