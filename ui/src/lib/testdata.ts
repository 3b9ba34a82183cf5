// Span builders for the unit tests.
import type { Span } from './types';

export function span(id: string, parent: string | null, start: number, end: number, extra: Partial<Span> = {}): Span {
  return {
    trace_id: 't'.repeat(32), span_id: id, parent_span_id: parent, project: 'default', name: id, kind: 'other',
    start_ns: start, end_ns: end, duration_ns: end - start, status: 'ok', status_message: '', error_type: '',
    interrupt_reason: '', service: 'svc', environment: '', version: '', session_id: '', user_id: '', agent_name: '',
    agent_id: '', step: null, provider: '', model: '', input_tokens: null, output_tokens: null, cache_read_tokens: null,
    cache_write_tokens: null, reasoning_tokens: null, cost_usd: null, cost_source: 'unknown', tool_name: '',
    tool_call_id: '', prompt_name: '', prompt_version: '', finish_reason: '', input: null, output: null,
    attributes: {}, resource: {}, events: [], links: [], ...extra,
  };
}
