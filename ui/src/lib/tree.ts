// The span tree of one trace, laid out for a virtualised view.
//
// buildTree puts spans in pre-order (parents before children, siblings by start time,
// then span id) and records for each node where its subtree ends, so that flattening
// the visible rows under a set of collapsed nodes costs O(visible rows), not O(spans):
// a 20,000-span trace re-flattens on every expand/collapse without a pause.
// Spans whose parent is absent (not arrived yet) or whose parent chain loops become
// extra roots after the real ones; duplicate span ids keep the first span.
//
// treeFromServerOrder does the same in one pass for spans the trace endpoint already
// sent in tree order with their depth (both views do), and declines (null) when the
// order is not a consistent pre-order, so callers fall back to buildTree.
//
// Both work on any span shape with ids, times and status: the full Span or the light
// trace view's LightSpan.
import type { Status } from './types';

export interface TreeSpan {
  span_id: string;
  parent_span_id: string | null;
  start_ns: number;
  end_ns: number;
  status: Status;
  depth?: number;
  parent_missing?: boolean;
}

export interface TreeNode<S extends TreeSpan = TreeSpan> {
  span: S;
  depth: number;
  parent: number;      // index of the parent node, -1 for roots
  end: number;         // exclusive end of this node's subtree in `nodes`
  childCount: number;
  seq: number;         // 1-based position in start-time order: the execution order
  orphan: boolean;     // a root only because its parent is missing or loops
}

export interface SpanTree<S extends TreeSpan = TreeSpan> {
  nodes: TreeNode<S>[];              // pre-order
  index: Map<string, number>;        // span_id -> node index
  startNs: number;
  endNs: number;
  errors: number[];                  // node indices with status error, in pre-order
  interrupts: number[];              // node indices with status interrupt, in pre-order
}

function bySiblingOrder(a: TreeSpan, b: TreeSpan): number {
  if (a.start_ns !== b.start_ns) return a.start_ns - b.start_ns;
  return a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0;
}

export function buildTree<S extends TreeSpan>(input: readonly S[]): SpanTree<S> {
  // Unique spans by id (first wins).
  const spans: S[] = [];
  const seen = new Set<string>();
  for (const s of input) {
    if (seen.has(s.span_id)) continue;
    seen.add(s.span_id);
    spans.push(s);
  }
  const pos = new Map<string, number>();
  spans.forEach((s, i) => pos.set(s.span_id, i));
  const children: number[][] = spans.map(() => []);
  const roots: number[] = [];
  spans.forEach((s, i) => {
    const p = s.parent_span_id ? pos.get(s.parent_span_id) : undefined;
    if (p === undefined || p === i) roots.push(i);
    else children[p].push(i);
  });
  const cmp = (a: number, b: number) => bySiblingOrder(spans[a], spans[b]);
  for (const c of children) c.sort(cmp);
  // Real roots first (no parent id at all), then orphans; each group by start.
  const realRoots = roots.filter((i) => !spans[i].parent_span_id).sort(cmp);
  const orphanRoots = roots.filter((i) => spans[i].parent_span_id).sort(cmp);

  const nodes: TreeNode<S>[] = [];
  const index = new Map<string, number>();
  const visited: boolean[] = spans.map(() => false);
  const emit = (root: number, orphan: boolean) => {
    // Iterative DFS: deep agent loops must not overflow the JS stack.
    const stack: { span: number; depth: number; parent: number }[] = [{ span: root, depth: 0, parent: -1 }];
    const open: number[] = [];  // node indices whose subtree is still being emitted
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (visited[top.span]) continue;
      // Close every open node that is not an ancestor of this one.
      while (open.length > 0 && open[open.length - 1] !== top.parent) {
        nodes[open.pop()!].end = nodes.length;
      }
      visited[top.span] = true;
      const ni = nodes.length;
      nodes.push({
        span: spans[top.span], depth: top.depth, parent: top.parent, end: ni + 1,
        childCount: 0, seq: 0, orphan: orphan && top.parent === -1,
      });
      index.set(spans[top.span].span_id, ni);
      if (top.parent >= 0) nodes[top.parent].childCount++;
      open.push(ni);
      const kids = children[top.span];
      for (let k = kids.length - 1; k >= 0; --k) {
        if (!visited[kids[k]]) stack.push({ span: kids[k], depth: top.depth + 1, parent: ni });
      }
    }
    while (open.length > 0) nodes[open.pop()!].end = nodes.length;
  };
  for (const r of realRoots) emit(r, false);
  for (const r of orphanRoots) emit(r, true);
  // Spans on a parent cycle were reached from no root: each unvisited one (by start)
  // becomes an orphan root.
  const rest = spans.map((_, i) => i).filter((i) => !visited[i]).sort(cmp);
  for (const r of rest) if (!visited[r]) emit(r, true);
  return finishTree(nodes, index);
}

