// Collapsible JSON: objects and arrays open to a small depth and render children
// only when opened, long arrays show their first items, and long strings are cut
// with "show all", so a megabyte payload costs nothing until someone asks for it.
import { useState } from 'react';

const MAX_ITEMS = 100;
const MAX_STRING = 2000;

export function JsonView({ value, openDepth = 2 }: { value: unknown; openDepth?: number }) {
  return <div className="json"><JsonNode value={value} depth={0} openDepth={openDepth} /></div>;
}

function JsonNode({ name, value, depth, openDepth }: { name?: string; value: unknown; depth: number; openDepth: number }) {
  const label = name !== undefined ? <span className="json-key">{name}: </span> : null;
  if (value === null || typeof value !== 'object') {
    return <div className="json-row">{label}<JsonScalar value={value} /></div>;
  }
  return <JsonBranch label={label} value={value as object} depth={depth} openDepth={openDepth} />;
}

function JsonBranch({ label, value, depth, openDepth }: { label: React.ReactNode; value: object; depth: number; openDepth: number }) {
  const isArr = Array.isArray(value);
  const entries: [string, unknown][] = isArr ? (value as unknown[]).map((v, i) => [String(i), v]) : Object.entries(value);
  const [open, setOpen] = useState(depth < openDepth && entries.length <= 200);
  const [limit, setLimit] = useState(MAX_ITEMS);
  const brackets = isArr ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <div className="json-row">{label}<span className="json-punct">{brackets.join('')}</span></div>;
  return (
    <div className="json-branch">
      <div className="json-row">
        <button type="button" className="json-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? '▾' : '▸'}
        </button>
        {label}
        <span className="json-punct">{brackets[0]}</span>
        {!open && <span className="json-summary"> {entries.length} {isArr ? 'items' : 'keys'} {brackets[1]}</span>}
      </div>
      {open && (
        <div className="json-children">
          {entries.slice(0, limit).map(([k, v]) => (
            <JsonNode key={k} name={isArr ? undefined : k} value={v} depth={depth + 1} openDepth={openDepth} />
          ))}
          {entries.length > limit && (
            <button type="button" className="link" onClick={() => setLimit(limit + 500)}>
              show {Math.min(500, entries.length - limit)} more of {entries.length - limit}
            </button>
          )}
          <div className="json-punct">{brackets[1]}</div>
        </div>
      )}
    </div>
  );
}

function JsonScalar({ value }: { value: unknown }) {
  const [full, setFull] = useState(false);
  if (typeof value === 'string') {
    const cut = !full && value.length > MAX_STRING;
    return (
      <span className="json-string">
        "{cut ? value.slice(0, MAX_STRING) : value}"
        {cut && (
          <button type="button" className="link" onClick={() => setFull(true)}>
            … show all {value.length.toLocaleString()} chars
          </button>
        )}
      </span>
    );
  }
  if (typeof value === 'number') return <span className="json-number">{String(value)}</span>;
  if (typeof value === 'boolean') return <span className="json-bool">{String(value)}</span>;
  return <span className="json-null">null</span>;
}

// Plain text that may be long: cut, with "show all".
export function LongText({ text, max = 4000 }: { text: string; max?: number }) {
  const [full, setFull] = useState(false);
  const cut = !full && text.length > max;
  return (
    <div className="long-text">
      {cut ? text.slice(0, max) : text}
      {cut && (
        <button type="button" className="link" onClick={() => setFull(true)}>
          … show all {text.length.toLocaleString()} chars
        </button>
      )}
    </div>
  );
}
