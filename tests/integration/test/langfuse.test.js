'use strict';
// Langfuse's JS SDK v4 (@langfuse/tracing + @langfuse/otel's LangfuseSpanProcessor)
// pointed at Sightline by its base URL only, so it posts OTLP/JSON to
// /api/public/otel/v1/traces exactly as it would to Langfuse.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { context, diag, DiagLogLevel } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { LangfuseSpanProcessor } = require('@langfuse/otel');
const { setLangfuseTracerProvider } = require('@langfuse/tracing');

const {
  startServer, getJSON, waitForTrace, byName, messageText, assertTreeOrder,
} = require('../lib/sightline');
const { emitLangfuseRun, RUN } = require('../lib/langfuse_run');

describe('Langfuse JS SDK v4', () => {
  let server;
  const diagErrors = [];
  before(async () => {
    server = await startServer();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    // Export failures are only reported through diag: keep them for the assertion text.
    diag.setLogger({
      error: (...a) => diagErrors.push(a.map(String).join(' ')),
      warn: (...a) => diagErrors.push(a.map(String).join(' ')),
      info: () => {}, debug: () => {}, verbose: () => {},
    }, DiagLogLevel.WARN);
  });
  after(async () => {
    context.disable();
    diag.disable();
    setLangfuseTracerProvider(null);
    if (server) await server.stop();
  });

  test('agent, retriever, generation and failing tool arrive with model, usage, cost, ids, io', async () => {
    const processor = new LangfuseSpanProcessor({
      publicKey: 'pk-lf-integration',
      secretKey: 'sk-lf-integration',
      baseUrl: server.baseUrl,
      environment: 'integration',
    });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    setLangfuseTracerProvider(provider);

    const run = await emitLangfuseRun();
    await provider.forceFlush();
    await provider.shutdown();

    let body;
    try {
      body = await waitForTrace(server, run.traceId, 4);
    } catch (err) {
      err.message += `\nLangfuse exporter diagnostics: ${diagErrors.join('\n') || '(none)'}`;
      throw err;
    }
    const { spans } = body;
    assert.equal(spans.length, 4);
    assertTreeOrder(assert, spans);
    assert.deepEqual(spans.map((s) => s.name), ['support-agent', 'lookup-orders', 'answer-generation', 'issue-refund']);
    const s = byName(spans);
    assert.equal(s.get('support-agent').span_id, run.ids.agent);
    assert.equal(s.get('support-agent').parent_span_id, null);
    for (const name of ['lookup-orders', 'answer-generation', 'issue-refund']) {
      assert.equal(s.get(name).parent_span_id, run.ids.agent, `${name}.parent_span_id`);
    }

    // Kinds from langfuse.observation.type.
    assert.equal(s.get('support-agent').kind, 'agent');
    assert.equal(s.get('lookup-orders').kind, 'retrieval', 'retriever -> retrieval');
    assert.equal(s.get('answer-generation').kind, 'llm', 'generation -> llm');
    assert.equal(s.get('issue-refund').kind, 'tool');

    // Session and user on every observation (propagateAttributes).
    for (const sp of spans) {
      assert.equal(sp.session_id, RUN.sessionId, `${sp.name}.session_id`);
      assert.equal(sp.user_id, RUN.userId, `${sp.name}.user_id`);
    }

    // The generation: model, usage_details, cost_details, messages.
    const gen = s.get('answer-generation');
    assert.equal(gen.model, RUN.model, 'model from langfuse.observation.model.name');
    assert.equal(gen.input_tokens, RUN.usage.input, 'input_tokens from usage_details.input');
    assert.equal(gen.output_tokens, RUN.usage.output, 'output_tokens from usage_details.output');
    assert.ok(Math.abs(gen.cost_usd - RUN.cost.total) < 1e-9, `cost_usd from cost_details.total: got ${gen.cost_usd}`);
    assert.ok(Array.isArray(gen.input), `generation input is canonical messages: ${JSON.stringify(gen.input)}`);
    assert.deepEqual(gen.input, [
      { role: 'system', parts: [{ type: 'text', content: 'You are a helpful support agent.' }] },
      { role: 'user', parts: [{ type: 'text', content: RUN.question }] },
    ]);
    assert.match(messageText(gen.output), /shipped yesterday/, `generation output: ${JSON.stringify(gen.output)}`);
    assert.equal(gen.attributes['langfuse.observation.type'], 'generation');

    // Other observations keep their input/output.
    assert.match(JSON.stringify(s.get('support-agent').input), /Where is my order A-1001/);
    assert.match(JSON.stringify(s.get('support-agent').output), /arrives Friday/);
    assert.match(JSON.stringify(s.get('lookup-orders').output), /shipped/);

    // The ERROR level makes the tool an error.
    const tool = s.get('issue-refund');
    assert.equal(tool.status, 'error', 'langfuse.observation.level ERROR -> error');
    assert.equal(s.get('lookup-orders').status === 'error', false);

    // Trace summary and the session view.
    const t = body.trace;
    assert.equal(t.session_id, RUN.sessionId);
    assert.equal(t.user_id, RUN.userId);
    assert.equal(t.span_count, 4);
    assert.equal(t.llm_calls, 1);
    assert.equal(t.input_tokens, RUN.usage.input);
    assert.equal(t.output_tokens, RUN.usage.output);
    assert.ok(Math.abs(t.cost_usd - RUN.cost.total) < 1e-9, `trace cost_usd: got ${t.cost_usd}`);
    assert.deepEqual(t.models, [RUN.model]);
    assert.equal(t.error_count, 1);

    const session = await getJSON(server, `/api/v1/sessions/${RUN.sessionId}`);
    assert.equal(session.status, 200, JSON.stringify(session.body));
    assert.equal(session.body.session.user_id, RUN.userId);
    assert.equal(session.body.session.trace_count, 1);
    assert.equal(session.body.session.input_tokens, RUN.usage.input);
    assert.deepEqual(session.body.traces.map((x) => x.trace_id), [run.traceId]);

    const search = await getJSON(server, `/api/v1/traces?user_id=${RUN.userId}&kind=llm&model=${RUN.model}`);
    assert.equal(search.status, 200);
    assert.deepEqual(search.body.traces.map((x) => x.trace_id), [run.traceId]);
  });
});
