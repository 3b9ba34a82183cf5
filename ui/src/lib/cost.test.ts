import { describe, expect, it } from 'vitest';
import {
  formatRunningCost, formatSubtreeCost, formatTurnCost, rollUpCosts, runningCosts, subtreeCostTitle, subtreeState,
  pricedSpans, unpricedCalls,
} from './cost';
import { span } from './testdata';
import { buildTree } from './tree';

// root (agent)
//   plan (agent)
//     llm1 $0.01
//     llm2 $0.02
//   act (agent)
//     tool (no cost)
//     llm3 unpriced
//   other (agent)
//     tool2 (no cost)
//   free (llm, priced at $0)
function trace() {
  return buildTree([
    span('root', null, 0, 100, { kind: 'agent' }),
    span('plan', 'root', 1, 30, { kind: 'agent' }),
    span('llm1', 'plan', 2, 10, { kind: 'llm', cost_usd: 0.01 }),
    span('llm2', 'plan', 11, 20, { kind: 'llm', cost_usd: 0.02 }),
    span('act', 'root', 31, 60, { kind: 'agent' }),
    span('tool', 'act', 32, 40, { kind: 'tool' }),
    span('llm3', 'act', 41, 50, { kind: 'llm', cost_usd: null }),
    span('other', 'root', 61, 70, { kind: 'agent' }),
    span('tool2', 'other', 62, 69, { kind: 'tool' }),
    span('free', 'root', 71, 80, { kind: 'llm', cost_usd: 0 }),
  ]);
}

describe('rollUpCosts', () => {
  const tree = trace();
  const r = rollUpCosts(tree);
  const at = (id: string) => tree.index.get(id)!;

  it('sums each subtree over its children', () => {
    expect(r.total[at('plan')]).toBeCloseTo(0.03, 12);
    expect(r.total[at('root')]).toBeCloseTo(0.03, 12);
    expect(r.own[at('llm1')]).toBe(0.01);
    expect(r.own[at('root')]).toBeNull();
    expect(r.priced[at('root')]).toBe(3);  // llm1, llm2 and the $0 call
  });

  it('keeps unknown apart from zero', () => {
    expect(subtreeState(r, at('plan'))).toBe('known');
    expect(subtreeState(r, at('act'))).toBe('unknown');    // only an unpriced model call
    expect(subtreeState(r, at('root'))).toBe('partial');   // priced and unpriced
    expect(subtreeState(r, at('other'))).toBe('none');     // tools only: nothing to price
    expect(subtreeState(r, at('free'))).toBe('known');     // priced at $0 is a cost
    expect(formatSubtreeCost(r, at('plan'))).toBe('$0.03');
    expect(formatSubtreeCost(r, at('act'))).toBe('?');
    expect(formatSubtreeCost(r, at('root'))).toBe('≥ $0.03');
    expect(formatSubtreeCost(r, at('other'))).toBe('—');
    expect(formatSubtreeCost(r, at('free'))).toBe('$0');
    expect(subtreeCostTitle(r, at('root'))).toContain('1 model call without a price');
    expect(subtreeCostTitle(r, at('act'))).toContain('cost unknown');
  });

  it('counts costs on non-model spans too, as the trace summary does', () => {
    const t = buildTree([
      span('root', null, 0, 10, { kind: 'agent', cost_usd: 0.5 }),
      span('c', 'root', 1, 2, { kind: 'chain', cost_usd: 0.25 }),
    ]);
    const rr = rollUpCosts(t);
    expect(rr.total[0]).toBeCloseTo(0.75, 12);
    expect(subtreeState(rr, 0)).toBe('known');
  });

  it('rolls up a 20,000-deep chain in one pass', () => {
    const chain = Array.from({ length: 20000 }, (_, i) =>
      span(`s${i}`, i ? `s${i - 1}` : null, i, 40000 - i, { kind: 'llm', cost_usd: i % 2 ? 0.001 : null }));
    const rr = rollUpCosts(buildTree(chain));
    expect(rr.total[0]).toBeCloseTo(10, 9);
    expect(rr.priced[0]).toBe(10000);
    expect(rr.unpriced[0]).toBe(10000);
    expect(subtreeState(rr, 19999)).toBe('known');  // the last span (odd index) is priced
  });

  it('handles an empty tree', () => {
    const rr = rollUpCosts(buildTree([]));
    expect(rr.total.length).toBe(0);
  });
});

describe('runningCosts', () => {
  it('adds each turn and marks the total partial from an unpriced turn on', () => {
    const c = runningCosts([
      { cost_usd: 0.1, llm_calls: 2 },
      { cost_usd: null, llm_calls: 0 },   // no model call: adds nothing, stays exact
      { cost_usd: null, llm_calls: 1 },   // model calls, no cost: unknown
      { cost_usd: 0.25, llm_calls: 3 },
    ]);
    expect(c.map(formatTurnCost)).toEqual(['$0.1', '—', '?', '$0.25']);
    expect(c.map((x) => x.partial)).toEqual([false, false, true, true]);
    expect(c[3].sum).toBeCloseTo(0.35, 12);
    expect(c.map(formatRunningCost)).toEqual(['$0.1', '$0.1', '≥ $0.1', '≥ $0.35']);
  });

  it('marks a priced turn with unpriced model calls as a lower bound', () => {
    const c = runningCosts([
      { cost_usd: 0.03, llm_calls: 3, priced: 2, unpriced: 1 }, { cost_usd: 0.02, llm_calls: 1, priced: 1, unpriced: 0 },
    ]);
    expect(c.map(formatTurnCost)).toEqual(['≥ $0.03', '$0.02']);
    expect(c.map(formatRunningCost)).toEqual(['≥ $0.03', '≥ $0.05']);
  });

  it('counts unpriced model calls, not tools or zero-cost calls', () => {
    expect(unpricedCalls([
      { kind: 'llm', cost_usd: null }, { kind: 'embedding' }, { kind: 'rerank', cost_usd: Number.NaN },
      { kind: 'llm', cost_usd: 0 }, { kind: 'tool', cost_usd: null }, { kind: 'agent' },
    ])).toBe(3);
  });

  it('tells a summary\'s 0 (no cost at all) from $0 once the spans are known', () => {
    const c = runningCosts([
      { cost_usd: 0, llm_calls: 1, priced: 0, unpriced: 1 },  // one unpriced call
      { cost_usd: 0, llm_calls: 0, priced: 0, unpriced: 0 },  // a tool-only turn
      { cost_usd: 0, llm_calls: 1, priced: 1, unpriced: 0 },  // priced at $0
    ]);
    expect(c.map(formatTurnCost)).toEqual(['?', '—', '$0']);
    expect(c[2].partial).toBe(true);  // the first turn's cost is unknown
    expect(pricedSpans([{ cost_usd: 0 }, { cost_usd: null }, {}, { cost_usd: 0.5 }])).toBe(2);
  });

  it('treats a $0 turn as known', () => {
    const c = runningCosts([{ cost_usd: 0, llm_calls: 1 }]);
    expect(formatTurnCost(c[0])).toBe('$0');
    expect(c[0].partial).toBe(false);
  });
});
