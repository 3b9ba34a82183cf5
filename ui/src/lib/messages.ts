// Reading a span's input/output as a conversation.
//
// Sightline's canonical form is [{role, parts:[{type, ...}]}] (OTel GenAI semantic
// conventions): text parts carry `content`, tool calls `id, name, arguments`, tool
// results `id, response|result`. Instrumentations also send OpenAI-style
// [{role, content, tool_calls}] and JSON text of either; all of those become the same
// Message list here. Anything else (plain text, a JSON object such as a tool's
// arguments) is not a conversation: parseMessages returns null and the view shows it
// as text or collapsible JSON.

export type Part =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_result'; id: string; result: unknown }
  | { type: 'other'; kind: string; value: unknown };

export interface Message {
  role: string;
  name?: string;
  parts: Part[];
  finishReason?: string;
}

const KNOWN_ROLES = new Set(['system', 'user', 'assistant', 'tool', 'developer', 'function', 'model', 'human', 'ai']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

// A string holding a JSON object or array becomes that value; other values are kept.
export function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

function normaliseRole(r: string): string {
  const role = r.toLowerCase();
  if (role === 'human') return 'user';
  if (role === 'ai' || role === 'model') return 'assistant';
  if (role === 'function') return 'tool';
  return role;
}

function toPart(p: unknown): Part | null {
  if (typeof p === 'string') return { type: 'text', text: p };
  if (!isObj(p)) return null;
  const type = str(p.type);
  switch (type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: str(p.content ?? p.text) };
    case 'reasoning':
    case 'thinking':
      return { type: 'reasoning', text: str(p.content ?? p.text ?? p.thinking) };
    case 'tool_call':
    case 'function_call':
    case 'tool_use':
      return {
        type: 'tool_call', id: str(p.id ?? p.call_id), name: str(p.name),
        arguments: parseMaybeJson(p.arguments ?? p.input ?? null),
      };
    case 'tool_call_response':
    case 'tool_result':
    case 'function_call_output':
      return {
        type: 'tool_result', id: str(p.id ?? p.tool_use_id ?? p.call_id),
        result: parseMaybeJson(p.response ?? p.result ?? p.content ?? p.output ?? null),
      };
    default:
      if (type === '' && 'content' in p) return { type: 'text', text: str(p.content) };
      return { type: 'other', kind: type || 'unknown', value: p };
  }
}

function toMessage(m: unknown): Message | null {
  if (!isObj(m) || typeof m.role !== 'string') return null;
  const role = normaliseRole(m.role);
  const parts: Part[] = [];
  if (Array.isArray(m.parts)) {
    for (const p of m.parts) {
      const part = toPart(p);
      if (part) parts.push(part);
    }
  } else if (typeof m.content === 'string') {
    if (role === 'tool') {
      parts.push({ type: 'tool_result', id: str(m.tool_call_id), result: parseMaybeJson(m.content) });
    } else if (m.content !== '') {
      parts.push({ type: 'text', text: m.content });
    }
  } else if (Array.isArray(m.content)) {
    for (const p of m.content) {
      const part = toPart(p);
      if (part) parts.push(part);
    }
  }
  // OpenAI chat form: tool_calls beside content.
  if (Array.isArray(m.tool_calls)) {
    for (const tc of m.tool_calls) {
      if (!isObj(tc)) continue;
      const fn = isObj(tc.function) ? tc.function : tc;
      parts.push({ type: 'tool_call', id: str(tc.id), name: str(fn.name), arguments: parseMaybeJson(fn.arguments ?? null) });
    }
  }
  const msg: Message = { role, parts };
  if (typeof m.name === 'string' && m.name) msg.name = m.name;
  if (typeof m.finish_reason === 'string' && m.finish_reason) msg.finishReason = m.finish_reason;
  return msg;
}

