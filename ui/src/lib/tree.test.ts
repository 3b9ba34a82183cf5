import { describe, expect, it } from 'vitest';
import { ancestors, buildTree, defaultCollapsed, keyMove, nextAfter, reveal, treeFromServerOrder, treeOf, visibleRows } from './tree';
import { span } from './testdata';
import type { Span } from './types';

const names = (tree: ReturnType<typeof buildTree>, rows: number[]) => rows.map((i) => tree.nodes[i].span.span_id);

describe('buildTree', () => {
  it('orders parents before children and siblings by start, whatever the input order', () => {
    const tree = buildTree([
      span('c2', 'root', 50, 60), span('g1', 'c1', 11, 12), span('root', null, 0, 100), span('c1', 'root', 10, 20),
    ]);
    expect(tree.nodes.map((n) => `${n.span.span_id}:${n.depth}`)).toEqual(['root:0', 'c1:1', 'g1:2', 'c2:1']);
    expect(tree.nodes.map((n) => n.end)).toEqual([4, 3, 3, 4]);
    expect(tree.nodes[0].childCount).toBe(2);
    expect(tree.startNs).toBe(0);
    expect(tree.endNs).toBe(100);
  });

  it('numbers spans in execution (start) order', () => {
    const tree = buildTree([span('root', null, 0, 100), span('late', 'root', 50, 60), span('early', 'root', 10, 20), span('deep', 'late', 55, 56)]);
    const seq = Object.fromEntries(tree.nodes.map((n) => [n.span.span_id, n.seq]));
    expect(seq).toEqual({ root: 1, early: 2, late: 3, deep: 4 });
  });

  it('puts spans with a missing parent after the real roots, marked orphan', () => {
    const tree = buildTree([span('o', 'missing', 1, 2), span('root', null, 5, 10)]);
    expect(tree.nodes.map((n) => [n.span.span_id, n.orphan])).toEqual([['root', false], ['o', true]]);
  });

  it('survives parent cycles, self-parents and duplicate ids', () => {
    const tree = buildTree([span('a', 'b', 1, 2), span('b', 'a', 3, 4), span('s', 's', 5, 6), span('a', null, 9, 9)]);
    expect(tree.nodes).toHaveLength(3);
    expect(new Set(tree.nodes.map((n) => n.span.span_id))).toEqual(new Set(['a', 'b', 's']));
    for (const n of tree.nodes) expect(n.end).toBeGreaterThan(tree.nodes.indexOf(n));
  });

  it('handles an empty trace and a 20,000-deep chain without recursion', () => {
    expect(buildTree([]).nodes).toHaveLength(0);
    const chain = Array.from({ length: 20000 }, (_, i) => span(`s${i}`, i ? `s${i - 1}` : null, i, 40000 - i));
    const tree = buildTree(chain);
    expect(tree.nodes[19999].depth).toBe(19999);
    expect(tree.nodes[0].end).toBe(20000);
  });

  it('lists errors and interrupts in tree order', () => {
    const tree = buildTree([
      span('root', null, 0, 10), span('e2', 'root', 5, 6, { status: 'error' }), span('e1', 'root', 1, 2, { status: 'error' }),
      span('i', 'e2', 5, 6, { status: 'interrupt' }),
    ]);
    expect(tree.errors.map((i) => tree.nodes[i].span.span_id)).toEqual(['e1', 'e2']);
    expect(tree.interrupts.map((i) => tree.nodes[i].span.span_id)).toEqual(['i']);
  });
});

// What the trace endpoint sends: buildTree's order with depth and parent_missing.
function serverOrder(spans: Span[]): Span[] {
  return buildTree(spans).nodes.map((n) => ({ ...n.span, depth: n.depth, parent_missing: n.orphan }));
}
const shape = (t: ReturnType<typeof buildTree>) =>
  t.nodes.map((n) => [n.span.span_id, n.depth, n.parent, n.end, n.childCount, n.seq, n.orphan]);

