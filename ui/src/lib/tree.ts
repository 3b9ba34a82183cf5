// The span tree of one trace, laid out for a virtualised view.
//
// buildTree puts spans in pre-order (parents before children, siblings by start time,
// then span id) and records for each node where its subtree ends, so that flattening
// the visible rows under a set of collapsed nodes costs O(visible rows), not O(spans):
// a 20,000-span trace re-flattens on every expand/collapse without a pause.
// Spans whose parent is absent (not arrived yet) or whose parent chain loops become
// extra roots after the real ones; duplicate span ids keep the first span.
import type { Span } from './types';

export interface TreeNode {
  span: Span;
  depth: number;
  parent: number;      // index of the parent node, -1 for roots
  end: number;         // exclusive end of this node's subtree in `nodes`
  childCount: number;
  seq: number;         // 1-based position in start-time order: the execution order
  orphan: boolean;     // a root only because its parent is missing or loops
}

export interface SpanTree {
  nodes: TreeNode[];                 // pre-order
  index: Map<string, number>;        // span_id -> node index
  startNs: number;
  endNs: number;
  errors: number[];                  // node indices with status error, in pre-order
  interrupts: number[];              // node indices with status interrupt, in pre-order
}

function bySiblingOrder(a: Span, b: Span): number {
  if (a.start_ns !== b.start_ns) return a.start_ns - b.start_ns;
  return a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0;
}

export function buildTree(input: readonly Span[]): SpanTree {
  // Unique spans by id (first wins).
  const spans: Span[] = [];
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
  const hasParent: boolean[] = spans.map(() => false);
  spans.forEach((s, i) => {
    const p = s.parent_span_id ? pos.get(s.parent_span_id) : undefined;
    if (p === undefined || p === i) {
      roots.push(i);
    } else {
      children[p].push(i);
      hasParent[i] = true;
    }
  });
  const cmp = (a: number, b: number) => bySiblingOrder(spans[a], spans[b]);
  for (const c of children) c.sort(cmp);
  // Real roots first (no parent id at all), then orphans; each group by start.
  const realRoots = roots.filter((i) => !spans[i].parent_span_id).sort(cmp);
  const orphanRoots = roots.filter((i) => spans[i].parent_span_id).sort(cmp);

  const nodes: TreeNode[] = [];
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

  let startNs = Infinity;
  let endNs = -Infinity;
  const errors: number[] = [];
  const interrupts: number[] = [];
  nodes.forEach((n, i) => {
    startNs = Math.min(startNs, n.span.start_ns);
    endNs = Math.max(endNs, n.span.end_ns, n.span.start_ns);
    if (n.span.status === 'error') errors.push(i);
    if (n.span.status === 'interrupt') interrupts.push(i);
  });
  const order = nodes.map((_, i) => i).sort((a, b) => {
    const d = nodes[a].span.start_ns - nodes[b].span.start_ns;
    return d !== 0 ? d : a - b;
  });
  order.forEach((ni, k) => { nodes[ni].seq = k + 1; });
  if (nodes.length === 0) { startNs = 0; endNs = 0; }
  return { nodes, index, startNs, endNs, errors, interrupts };
}

// Indices of the rows to show, in order, skipping the subtrees of collapsed nodes.
export function visibleRows(tree: SpanTree, collapsed: ReadonlySet<number>): number[] {
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
