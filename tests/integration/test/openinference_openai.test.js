'use strict';
// OpenInference's instrumentation of the real `openai` npm client, exporting with the
// OTel SDK's protobuf exporter. The client talks to a local OpenAI-compatible server;
// an agent turn makes a tool-calling completion and then a follow-up with the tool's
// result. Sightline must turn the flattened llm.input_messages.N.message.* /
// llm.output_messages.N.message.* attributes into canonical messages.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
const OpenAIModule = require('openai');

const {
  startServer, waitForTrace, waitForQuery, messageText, partsOfType, assertTreeOrder,
} = require('../lib/sightline');
const { makeExporter, makeProvider } = require('../lib/otel');
const { startFakeOpenAI, RESPONSE_MODEL } = require('../lib/fake_openai');

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};

describe('OpenInference OpenAI instrumentation', () => {
  let server;
  let fake;
  let contextManager;
  before(async () => {
    server = await startServer();
    fake = await startFakeOpenAI();
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  });
  after(async () => {
    context.disable();
    if (fake) await fake.close();
    if (server) await server.stop();
  });

  test('chat completions with a tool call become llm spans with canonical messages', async () => {
    const { provider, recorder } = makeProvider(makeExporter('proto', server), 'weather-bot', {
      'openinference.project.name': 'weather',
    });
    const instrumentation = new OpenAIInstrumentation({ tracerProvider: provider });
    instrumentation.manuallyInstrument(OpenAIModule);
    const client = new OpenAIModule.OpenAI({ apiKey: 'sk-integration-test', baseURL: fake.baseURL, maxRetries: 0 });
    const tracer = provider.getTracer('weather-bot');

    const messages = [
      { role: 'system', content: 'You are a concise weather assistant.' },
      { role: 'user', content: 'What is the weather in Lisbon?' },
    ];
    let traceId;
    let rootSpanId;
    await tracer.startActiveSpan('weather turn', {
      attributes: { 'openinference.span.kind': 'AGENT', 'session.id': 'weather-session-1', 'user.id': 'u-99' },
    }, async (root) => {
      traceId = root.spanContext().traceId;
      rootSpanId = root.spanContext().spanId;
      const first = await client.chat.completions.create({
        model: 'gpt-4o-mini', messages, tools: [WEATHER_TOOL], temperature: 0,
      });
      const call = first.choices[0].message.tool_calls[0];
      assert.equal(call.function.name, 'get_weather');
      const second = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          ...messages,
          first.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21,"sky":"sunny"}' },
        ],
        tools: [WEATHER_TOOL],
      });
      assert.match(second.choices[0].message.content, /21 degrees/);
      root.end();
    });
    instrumentation.disable();
    await provider.forceFlush();
    await provider.shutdown();
    recorder.assertAllSucceeded();
    assert.equal(fake.requests.length, 2, 'the client reached the local OpenAI-compatible server twice');
    assert.equal(recorder.exportedSpanCount(), 3, 'root + two instrumented completions were exported');

    const body = await waitForTrace(server, traceId, 3);
    const { spans } = body;
    assert.equal(spans.length, 3);
    assertTreeOrder(assert, spans);
    assert.equal(spans[0].span_id, rootSpanId);
    assert.equal(spans[0].kind, 'agent', 'openinference.span.kind AGENT');
    assert.equal(spans[0].parent_span_id, null);
    const llm = spans.slice(1);
    for (const sp of llm) {
      assert.equal(sp.name, 'OpenAI Chat Completions');
      assert.equal(sp.parent_span_id, rootSpanId, 'completion spans are children of the agent turn');
      assert.equal(sp.kind, 'llm');
      assert.equal(sp.model, RESPONSE_MODEL, 'model from llm.model_name (the response model)');
      assert.equal(sp.provider, 'openai', 'provider from llm.system');
    }
    const [first, second] = llm;
    assert.ok(BigInt(first.start_ns) <= BigInt(second.start_ns));
    assert.equal(first.input_tokens, 82);
    assert.equal(first.output_tokens, 18);
    assert.equal(second.input_tokens, 118);
    assert.equal(second.output_tokens, 12);
    assert.equal(first.finish_reason, 'tool_calls');
    assert.equal(second.finish_reason, 'stop');
    assert.equal(spans[0].session_id, 'weather-session-1');
    assert.equal(spans[0].user_id, 'u-99');
    assert.equal(spans[0].project, 'weather', 'project from resource openinference.project.name');

    // First call: input system+user text; output an assistant tool_call part.
    assert.ok(Array.isArray(first.input), `input is canonical messages: ${JSON.stringify(first.input)}`);
    assert.deepEqual(first.input.map((m) => m.role), ['system', 'user']);
    assert.deepEqual(first.input[0].parts, [{ type: 'text', content: 'You are a concise weather assistant.' }]);
    assert.deepEqual(first.input[1].parts, [{ type: 'text', content: 'What is the weather in Lisbon?' }]);
    assert.ok(Array.isArray(first.output), `output is canonical messages: ${JSON.stringify(first.output)}`);
    assert.equal(first.output.length, 1);
    assert.equal(first.output[0].role, 'assistant');
    const calls = partsOfType(first.output, 'tool_call');
    assert.equal(calls.length, 1, `one tool_call part: ${JSON.stringify(first.output)}`);
    assert.equal(calls[0].id, 'call_weather_42');
    assert.equal(calls[0].name, 'get_weather');
    const args = typeof calls[0].arguments === 'string' ? JSON.parse(calls[0].arguments) : calls[0].arguments;
    assert.deepEqual(args, { city: 'Lisbon', unit: 'celsius' });

    // Second call: the history carries the assistant's tool call and the tool result.
    assert.deepEqual(second.input.map((m) => m.role), ['system', 'user', 'assistant', 'tool']);
    assert.equal(partsOfType(second.input, 'tool_call')[0]?.id, 'call_weather_42',
      `assistant history keeps its tool_call: ${JSON.stringify(second.input)}`);
    const results = partsOfType(second.input, 'tool_result');
    assert.equal(results.length, 1, `the tool message is a tool_result part: ${JSON.stringify(second.input[3])}`);
    assert.equal(results[0].id, 'call_weather_42');
    assert.match(JSON.stringify(results[0].result), /temp_c/);
    assert.equal(messageText(second.output), 'It is 21 degrees and sunny in Lisbon.');

    // The raw OpenInference attributes are kept.
    assert.equal(first.attributes['llm.output_messages.0.message.tool_calls.0.tool_call.function.name'], 'get_weather');
    assert.equal(first.attributes['openinference.span.kind'], 'LLM');

    const t = body.trace;
    assert.equal(t.llm_calls, 2);
    assert.equal(t.input_tokens, 200);
    assert.equal(t.output_tokens, 30);
    assert.deepEqual(t.models, [RESPONSE_MODEL]);
    assert.equal(t.session_id, 'weather-session-1');
  });

  test('a streamed completion is one llm span with the assembled output', async () => {
    const { provider, recorder } = makeProvider(makeExporter('proto', server), 'weather-bot-stream');
    const instrumentation = new OpenAIInstrumentation({ tracerProvider: provider });
    instrumentation.manuallyInstrument(OpenAIModule);
    const client = new OpenAIModule.OpenAI({ apiKey: 'sk-integration-test', baseURL: fake.baseURL, maxRetries: 0 });
    const before = fake.requests.length;
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content || '';
    assert.equal(text, 'Hello! How can I help you plan your trip?');
    instrumentation.disable();
    await provider.forceFlush();
    await provider.shutdown();
    recorder.assertAllSucceeded();
    assert.equal(fake.requests.length, before + 1);
    assert.equal(recorder.results.length, 1);
    const exported = recorder.exportedSpanCount();
    assert.equal(exported, 1);

    const found = await waitForQuery(server, '/api/v1/traces?service=weather-bot-stream',
      (b) => Array.isArray(b.traces) && b.traces.length === 1);
    const body = await waitForTrace(server, found.traces[0].trace_id, 1);
    const [sp] = body.spans;
    assert.equal(sp.kind, 'llm');
    assert.equal(sp.parent_span_id, null);
    assert.equal(sp.model, 'gpt-4o-mini', 'streamed spans carry the request model');
    assert.deepEqual(sp.input, [{ role: 'user', parts: [{ type: 'text', content: 'Say hello.' }] }]);
    assert.equal(messageText(sp.output), 'Hello! How can I help you plan your trip?');
    // (OpenInference 4.2 records no token counts on streamed completions.)
    assert.equal(sp.finish_reason, 'stop');
  });
});
