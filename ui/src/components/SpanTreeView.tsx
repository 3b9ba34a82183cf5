// The trace's span tree beside its waterfall timeline, in one virtualised list: each
// row is a tree cell (step number, indentation, toggle, kind, name, badges), a cost
// cell of fixed width (the span's own cost, and for a span with children its subtree's
// total: "≥" when a model call under it has no price, "?" when none has), and a
// timeline cell (the span's bar on the trace's axis, coloured by kind, with error and
// interrupt markers). Only the rows in view (plus a margin) are in the DOM, so a
// 20,000-span trace scrolls like a 20-span one; tree and timeline can never drift
// apart because they are the same rows.
//
// Keyboard: ↑/↓ move, ←/→ collapse/expand (or go to parent/child), Home/End, Enter
// opens the span's detail.
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { formatSubtreeCost, subtreeCostTitle, subtreeState, type CostRollup } from '../lib/cost';
import { formatCost, formatDuration, formatOffset } from '../lib/format';
import { keyMove, type SpanTree } from '../lib/tree';
import type { LightSpan } from '../lib/types';
import { barLayout, kindColorVar, markerPosition, ticks } from '../lib/waterfall';
import { useElementHeight } from './hooks';

export const ROW_HEIGHT = 26;
const OVERSCAN = 12;
const INDENT = 14;
const MAX_INDENT_DEPTH = 24;

interface Props {
  tree: SpanTree<LightSpan>;
  costs: CostRollup;  // rollUpCosts(tree)
  rows: number[];
  collapsed: ReadonlySet<number>;
  selected: number;
  onSelect: (i: number) => void;
  onCollapsedChange: (c: ReadonlySet<number>) => void;
  onToggle: (i: number) => void;
}