// The conversation in a payload, or null when it is not one.
export function parseMessages(value: unknown): Message[] | null {
  let v = parseMaybeJson(value);
  // {messages:[...]} (LangChain, some Langfuse inputs).
  if (isObj(v) && Array.isArray(v.messages)) v = v.messages;
  // A single message object.
  if (isObj(v) && typeof v.role === 'string' && KNOWN_ROLES.has(v.role.toLowerCase())) v = [v];
  if (!Array.isArray(v) || v.length === 0) return null;
  const out: Message[] = [];
  for (const m of v) {
    const msg = toMessage(m);
    if (!msg) return null;  // one non-message: the whole value is data, not a conversation
    out.push(msg);
  }
  return out;
}

// All text of a payload, for one-line previews (session turns, table tooltips): the
// last user message of an input, the assistant's text of an output, else the text.
export function previewText(value: unknown, prefer: 'user' | 'assistant', maxLen = 240): string {
  const msgs = parseMessages(value);
  let text = '';
  if (msgs) {
    const pick = [...msgs].reverse().find((m) => m.role === prefer && m.parts.some((p) => p.type === 'text'))
      ?? [...msgs].reverse().find((m) => m.parts.some((p) => p.type === 'text'));
    if (pick) text = pick.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join(' ');
    else {
      const call = msgs.flatMap((m) => m.parts).find((p) => p.type === 'tool_call');
      if (call && call.type === 'tool_call') text = `→ ${call.name}(…)`;
    }
  } else if (typeof value === 'string') {
    text = value;
  } else if (value !== null && value !== undefined) {
    text = JSON.stringify(value);
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > maxLen ? text.slice(0, maxLen - 1) + '…' : text;
}

// Retrieval documents from a retrieval span: {documents:[{id, score, content}]} in the
// output, OpenInference retrieval.documents.N.document.* attributes, or a
// retrieval.documents JSON attribute. Content is merged by id from all sources.
export interface RetrievedDoc { id: string; score: number | null; content: string }

export function retrievalDocuments(output: unknown, attributes: Record<string, unknown>): RetrievedDoc[] {
  const docs: RetrievedDoc[] = [];
  const byId = new Map<string, RetrievedDoc>();
  const add = (d: unknown, i: number) => {
    if (!isObj(d)) return;
    const inner = isObj(d.document) ? d.document : d;
    const id = str(inner.id ?? d.id) || `#${i}`;
    const scoreRaw = inner.score ?? d.score;
    const score = typeof scoreRaw === 'number' ? scoreRaw : scoreRaw !== undefined && scoreRaw !== null && scoreRaw !== '' && !Number.isNaN(Number(scoreRaw)) ? Number(scoreRaw) : null;
    const content = str(inner.content ?? inner.text ?? d.content ?? d.page_content ?? '');
    const prev = byId.get(id);
    if (prev) {
      if (!prev.content && content) prev.content = content;
      if (prev.score === null && score !== null) prev.score = score;
      return;
    }
    const doc = { id, score, content };
    byId.set(id, doc);
    docs.push(doc);
  };
  const out = parseMaybeJson(output);
  const list = Array.isArray(out) ? out : isObj(out) && Array.isArray(out.documents) ? out.documents : [];
  list.forEach(add);
  const attrDocs = parseMaybeJson(attributes['retrieval.documents']);
  if (Array.isArray(attrDocs)) attrDocs.forEach(add);
  // retrieval.documents.N.document.{id,score,content}
  const flat = new Map<number, Record<string, unknown>>();
  for (const [k, v] of Object.entries(attributes)) {
    const m = /^retrieval\.documents\.(\d+)\.document\.(\w+)$/.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    if (!flat.has(n)) flat.set(n, {});
    flat.get(n)![m[2]] = v;
  }
  [...flat.keys()].sort((a, b) => a - b).forEach((n) => add(flat.get(n), n));
  return docs;
}

// The exception events of a span (OTel `exception` events).
export interface ExceptionInfo { type: string; message: string; stacktrace: string; timeNs: number }

export function exceptions(events: readonly { name: string; time_ns: number; attributes: Record<string, unknown> }[]): ExceptionInfo[] {
  return events.filter((e) => e.name === 'exception').map((e) => ({
    type: str(e.attributes['exception.type']),
    message: str(e.attributes['exception.message']),
    stacktrace: str(e.attributes['exception.stacktrace']),
    timeNs: e.time_ns,
  }));
}
