'use strict';
// A small OpenAI-compatible chat completions server on 127.0.0.1:<free port>, for
// the real `openai` npm client to talk to. It answers POST /v1/chat/completions the
// way the OpenAI API does: when the request offers tools and the last message is the
// user's, it calls the first tool; after a tool result it answers in text. Every
// request body is kept for assertions.

const http = require('node:http');

const RESPONSE_MODEL = 'gpt-4o-mini-2024-07-18';

function completion(body, message, finishReason, usage) {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2, 12)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: RESPONSE_MODEL,
    system_fingerprint: 'fp_integ',
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    usage: {
      ...usage,
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
  };
}

function answer(body) {
  const msgs = body.messages || [];
  const last = msgs[msgs.length - 1] || {};
  if (Array.isArray(body.tools) && body.tools.length > 0 && last.role === 'user') {
    const tool = body.tools[0].function;
    return completion(body, {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{
        id: 'call_weather_42',
        type: 'function',
        function: { name: tool.name, arguments: JSON.stringify({ city: 'Lisbon', unit: 'celsius' }) },
      }],
    }, 'tool_calls', { prompt_tokens: 82, completion_tokens: 18 });
  }
  if (last.role === 'tool') {
    return completion(body, { role: 'assistant', content: 'It is 21 degrees and sunny in Lisbon.', refusal: null },
      'stop', { prompt_tokens: 118, completion_tokens: 12 });
  }
  return completion(body, { role: 'assistant', content: 'Hello! How can I help you plan your trip?', refusal: null },
    'stop', { prompt_tokens: 25, completion_tokens: 11 });
}

// Sends `full` as server-sent chat.completion.chunk events, the text split into a few
// deltas, with a final usage chunk when the client asked for one.
function streamAnswer(res, full, includeUsage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model,
    system_fingerprint: full.system_fingerprint };
  const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
  const msg = full.choices[0].message;
  send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  const text = msg.content || '';
  for (let i = 0; i < text.length; i += 8) {
    send({ ...base, choices: [{ index: 0, delta: { content: text.slice(i, i + 8) }, logprobs: null, finish_reason: null }] });
  }
  send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: full.choices[0].finish_reason }] });
  if (includeUsage) send({ ...base, choices: [], usage: full.usage });
  res.end('data: [DONE]\n\n');
}

async function startFakeOpenAI() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }));
        return;
      }
      let body;
      try { body = JSON.parse(raw); } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bad JSON: ${e.message}`, type: 'invalid_request_error' } }));
        return;
      }
      requests.push(body);
      if (body.stream) {
        streamAnswer(res, answer(body), body.stream_options && body.stream_options.include_usage);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${requests.length}` });
      res.end(JSON.stringify(answer(body)));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

module.exports = { startFakeOpenAI, RESPONSE_MODEL };
