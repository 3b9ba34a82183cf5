// Cost rolled up over a trace's span tree: each span's own cost and its subtree's
// total, so the trace view shows where the money went (a loop of model calls under
// one agent step stands out at that step's row).
//
// Unknown is not zero: a model call (llm, embedding, rerank) without a cost is one the
// catalogue could not price, so every subtree holding one is `partial` (its total is
// a lower bound, shown as "≥ $0.12"), and a subtree whose only model calls are unpriced
// has no total at all ("?"). A subtree with no model call and no cost (a tool call)
// has nothing to show ("—"), which is different from a priced call that cost $0.
//
// The total sums every span's cost_usd, as the trace summary does; rollUpCosts walks
// the pre-order node list once, backwards, so a 20,000-span trace costs one pass.
import { formatCost } from './format';
import type { SpanTree, TreeSpan } from './tree';

export interface CostSpan extends TreeSpan {
  kind: string;
  cost_usd?: number | null;
}

export interface CostRollup {
  own: (number | null)[];  // the span's own cost_usd; null when it has none
  total: Float64Array;     // the sum of the known costs in the span's subtree
  priced: Uint32Array;     // spans of the subtree with a cost
  unpriced: Uint32Array;   // model calls of the subtree without a cost
}

const MODEL_KINDS = new Set(['llm', 'embedding', 'rerank']);

function costOf(s: CostSpan): number | null {
  return typeof s.cost_usd === 'number' && Number.isFinite(s.cost_usd) ? s.cost_usd : null;
}

export function rollUpCosts<S extends CostSpan>(tree: SpanTree<S>): CostRollup {
  const n = tree.nodes.length;
  const own: (number | null)[] = new Array(n);
  const total = new Float64Array(n);
  const priced = new Uint32Array(n);
  const unpriced = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const s = tree.nodes[i].span;
    const c = costOf(s);
    own[i] = c;
    if (c !== null) {
      total[i] = c;
      priced[i] = 1;
    } else if (MODEL_KINDS.has(s.kind)) {
      unpriced[i] = 1;
    }
  }
  // Children come after their parent in pre-order: walking backwards, every child is
  // complete before it is added to its parent.
  for (let i = n - 1; i >= 0; i--) {
    const p = tree.nodes[i].parent;
    if (p < 0) continue;
    total[p] += total[i];
    priced[p] += priced[i];
    unpriced[p] += unpriced[i];
  }
  return { own, total, priced, unpriced };
}

export type SubtreeCostState = 'none' | 'known' | 'partial' | 'unknown';

// What a subtree's total can say: nothing to price, a known total, a lower bound (some
// model calls unpriced), or unknown (only unpriced model calls).
export function subtreeState(r: CostRollup, i: number): SubtreeCostState {
  if (r.unpriced[i] > 0) return r.priced[i] > 0 ? 'partial' : 'unknown';
  return r.priced[i] > 0 ? 'known' : 'none';
}

// The subtree total as the trace view shows it: "—", "$0.12", "≥ $0.12" or "?".
export function formatSubtreeCost(r: CostRollup, i: number): string {
  switch (subtreeState(r, i)) {
    case 'none': return '—';
    case 'unknown': return '?';
    case 'partial': return `≥ ${formatCost(r.total[i])}`;
    default: return formatCost(r.total[i]);
  }
}

// A tooltip saying how the subtree total was made.
export function subtreeCostTitle(r: CostRollup, i: number): string {
  const calls = (k: number) => `${k} model call${k === 1 ? '' : 's'}`;
  switch (subtreeState(r, i)) {
    case 'none': return 'no cost in this subtree';
    case 'unknown': return `${calls(r.unpriced[i])} without a price: cost unknown`;
    case 'partial':
      return `at least ${formatCost(r.total[i])}: ${calls(r.unpriced[i])} without a price are not counted`;
    default: return `${formatCost(r.total[i])} over ${r.priced[i]} priced span${r.priced[i] === 1 ? '' : 's'}`;
  }
}

// Per-turn costs of a session, in order: each turn's cost and the running total. A
// turn's cost is partial when some of its model calls have no price (`unpriced`, known
// once its spans are loaded), and unknown when it has model calls but no cost at all;
// from such a turn on the running total is a lower bound (`partial`). A turn without
// model calls and without a cost adds nothing.
export interface TurnCost {
  turn: number | null;   // the turn's cost; null when it has none
  unknown: boolean;      // model calls but no cost
  turnPartial: boolean;  // a cost, but some model calls without a price
  sum: number;           // the known costs of the turns so far
  partial: boolean;      // some turn so far had an unknown or partial cost
}

export interface TurnCostInput {
  cost_usd: number | null | undefined;  // the trace summary's (0 when no span has a cost)
  llm_calls: number;
  // From the turn's spans once loaded: spans with a cost, and model calls without one.
  priced?: number;
  unpriced?: number;
}

export function runningCosts(turns: readonly TurnCostInput[]): TurnCost[] {
  let sum = 0;
  let partial = false;
  return turns.map((t) => {
    const spansKnown = t.priced !== undefined && t.unpriced !== undefined;
    let turn = typeof t.cost_usd === 'number' && Number.isFinite(t.cost_usd) ? t.cost_usd : null;
    // A summary says 0 when no span has a cost; the spans tell that apart from $0.
    if (spansKnown && t.priced === 0) turn = null;
    const unknown = turn === null && (spansKnown ? (t.unpriced ?? 0) > 0 : t.llm_calls > 0);
    const turnPartial = turn !== null && (t.unpriced ?? 0) > 0;
    if (turn !== null) sum += turn;
    partial = partial || unknown || turnPartial;
    return { turn, unknown, turnPartial, sum, partial };
  });
}

// Spans that carry a cost.
export function pricedSpans(spans: readonly { cost_usd?: number | null }[]): number {
  let n = 0;
  for (const s of spans) if (typeof s.cost_usd === 'number' && Number.isFinite(s.cost_usd)) n++;
  return n;
}

// Model calls (llm, embedding, rerank) among spans that carry no cost.
export function unpricedCalls(spans: readonly { kind: string; cost_usd?: number | null }[]): number {
  let n = 0;
  for (const s of spans) if (MODEL_KINDS.has(s.kind) && !(typeof s.cost_usd === 'number' && Number.isFinite(s.cost_usd))) n++;
  return n;
}

// A session turn's cost cell: "$0.12", "≥ $0.12" (partial), "?" (unknown) or "—" (none).
export function formatTurnCost(c: TurnCost): string {
  if (c.turn !== null) return `${c.turnPartial ? '≥ ' : ''}${formatCost(c.turn)}`;
  return c.unknown ? '?' : '—';
}

// The running total after a turn: "$0.40", or "≥ $0.40" once a turn was not fully priced.
export function formatRunningCost(c: TurnCost): string {
  return `${c.partial ? '≥ ' : ''}${formatCost(c.sum)}`;
}
