// Small shared pieces: status and kind badges, copy buttons, error and loading boxes.
import { useState } from 'react';
import type { Status } from '../lib/types';
import { kindColorVar } from '../lib/waterfall';

export function StatusBadge({ status }: { status: Status | string }) {
  return <span className={`status status-${status}`} data-status={status}>{status}</span>;
}

export function KindBadge({ kind }: { kind: string }) {
  return (
    <span className="kind" style={{ borderColor: kindColorVar(kind), color: kindColorVar(kind) }}>{kind}</span>
  );
}

export function CopyButton({ text, label = 'copy', title }: { text: string; label?: string; title?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="copy"
      title={title ?? `Copy ${text}`}
      onClick={async (e) => {
        e.stopPropagation();
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // Clipboard API needs a secure context; fall back to a hidden textarea.
          const ta = document.createElement('textarea');
          ta.value = text;
          document.body.appendChild(ta);
          ta.select();
          document.execCommand('copy');
          ta.remove();
        }
        setDone(true);
        setTimeout(() => setDone(false), 1200);
      }}
    >
      {done ? 'copied' : label}
    </button>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const msg = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-box" role="alert">
      <strong>Something went wrong.</strong> {msg}
      {onRetry && <button type="button" onClick={onRetry}>Retry</button>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <div className="loading" aria-busy="true">Loading {what}…</div>;
}