// The tree of spans that arrive in pre-order with their depth, as the trace endpoint
// sends them: one pass with a stack of open ancestors, no sorting of siblings. Null
// when the spans are not a consistent pre-order (a missing depth, a depth that jumps
// by more than one, a parent id that is not the open ancestor's, a repeated id, a
// root with a parent id not marked parent_missing).
export function treeFromServerOrder<S extends TreeSpan>(spans: readonly S[]): SpanTree<S> | null {
  const n = spans.length;
  const nodes: TreeNode<S>[] = new Array(n);
  const index = new Map<string, number>();
  const open: number[] = [];  // node indices of the current ancestor chain
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    const depth = s.depth;
    if (typeof depth !== 'number' || depth < 0 || depth > open.length || index.has(s.span_id)) return null;
    while (open.length > depth) nodes[open.pop()!].end = i;
    const parent = depth > 0 ? open[depth - 1] : -1;
    if (parent >= 0) {
      if (s.parent_span_id !== nodes[parent].span.span_id) return null;
      nodes[parent].childCount++;
    } else if (s.parent_span_id && !s.parent_missing) {
      return null;
    }
    nodes[i] = {
      span: s, depth, parent, end: i + 1, childCount: 0, seq: 0,
      orphan: parent < 0 && !!s.parent_missing,
    };
    index.set(s.span_id, i);
    open.push(i);
  }
  while (open.length > 0) nodes[open.pop()!].end = n;
  return finishTree(nodes, index);
}

// The tree of a trace endpoint's answer: the one-pass build when its order holds,
// else the sorting one.
export function treeOf<S extends TreeSpan>(spans: readonly S[]): SpanTree<S> {
  return treeFromServerOrder(spans) ?? buildTree(spans);
}

// Time span, error and interrupt lists, and execution order of a pre-order node list.
function finishTree<S extends TreeSpan>(nodes: TreeNode<S>[], index: Map<string, number>): SpanTree<S> {
  let startNs = Infinity;
  let endNs = -Infinity;
  const errors: number[] = [];
  const interrupts: number[] = [];
  const n = nodes.length;
  const starts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = nodes[i].span;
    starts[i] = s.start_ns;
    if (s.start_ns < startNs) startNs = s.start_ns;
    if (s.end_ns > endNs) endNs = s.end_ns;
    if (s.start_ns > endNs) endNs = s.start_ns;
    if (s.status === 'error') errors.push(i);
    else if (s.status === 'interrupt') interrupts.push(i);
  }
  // Execution order: by start, ties in tree order (a stable sort of the indices).
  // (A plain array: V8 sorts it with a comparator several times faster than a typed one.)
  const order: number[] = new Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => starts[a] - starts[b] || a - b);
  for (let k = 0; k < n; k++) nodes[order[k]].seq = k + 1;
  if (n === 0) { startNs = 0; endNs = 0; }
  return { nodes, index, startNs, endNs, errors, interrupts };
}

// Indices of the rows to show, in order, skipping the subtrees of collapsed nodes.
export function visibleRows(tree: SpanTree<TreeSpan>, collapsed: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const n = tree.nodes.length;
  for (let i = 0; i < n;) {
    out.push(i);
    i = collapsed.has(i) ? tree.nodes[i].end : i + 1;
  }
  return out;
}

// Ancestors of a node, nearest first.
export function ancestors(tree: SpanTree, i: number): number[] {
  const out: number[] = [];
  for (let p = tree.nodes[i]?.parent ?? -1; p >= 0; p = tree.nodes[p].parent) out.push(p);
  return out;
}

// The collapsed set with every ancestor of node i expanded, so i becomes visible.
export function reveal(tree: SpanTree, collapsed: ReadonlySet<number>, i: number): Set<number> {
  const next = new Set(collapsed);
  for (const a of ancestors(tree, i)) next.delete(a);
  return next;
}

// The first entry of `list` after `from` in pre-order, wrapping around; -1 if empty.
export function nextAfter(list: readonly number[], from: number): number {
  if (list.length === 0) return -1;
  for (const i of list) if (i > from) return i;
  return list[0];
}

// Collapsed set for a default view of big traces: nodes deeper than maxDepth that
// have children start collapsed, so the first screen shows the agent structure.
export function defaultCollapsed(tree: SpanTree, maxDepth: number): Set<number> {
  const out = new Set<number>();
  if (tree.nodes.length <= 500) return out;
  tree.nodes.forEach((n, i) => { if (n.depth >= maxDepth && n.childCount > 0) out.add(i); });
  return out;
}

// Keyboard movement in the visible rows: the row index after the key, and the
// collapsed set after it (left collapses or goes to the parent, right expands or goes
// to the first child), as tree views in file managers do.
export function keyMove(
  tree: SpanTree, rows: readonly number[], collapsed: ReadonlySet<number>, selected: number, key: string,
): { selected: number; collapsed: ReadonlySet<number> } {
  const pos = rows.indexOf(selected);
  const node = tree.nodes[selected];
  const hasKids = node !== undefined && node.childCount > 0;
  switch (key) {
    case 'ArrowDown':
      return { selected: pos < 0 ? rows[0] ?? -1 : rows[Math.min(rows.length - 1, pos + 1)], collapsed };
    case 'ArrowUp':
      return { selected: pos < 0 ? rows[0] ?? -1 : rows[Math.max(0, pos - 1)], collapsed };
    case 'Home':
      return { selected: rows[0] ?? -1, collapsed };
    case 'End':
      return { selected: rows[rows.length - 1] ?? -1, collapsed };
    case 'ArrowLeft':
      if (hasKids && !collapsed.has(selected)) {
        const next = new Set(collapsed);
        next.add(selected);
        return { selected, collapsed: next };
      }
      return { selected: node && node.parent >= 0 ? node.parent : selected, collapsed };
    case 'ArrowRight':
      if (hasKids && collapsed.has(selected)) {
        const next = new Set(collapsed);
        next.delete(selected);
        return { selected, collapsed: next };
      }
      return { selected: hasKids ? selected + 1 : selected, collapsed };
    default:
      return { selected, collapsed };
  }
}