export function SpanTreeView({ tree, costs, rows, collapsed, selected, onSelect, onCollapsedChange, onToggle }: Props) {
  const [scrollRef, height] = useElementHeight<HTMLDivElement>();
  const [scrollTop, setScrollTop] = useState(0);
  const total = tree.endNs - tree.startNs;
  const axis = useMemo(() => ticks(total, 6), [total]);

  // Keep the selected row in view when it changes (keyboard, jump buttons).
  useEffect(() => {
    const el = scrollRef.current;
    const pos = rows.indexOf(selected);
    if (!el || pos < 0) return;
    const top = pos * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const slice = rows.slice(first, last);

  const rafPending = useRef(false);
  return (
    <div className="span-tree" data-testid="span-tree">
      <div className="tree-head">
        <div className="tree-head-name">Span</div>
        <div className="tree-head-cost" title="the span's own cost · its subtree's total">Cost · subtree</div>
        <div className="tree-head-axis">
          {axis.map((t) => (
            <span key={t.offsetNs} className="tick" style={{ left: `${t.at * 100}%` }}>{formatOffset(t.offsetNs)}</span>
          ))}
        </div>
      </div>
      <div
        className="tree-scroll"
        ref={scrollRef}
        tabIndex={0}
        role="tree"
        aria-label="Span tree"
        aria-activedescendant={selected >= 0 ? `row-${selected}` : undefined}
        onScroll={(e) => {
          const el = e.currentTarget;
          if (rafPending.current) return;
          rafPending.current = true;
          requestAnimationFrame(() => {
            rafPending.current = false;
            setScrollTop(el.scrollTop);
          });
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            if (selected >= 0 && tree.nodes[selected].childCount > 0) onToggle(selected);
            e.preventDefault();
            return;
          }
          const r = keyMove(tree, rows, collapsed, selected, e.key);
          if (r.selected !== selected || r.collapsed !== collapsed) {
            e.preventDefault();
            if (r.collapsed !== collapsed) onCollapsedChange(r.collapsed);
            if (r.selected !== selected && r.selected >= 0) onSelect(r.selected);
          }
        }}
      >
        <div className="tree-inner" style={{ height: rows.length * ROW_HEIGHT }}>
          {slice.map((ni, k) => (
            <Row
              key={ni}
              tree={tree}
              costs={costs}
              ni={ni}
              top={(first + k) * ROW_HEIGHT}
              isCollapsed={collapsed.has(ni)}
              isSelected={ni === selected}
              onSelect={onSelect}
              onToggle={onToggle}
            />
          ))}
        </div>
      </div>
    </div>
  );
}

const Row = memo(function Row({ tree, costs, ni, top, isCollapsed, isSelected, onSelect, onToggle }: {
  tree: SpanTree<LightSpan>; costs: CostRollup; ni: number; top: number; isCollapsed: boolean; isSelected: boolean;
  onSelect: (i: number) => void; onToggle: (i: number) => void;
}) {
  const node = tree.nodes[ni];
  const s = node.span;
  const bar = barLayout(s.start_ns, s.end_ns, tree.startNs, tree.endNs);
  const indent = Math.min(node.depth, MAX_INDENT_DEPTH) * INDENT;
  const color = kindColorVar(s.kind);
  const own = costs.own[ni];
  const exceptionsAt = (s.exception_ns ?? []).map((t) => markerPosition(t, tree.startNs, tree.endNs));
  return (
    <div
      id={`row-${ni}`}
      role="treeitem"
      aria-selected={isSelected}
      aria-expanded={node.childCount > 0 ? !isCollapsed : undefined}
      aria-level={node.depth + 1}
      className={`tree-row ${isSelected ? 'selected' : ''} status-row-${s.status}`}
      style={{ top }}
      data-span-id={s.span_id}
      data-span-name={s.name}
      onClick={() => onSelect(ni)}
    >
      <div className="tree-cell">
        <span className="seq" title="execution order">{node.seq}</span>
        <span className="indent" style={{ width: indent }}>
          {node.depth > MAX_INDENT_DEPTH && <span className="deep">{node.depth}</span>}
        </span>
        {node.childCount > 0 ? (
          <button
            type="button"
            className="toggle"
            tabIndex={-1}
            aria-label={isCollapsed ? `Expand ${s.name}` : `Collapse ${s.name}`}
            onClick={(e) => { e.stopPropagation(); onToggle(ni); }}
          >
            {isCollapsed ? '▸' : '▾'}
          </button>
        ) : <span className="toggle-space" />}
        <span className="kind-dot" style={{ background: color }} title={s.kind} />
        <span className="span-name" title={s.name}>{s.name}</span>
        {s.step !== null && s.step !== undefined && <span className="step" title="agent step">step {s.step}</span>}
        {isCollapsed && <span className="hidden-count">+{node.end - ni - 1}</span>}
        {s.status === 'error' && <span className="mark-err" title={s.status_message || 'error'}>!</span>}
        {s.status === 'interrupt' && <span className="mark-int" title={s.interrupt_reason || 'interrupt'}>II</span>}
        {node.orphan && <span className="orphan" title="parent span has not arrived">orphan</span>}
      </div>
      <div className="cost-cell">
        <span className={`cost-own${own === null && costs.unpriced[ni] && node.childCount === 0 ? ' unknown' : ''}`}
          data-testid="cost-own"
          title={own !== null ? 'this span\'s cost' : costs.unpriced[ni] && node.childCount === 0 ? 'model call without a price' : ''}>
          {own !== null ? formatCost(own) : costs.unpriced[ni] && node.childCount === 0 ? '?' : ''}
        </span>
        <span className={`cost-sub cost-${subtreeState(costs, ni)}`} data-testid="cost-subtree" title={node.childCount > 0 ? subtreeCostTitle(costs, ni) : ''}>
          {node.childCount > 0 ? formatSubtreeCost(costs, ni) : ''}
        </span>
      </div>
      <div className="time-cell">
        <div className={`bar bar-${s.status}`} style={{ left: `${bar.left * 100}%`, width: `${bar.width * 100}%`, background: color }} />
        {exceptionsAt.map((at, i) => <span key={i} className="ev-mark" style={{ left: `${at * 100}%` }} />)}
        <span className="bar-label" style={bar.left > 0.7 ? { right: `${(1 - bar.left) * 100 + 0.5}%` } : { left: `${(bar.left + bar.width) * 100 + 0.5}%` }}>
          {formatDuration(s.duration_ns)}
        </span>
      </div>
    </div>
  );
});
