// The one search box: a trace id, a session id (ticket-9421) or a user id. A 32-hex
// text is tried as a trace id first; otherwise session, then user; when nothing
// matches, the text becomes a full-text search of the traces list.

export type SearchTarget =
  | { kind: 'trace'; id: string }
  | { kind: 'session'; id: string }
  | { kind: 'user'; id: string }
  | { kind: 'text'; q: string };

export function looksLikeTraceId(text: string): boolean {
  return /^[0-9a-fA-F]{32}$/.test(text.trim());
}

export function looksLikeSpanId(text: string): boolean {
  return /^[0-9a-fA-F]{16}$/.test(text.trim());
}

// Probes the server in order and returns where to go. `exists` answers whether a GET
// of the API path returns 200 (trace, session) or a non-empty list (user).
export async function resolveSearch(
  raw: string,
  probe: {
    trace: (id: string) => Promise<boolean>;
    session: (id: string) => Promise<boolean>;
    user: (id: string) => Promise<boolean>;
  },
): Promise<SearchTarget | null> {
  const text = raw.trim();
  if (!text) return null;
  if (looksLikeTraceId(text) && (await probe.trace(text.toLowerCase()))) {
    return { kind: 'trace', id: text.toLowerCase() };
  }
  if (await probe.session(text)) return { kind: 'session', id: text };
  if (await probe.user(text)) return { kind: 'user', id: text };
  return { kind: 'text', q: text };
}

// The app path a target lands on.
export function targetPath(t: SearchTarget): string {
  switch (t.kind) {
    case 'trace': return `/traces/${encodeURIComponent(t.id)}`;
    case 'session': return `/sessions/${encodeURIComponent(t.id)}`;
    case 'user': return `/?user_id=${encodeURIComponent(t.id)}`;
    case 'text': return `/?q=${encodeURIComponent(t.q)}`;
  }
}
