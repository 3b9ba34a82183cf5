import { describe, expect, it } from 'vitest';
import { barLayout, kindColorVar, markerPosition, niceStep, ticks } from './waterfall';

describe('waterfall layout', () => {
  it.each([
    // start, end, traceStart, traceEnd, left, width
    [0, 100, 0, 100, 0, 1],
    [25, 75, 0, 100, 0.25, 0.5],
    [50, 50, 0, 100, 0.5, 0.002],       // zero-length spans stay visible
    [100, 100, 0, 100, 0.998, 0.002],   // and never overflow the right edge
    [-10, 50, 0, 100, 0, 0.5],          // clock skew before the trace start is clamped
    [90, 200, 0, 100, 0.9, 0.1],
    [5, 6, 5, 5, 0, 1],                 // an instant trace
  ])('span %d..%d in %d..%d', (s, e, ts, te, left, width) => {
    const b = barLayout(s, e, ts, te);
    expect(b.left).toBeCloseTo(left, 6);
    expect(b.width).toBeCloseTo(width, 6);
  });

  it('places markers', () => {
    expect(markerPosition(50, 0, 200)).toBe(0.25);
    expect(markerPosition(500, 0, 200)).toBe(1);
    expect(markerPosition(NaN, 0, 200)).toBe(0);
  });

  it('chooses 1-2-5 tick steps', () => {
    expect(niceStep(1000, 5)).toBe(200);
    expect(niceStep(6.24e9, 6)).toBe(2e9);
    expect(niceStep(7, 10)).toBe(1);
    const t = ticks(6.24e9, 6);
    expect(t.map((x) => x.offsetNs)).toEqual([0, 2e9, 4e9, 6e9]);
    expect(t[1].at).toBeCloseTo(2 / 6.24, 6);
    expect(ticks(0, 6)).toEqual([{ offsetNs: 0, at: 0 }]);
  });

  it('colours unknown kinds as other', () => {
    expect(kindColorVar('llm')).toBe('var(--kind-llm)');
    expect(kindColorVar('weird')).toBe('var(--kind-other)');
  });
});
