// Shapes of the REST API's JSON (docs/api.md). Times are Unix nanoseconds as JSON
// numbers; JavaScript rounds them to ~256 ns, far below display precision.

export type SpanKind =
  | 'agent' | 'llm' | 'tool' | 'retrieval' | 'embedding' | 'rerank' | 'guardrail'
  | 'evaluator' | 'memory' | 'chain' | 'human' | 'other';
export type Status = 'ok' | 'error' | 'interrupt' | 'unset';

export const SPAN_KINDS: SpanKind[] = [
  'agent', 'llm', 'tool', 'retrieval', 'embedding', 'rerank', 'guardrail',
  'evaluator', 'memory', 'chain', 'human', 'other',
];
export const STATUSES: Status[] = ['ok', 'error', 'interrupt', 'unset'];

export interface TraceSummary {
  trace_id: string;
  project: string;
  root_name: string;
  service: string;
  agent_name: string;
  session_id: string;
  user_id: string;
  environment: string;
  start_ns: number;
  end_ns: number;
  duration_ns: number;
  status: Status;
  span_count: number;
  error_count: number;
  interrupt_count?: number;
  llm_calls: number;
  tool_calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  models: string[];
  has_root?: boolean;
}

export interface SessionSummary {
  session_id: string;
  project: string;
  user_id: string;
  first_start_ns: number;
  last_end_ns: number;
  trace_count: number;
  span_count: number;
  status: Status;
  error_traces: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
}

export interface SpanEvent {
  name: string;
  time_ns: number;
  attributes: Record<string, unknown>;
}

export interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  project: string;
  name: string;
  kind: SpanKind;
  start_ns: number;
  end_ns: number;
  duration_ns: number;
  status: Status;
  status_message: string;
  error_type: string;
  interrupt_reason: string;
  service: string;
  environment: string;
  version: string;
  session_id: string;
  user_id: string;
  agent_name: string;
  agent_id: string;
  step: number | null;
  provider: string;
  model: string;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  cost_usd: number | null;
  cost_source: string;
  reported_cost_usd?: number | null;
  tool_name: string;
  tool_call_id: string;
  prompt_name: string;
  prompt_version: string;
  finish_reason: string;
  input: unknown;
  output: unknown;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: SpanEvent[];
  links: { trace_id: string; span_id: string; attributes: Record<string, unknown> }[];
  scope?: { name: string; version: string };
  otel_kind?: number;
  depth?: number;
  parent_missing?: boolean;
}

// One span of the light trace view (GET /api/v1/traces/{id}?view=light): what the
// tree and the waterfall draw. Optional fields are absent when empty or null; the
// single-span endpoint has everything else.
export interface LightSpan {
  span_id: string;
  parent_span_id: string | null;
  depth: number;
  parent_missing: boolean;
  name: string;
  kind: SpanKind;
  start_ns: number;
  end_ns: number;
  duration_ns: number;
  status: Status;
  status_message?: string;  // the first 256 bytes
  error_type?: string;
  interrupt_reason?: string;
  agent_name?: string;
  tool_name?: string;
  provider?: string;
  model?: string;
  step?: number;
  input_tokens?: number;
  output_tokens?: number;
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
  cost_usd?: number;
  exception_ns?: number[];  // times of the span's exception events
}

export interface TracePage { traces: TraceSummary[]; next_cursor: string | null }
export interface SessionPage { sessions: SessionSummary[]; next_cursor: string | null }
export interface TraceDetail { trace: TraceSummary; spans: Span[] }
export interface LightTraceDetail { trace: TraceSummary; spans: LightSpan[] }
export interface SessionDetail { session: SessionSummary; traces: TraceSummary[] }

// A payload the trace view left out (over 64 KiB): fetch the single span for it.
export interface Truncated { truncated: true; bytes: number }
export function isTruncated(v: unknown): v is Truncated {
  return typeof v === 'object' && v !== null && (v as Truncated).truncated === true &&
    typeof (v as Truncated).bytes === 'number';
}
