'use strict';
// The OpenTelemetry JS SDK's own OTLP exporters (protobuf over HTTP, JSON over HTTP,
// gRPC; with and without gzip) each send one multi-agent run written with the GenAI
// semantic conventions. The run must come back from the HTTP API as one trace with
// the right tree, kinds, models, tokens, ids, statuses and canonical messages.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { trace, SpanKind, SpanStatusCode, ROOT_CONTEXT } = require('@opentelemetry/api');

const {
  startServer, getJSON, waitForTrace, waitForQuery, byName, messageText, partsOfType, assertTreeOrder,
} = require('../lib/sightline');
const { makeExporter, makeProvider } = require('../lib/otel');

const USER = 'user-4711';

// Emits the run with explicit, strictly increasing timestamps so sibling order is
// known. Returns the trace id and what the run is expected to look like.
function emitMultiAgentRun(tracer, sessionId) {
  // Dates, not numbers: the SDK reads a number below performance.timeOrigin as a
  // performance.now() offset, which a young process would hit.
  const t0 = Date.now() - 5000;
  const at = (ms) => new Date(t0 + ms);
  const conv = { 'gen_ai.conversation.id': sessionId };
  const start = (name, kind, attributes, startMs, parent) =>
    tracer.startSpan(name, { kind, attributes: { ...conv, ...attributes }, startTime: at(startMs) },
      parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT);

  const root = start('invoke_agent supervisor', SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'supervisor',
    'gen_ai.agent.id': 'agent-sup-1',
    'gen_ai.provider.name': 'openai',
    'user.id': USER,
  }, 0);

  const plan = start('chat gpt-4o', SpanKind.CLIENT, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.usage.input_tokens': 120,
    'gen_ai.usage.output_tokens': 30,
    'gen_ai.response.finish_reasons': ['tool_calls'],
    'gen_ai.input.messages': JSON.stringify([
      { role: 'system', parts: [{ type: 'text', content: 'You are a travel planning supervisor.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Find me a quiet hotel in Lisbon for May 3.' }] },
    ]),
    'gen_ai.output.messages': JSON.stringify([
      { role: 'assistant', finish_reason: 'tool_call', parts: [
        { type: 'text', content: 'Delegating the search to the researcher.' },
        { type: 'tool_call', id: 'call_delegate_1', name: 'delegate', arguments: { agent: 'researcher', task: 'hotels Lisbon May 3' } },
      ] },
    ]),
  }, 10, root);
  plan.end(at(400));

  const researcher = start('invoke_agent researcher', SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'researcher',
  }, 500, root);

  const rchat = start('chat claude-sonnet-4', SpanKind.CLIENT, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4',
    'gen_ai.agent.name': 'researcher',
    'gen_ai.usage.input_tokens': 300,
    'gen_ai.usage.output_tokens': 45,
    'gen_ai.input.messages': JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'hotels Lisbon May 3' }] },
    ]),
    'gen_ai.output.messages': JSON.stringify([
      { role: 'assistant', finish_reason: 'tool_call', parts: [
        { type: 'tool_call', id: 'call_search_1', name: 'web_search', arguments: { query: 'quiet hotel Lisbon' } },
      ] },
    ]),
  }, 510, researcher);
  rchat.end(at(900));

  const search = start('execute_tool web_search', SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'web_search',
    'gen_ai.tool.call.id': 'call_search_1',
    'gen_ai.tool.call.arguments': JSON.stringify({ query: 'quiet hotel Lisbon' }),
    'gen_ai.tool.call.result': JSON.stringify({ results: ['Casa do Silencio', 'Hotel Tranquilo'] }),
  }, 910, researcher);
  search.setStatus({ code: SpanStatusCode.OK });
  search.end(at(1300));

  const fetchPage = start('execute_tool fetch_page', SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'fetch_page',
    'gen_ai.tool.call.id': 'call_fetch_1',
    'gen_ai.tool.call.arguments': JSON.stringify({ url: 'https://example.invalid/casa' }),
    'error.type': 'TimeoutError',
  }, 1310, researcher);
  fetchPage.recordException({ name: 'TimeoutError', message: 'fetch_page timed out after 30s' }, at(2300));
  fetchPage.setStatus({ code: SpanStatusCode.ERROR, message: 'fetch_page timed out after 30s' });
  fetchPage.end(at(2310));
  researcher.end(at(2400));

  const answer = start('chat gpt-4o-mini', SpanKind.CLIENT, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 200,
    'gen_ai.usage.output_tokens': 60,
    'gen_ai.input.messages': JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'Find me a quiet hotel in Lisbon for May 3.' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_delegate_1', response: 'Casa do Silencio' }] },
    ]),
    'gen_ai.output.messages': JSON.stringify([
      { role: 'assistant', finish_reason: 'stop', parts: [{ type: 'text', content: 'I recommend Casa do Silencio.' }] },
    ]),
  }, 2500, root);
  answer.end(at(2900));
  root.end(at(3000));

  return {
    traceId: root.spanContext().traceId,
    ids: {
      root: root.spanContext().spanId,
      plan: plan.spanContext().spanId,
      researcher: researcher.spanContext().spanId,
      rchat: rchat.spanContext().spanId,
      search: search.spanContext().spanId,
      fetchPage: fetchPage.spanContext().spanId,
      answer: answer.spanContext().spanId,
    },
  };
}