describe('treeFromServerOrder', () => {
  const mixed = [
    span('c2', 'root', 50, 60), span('g1', 'c1', 11, 12, { status: 'error' }), span('root', null, 0, 100),
    span('c1', 'root', 10, 20, { status: 'interrupt' }), span('o', 'missing', 1, 2), span('o1', 'o', 1, 3),
    span('root2', null, 200, 300),
  ];

  it('builds the same tree as buildTree from spans in tree order with depths, in one pass', () => {
    const sent = serverOrder(mixed);
    const fast = treeFromServerOrder(sent);
    expect(fast).not.toBeNull();
    const slow = buildTree(sent);
    expect(shape(fast!)).toEqual(shape(slow));
    expect([...fast!.index]).toEqual([...slow.index]);
    expect(fast!.errors).toEqual(slow.errors);
    expect(fast!.interrupts).toEqual(slow.interrupts);
    expect([fast!.startNs, fast!.endNs]).toEqual([0, 300]);
    expect(fast!.nodes.filter((n) => n.orphan).map((n) => n.span.span_id)).toEqual(['o']);
  });

  it('handles an empty trace and a 20,000-deep chain', () => {
    expect(treeFromServerOrder([])!.nodes).toHaveLength(0);
    const chain = Array.from({ length: 20000 }, (_, i) => ({ ...span(`s${i}`, i ? `s${i - 1}` : null, i, 40000 - i), depth: i }));
    const tree = treeFromServerOrder(chain)!;
    expect(tree.nodes[19999].depth).toBe(19999);
    expect(tree.nodes[0].end).toBe(20000);
    expect(tree.nodes[19998].childCount).toBe(1);
  });

  it('declines what is not a consistent tree order, and treeOf falls back to buildTree', () => {
    const sent = serverOrder(mixed);
    const broken: Span[][] = [
      sent.map(({ depth: _d, ...s }) => s as Span),                              // no depths
      sent.map((s, i) => (i === 1 ? { ...s, depth: 2 } : s)),                  // depth jumps
      sent.map((s, i) => (i === 1 ? { ...s, parent_span_id: 'c2' } : s)),      // wrong parent
      [...sent, sent[0]],                                                       // repeated id
      sent.map((s) => (s.span_id === 'o' ? { ...s, parent_missing: false } : s)), // unmarked orphan
      [...sent].reverse(),                                                      // children first
    ];
    for (const b of broken) {
      expect(treeFromServerOrder(b)).toBeNull();
      expect(shape(treeOf(b))).toEqual(shape(buildTree(b)));
    }
  });
});

describe('visible rows and navigation', () => {
  const tree = buildTree([
    span('root', null, 0, 100), span('a', 'root', 1, 50), span('a1', 'a', 2, 3), span('a2', 'a', 4, 5), span('b', 'root', 60, 70),
  ]);
  const idx = (id: string) => tree.index.get(id)!;

  it('skips collapsed subtrees', () => {
    expect(names(tree, visibleRows(tree, new Set()))).toEqual(['root', 'a', 'a1', 'a2', 'b']);
    expect(names(tree, visibleRows(tree, new Set([idx('a')])))).toEqual(['root', 'a', 'b']);
    expect(names(tree, visibleRows(tree, new Set([idx('root')])))).toEqual(['root']);
  });

  it('reveal expands every ancestor', () => {
    const c = reveal(tree, new Set([idx('root'), idx('a'), idx('b')]), idx('a2'));
    expect([...c]).toEqual([idx('b')]);
    expect(ancestors(tree, idx('a2'))).toEqual([idx('a'), idx('root')]);
  });

  it('nextAfter wraps around', () => {
    expect(nextAfter([2, 5], 0)).toBe(2);
    expect(nextAfter([2, 5], 2)).toBe(5);
    expect(nextAfter([2, 5], 5)).toBe(2);
    expect(nextAfter([], 1)).toBe(-1);
  });

  it('keys: arrows move, left collapses then goes to the parent, right expands then enters', () => {
    let collapsed: ReadonlySet<number> = new Set();
    const rows = () => visibleRows(tree, collapsed);
    let sel = idx('root');
    const press = (k: string) => {
      const r = keyMove(tree, rows(), collapsed, sel, k);
      sel = r.selected;
      collapsed = r.collapsed;
    };
    press('ArrowDown');
    expect(sel).toBe(idx('a'));
    press('ArrowLeft');
    expect(collapsed.has(idx('a'))).toBe(true);
    expect(sel).toBe(idx('a'));
    press('ArrowDown');
    expect(sel).toBe(idx('b'));
    press('ArrowUp');
    press('ArrowRight');
    expect(collapsed.has(idx('a'))).toBe(false);
    press('ArrowRight');
    expect(sel).toBe(idx('a1'));
    press('ArrowLeft');
    expect(sel).toBe(idx('a'));
    press('End');
    expect(sel).toBe(idx('b'));
    press('Home');
    expect(sel).toBe(idx('root'));
    press('ArrowUp');
    expect(sel).toBe(idx('root'));
  });

  it('big traces start with deep subtrees collapsed; small ones fully open', () => {
    expect(defaultCollapsed(tree, 1).size).toBe(0);
    const big = buildTree([span('r', null, 0, 1), ...Array.from({ length: 600 }, (_, i) => span(`c${i}`, i % 2 ? `c${i - 1}` : 'r', i, i + 1))]);
    const c = defaultCollapsed(big, 1);
    expect(c.size).toBe(300);
    expect(visibleRows(big, c)).toHaveLength(301);
  });
});