const VARIANTS = ['proto', 'proto-gzip', 'json', 'grpc', 'grpc-gzip'];

describe('OpenTelemetry JS exporters, GenAI multi-agent run', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { if (server) await server.stop(); });

  for (const variant of VARIANTS) {
    test(`exporter ${variant}: tree, kinds, models, tokens, ids, status, messages`, async () => {
      const sessionId = `ticket-${variant}-${process.pid}`;
      const service = `integ-${variant}`;
      const { provider, recorder } = makeProvider(makeExporter(variant, server), service);
      const tracer = provider.getTracer('sightline-integration', '1.0.0');
      const run = emitMultiAgentRun(tracer, sessionId);
      await provider.forceFlush();
      await provider.shutdown();
      recorder.assertAllSucceeded();
      assert.equal(recorder.exportedSpanCount(), 7);

      const body = await waitForTrace(server, run.traceId, 7);
      const { spans } = body;
      assert.equal(spans.length, 7, `span count: ${spans.map((s) => s.name).join(', ')}`);

      // Tree order: root first, parents before children, siblings by start.
      assert.equal(spans[0].name, 'invoke_agent supervisor');
      assert.deepEqual(spans.map((s) => s.name), [
        'invoke_agent supervisor',
        'chat gpt-4o',
        'invoke_agent researcher',
        'chat claude-sonnet-4',
        'execute_tool web_search',
        'execute_tool fetch_page',
        'chat gpt-4o-mini',
      ]);
      assertTreeOrder(assert, spans);

      const s = byName(spans);
      const root = s.get('invoke_agent supervisor');
      for (const sp of spans) {
        assert.equal(sp.trace_id, run.traceId, `${sp.name}.trace_id`);
        assert.match(sp.span_id, /^[0-9a-f]{16}$/, `${sp.name}.span_id is 16 hex digits`);
      }
      assert.equal(root.span_id, run.ids.root);
      assert.equal(root.parent_span_id, null, 'root.parent_span_id must be null');
      const parentOf = {
        'chat gpt-4o': run.ids.root,
        'invoke_agent researcher': run.ids.root,
        'chat gpt-4o-mini': run.ids.root,
        'chat claude-sonnet-4': run.ids.researcher,
        'execute_tool web_search': run.ids.researcher,
        'execute_tool fetch_page': run.ids.researcher,
      };
      for (const [name, parent] of Object.entries(parentOf)) {
        assert.equal(s.get(name).parent_span_id, parent, `${name}.parent_span_id`);
      }

      // Kinds from gen_ai.operation.name.
      const kinds = Object.fromEntries(spans.map((sp) => [sp.name, sp.kind]));
      assert.deepEqual(kinds, {
        'invoke_agent supervisor': 'agent',
        'chat gpt-4o': 'llm',
        'invoke_agent researcher': 'agent',
        'chat claude-sonnet-4': 'llm',
        'execute_tool web_search': 'tool',
        'execute_tool fetch_page': 'tool',
        'chat gpt-4o-mini': 'llm',
      });

      // Agents, models (response model first), providers, tokens.
      assert.equal(root.agent_name, 'supervisor');
      assert.equal(s.get('invoke_agent researcher').agent_name, 'researcher');
      assert.equal(s.get('chat gpt-4o').model, 'gpt-4o-2024-08-06', 'response model wins over request model');
      assert.equal(s.get('chat gpt-4o').provider, 'openai');
      assert.equal(s.get('chat claude-sonnet-4').model, 'claude-sonnet-4');
      assert.equal(s.get('chat claude-sonnet-4').provider, 'anthropic');
      assert.equal(s.get('chat gpt-4o-mini').model, 'gpt-4o-mini');
      assert.equal(s.get('chat gpt-4o').input_tokens, 120);
      assert.equal(s.get('chat gpt-4o').output_tokens, 30);
      assert.equal(s.get('chat claude-sonnet-4').input_tokens, 300);
      assert.equal(s.get('chat claude-sonnet-4').output_tokens, 45);
      assert.equal(s.get('chat gpt-4o-mini').input_tokens, 200);
      assert.equal(s.get('chat gpt-4o-mini').output_tokens, 60);

      // Session and user ids; service from the resource.
      for (const sp of spans) {
        assert.equal(sp.session_id, sessionId, `${sp.name}.session_id`);
        assert.equal(sp.service, service, `${sp.name}.service`);
      }
      assert.equal(root.user_id, USER, 'root.user_id from user.id');

      // Status: the failed tool is an error with its message and error type; the
      // explicitly OK tool is ok; spans that set nothing are unset.
      const failed = s.get('execute_tool fetch_page');
      assert.equal(failed.status, 'error');
      assert.equal(failed.status_message, 'fetch_page timed out after 30s');
      assert.equal(failed.error_type, 'TimeoutError');
      assert.equal(s.get('execute_tool web_search').status, 'ok');
      assert.equal(s.get('chat gpt-4o').status, 'unset');

      // Tools.
      assert.equal(s.get('execute_tool web_search').tool_name, 'web_search');
      assert.equal(s.get('execute_tool web_search').tool_call_id, 'call_search_1');
      assert.equal(failed.tool_name, 'fetch_page');
      assert.match(JSON.stringify(s.get('execute_tool web_search').input), /quiet hotel Lisbon/,
        'tool input carries gen_ai.tool.call.arguments');
      assert.match(JSON.stringify(s.get('execute_tool web_search').output), /Casa do Silencio/,
        'tool output carries gen_ai.tool.call.result');

      // Canonical messages.
      const plan = s.get('chat gpt-4o');
      assert.ok(Array.isArray(plan.input), `chat input is canonical messages: ${JSON.stringify(plan.input)}`);
      assert.deepEqual(plan.input.map((m) => m.role), ['system', 'user']);
      assert.deepEqual(plan.input[1].parts, [{ type: 'text', content: 'Find me a quiet hotel in Lisbon for May 3.' }]);
      assert.ok(Array.isArray(plan.output), `chat output is canonical messages: ${JSON.stringify(plan.output)}`);
      assert.equal(plan.output[0].role, 'assistant');
      assert.match(messageText(plan.output), /Delegating the search/);
      const calls = partsOfType(plan.output, 'tool_call');
      assert.equal(calls.length, 1, `one tool_call part in ${JSON.stringify(plan.output)}`);
      assert.equal(calls[0].id, 'call_delegate_1');
      assert.equal(calls[0].name, 'delegate');
      const args = typeof calls[0].arguments === 'string' ? JSON.parse(calls[0].arguments) : calls[0].arguments;
      assert.deepEqual(args, { agent: 'researcher', task: 'hotels Lisbon May 3' });
      const results = partsOfType(s.get('chat gpt-4o-mini').input, 'tool_result');
      assert.equal(results.length, 1,
        `tool_call_response becomes a tool_result part: ${JSON.stringify(s.get('chat gpt-4o-mini').input)}`);
      assert.equal(results[0].id, 'call_delegate_1');
      assert.match(JSON.stringify(results[0].result), /Casa do Silencio/);
      assert.equal(messageText(s.get('chat gpt-4o-mini').output), 'I recommend Casa do Silencio.');

      // Original attributes are kept.
      assert.equal(plan.attributes['gen_ai.request.model'], 'gpt-4o');
      assert.equal(plan.attributes['gen_ai.operation.name'], 'chat');

      // Trace summary.
      const t = body.trace;
      assert.equal(t.trace_id, run.traceId);
      assert.equal(t.root_name, 'invoke_agent supervisor');
      assert.equal(t.service, service);
      assert.equal(t.agent_name, 'supervisor');
      assert.equal(t.session_id, sessionId);
      assert.equal(t.user_id, USER);
      assert.equal(t.span_count, 7);
      assert.equal(t.error_count, 1);
      assert.equal(t.llm_calls, 3);
      assert.equal(t.tool_calls, 2);
      assert.equal(t.input_tokens, 620);
      assert.equal(t.output_tokens, 135);
      assert.equal(t.status, 'error', 'root status unset and one span failed: trace is error');
      assert.deepEqual([...t.models].sort(), ['claude-sonnet-4', 'gpt-4o-2024-08-06', 'gpt-4o-mini']);

      // Search and session views see it too.
      const found = await waitForQuery(server, `/api/v1/traces?session_id=${encodeURIComponent(sessionId)}`,
        (b) => Array.isArray(b.traces) && b.traces.length > 0);
      assert.deepEqual(found.traces.map((x) => x.trace_id), [run.traceId]);
      const byTool = await getJSON(server, `/api/v1/traces?tool=fetch_page&service=${service}&status=error`);
      assert.equal(byTool.status, 200);
      assert.deepEqual(byTool.body.traces.map((x) => x.trace_id), [run.traceId]);
      const session = await getJSON(server, `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
      assert.equal(session.status, 200, JSON.stringify(session.body));
      assert.equal(session.body.session.session_id, sessionId);
      assert.equal(session.body.session.trace_count, 1);
      assert.equal(session.body.session.user_id, USER);
      assert.deepEqual(session.body.traces.map((x) => x.trace_id), [run.traceId]);
    });
  }

  test('search filters by service across the exporters', async () => {
    // Each variant above used its own service name; all five runs are stored.
    const all = await getJSON(server, '/api/v1/traces?agent=supervisor&limit=100');
    assert.equal(all.status, 200);
    const services = all.body.traces.map((x) => x.service).sort();
    assert.deepEqual(services, VARIANTS.map((v) => `integ-${v}`).sort());
    const missing = await getJSON(server, '/api/v1/traces/0123456789abcdef0123456789abcdef');
    assert.equal(missing.status, 404);
    assert.ok(missing.body.error && missing.body.error.code, `404 body is {"error":{...}}: ${JSON.stringify(missing.body)}`);
  });
});
