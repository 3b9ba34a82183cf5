'use strict';
// Bad input through real HTTP (fetch): wrong content types, undecodable bodies and a
// half-bad batch. Sightline must answer with clear errors in the documented shape,
// keep the valid spans of a partly bad batch, and stay up throughout.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const zlib = require('node:zlib');

const { startServer, getJSON, waitForTrace } = require('../lib/sightline');

const hex = (bytes) => crypto.randomBytes(bytes).toString('hex');

function otlpJson(spans, service = 'bad-input-test') {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'integration', version: '1' }, spans }],
    }],
  };
}

function jsonSpan(traceId, spanId, name, extra = {}) {
  const start = BigInt(Date.now() - 1000) * 1000000n;
  return {
    traceId, spanId, name, kind: 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 250000000n),
    attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } }],
    status: {},
    ...extra,
  };
}

async function post(server, path, body, headers) {
  const res = await fetch(server.baseUrl + path, { method: 'POST', body, headers });
  const buf = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') || '';
  let json = null;
  if (type.includes('json')) {
    try { json = JSON.parse(buf.toString('utf8')); } catch (_) { /* asserted by the caller */ }
  }
  return { status: res.status, type, json, text: buf.toString('latin1') };
}

// The error text of a response: the JSON error's message, or for a protobuf answer
// (a google.rpc.Status) the readable bytes of the body.
function errorText(r) {
  if (r.json && r.json.error) return `${r.json.error.code} ${r.json.error.message}`;
  if (r.json && typeof r.json.message === 'string') return r.json.message;
  return r.text;
}

describe('bad input over HTTP', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => {
    if (server) {
      const health = await getJSON(server, '/healthz');
      assert.equal(health.status, 200, 'the server is still healthy after all the bad input');
      await server.stop();
    }
  });

  for (const path of ['/v1/traces', '/api/public/otel/v1/traces']) {
    test(`${path}: wrong content type -> 415 with {"error":{...}}`, async () => {
      const r = await post(server, path, 'hello', { 'content-type': 'text/plain' });
      assert.equal(r.status, 415);
      assert.ok(r.json && r.json.error, `415 body is {"error":{...}}: ${r.text}`);
      assert.equal(typeof r.json.error.code, 'string');
      assert.ok(r.json.error.message.length > 0);
    });
  }

  test('garbage protobuf -> 400 naming a decode error', async () => {
    // Field 1 (resource_spans, length-delimited) claiming 1000 bytes that are not there,
    // followed by bytes with an invalid wire type.
    const garbage = Buffer.from([0x0a, 0xe8, 0x07, 0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x07]);
    const r = await post(server, '/v1/traces', garbage, { 'content-type': 'application/x-protobuf' });
    assert.equal(r.status, 400, `status for garbage protobuf: ${r.text}`);
    assert.match(r.type, /application\/x-protobuf|application\/json/, 'an OTLP error body (google.rpc.Status or JSON)');
    assert.match(errorText(r), /protobuf|decod|pars|malformed|invalid|truncat|overrun/i, `error names the decode failure: ${errorText(r)}`);
  });

  test('malformed JSON -> 400 with {"error":{...}}', async () => {
    const r = await post(server, '/v1/traces', '{"resourceSpans": [', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.ok(r.json && r.json.error, `400 body is {"error":{...}}: ${r.text}`);
    assert.match(r.json.error.message, /json|pars|decod|malformed|invalid/i);
  });

  test('Content-Encoding gzip with a body that is not gzip -> 400', async () => {
    const r = await post(server, '/v1/traces', '{"resourceSpans":[]}', {
      'content-type': 'application/json', 'content-encoding': 'gzip',
    });
    assert.equal(r.status, 400, `status: ${r.text}`);
  });

  test('empty protobuf request is a valid empty export -> 200', async () => {
    const r = await post(server, '/v1/traces', Buffer.alloc(0), { 'content-type': 'application/x-protobuf' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.type, /application\/x-protobuf/, 'answer in the request\'s content type');
  });

  for (const gzip of [false, true]) {
    test(`JSON batch with one bad traceId and one good span${gzip ? ' (gzip)' : ''} -> partial success`, async () => {
      const goodTrace = hex(16);
      const goodSpan = hex(8);
      const payload = JSON.stringify(otlpJson([
        jsonSpan('abcdef', hex(8), 'span with a short trace id'),
        jsonSpan(goodTrace, goodSpan, 'the good span'),
      ]));
      const headers = { 'content-type': 'application/json' };
      let body = payload;
      if (gzip) {
        body = zlib.gzipSync(payload);
        headers['content-encoding'] = 'gzip';
      }
      const r = await post(server, '/v1/traces', body, headers);
      assert.equal(r.status, 200, `status: ${r.text}`);
      assert.match(r.type, /application\/json/, 'answer in the request\'s content type');
      assert.ok(r.json && r.json.partialSuccess, `partialSuccess present: ${r.text}`);
      assert.equal(Number(r.json.partialSuccess.rejectedSpans), 1, `rejectedSpans: ${r.text}`);
      assert.match(r.json.partialSuccess.errorMessage || '', /trace/i, 'errorMessage names the trace id problem');

      const stored = await waitForTrace(server, goodTrace, 1);
      assert.equal(stored.spans.length, 1);
      assert.equal(stored.spans[0].name, 'the good span');
      assert.equal(stored.spans[0].span_id, goodSpan);
      assert.equal(stored.spans[0].kind, 'llm');
      assert.equal(stored.spans[0].service, 'bad-input-test');
    });
  }

  test('JSON span ids that are not 16 hex digits are rejected, valid ones kept', async () => {
    const goodTrace = hex(16);
    const r = await post(server, '/v1/traces', JSON.stringify(otlpJson([
      jsonSpan(goodTrace, 'zzzzzzzzzzzzzzzz', 'non-hex span id'),
      jsonSpan(goodTrace, hex(4), 'short span id'),
      jsonSpan(goodTrace, hex(8), 'kept span'),
    ])), { 'content-type': 'application/json' });
    assert.equal(r.status, 200, r.text);
    assert.equal(Number(r.json?.partialSuccess?.rejectedSpans), 2, `rejectedSpans: ${r.text}`);
    const stored = await waitForTrace(server, goodTrace, 1);
    assert.deepEqual(stored.spans.map((s) => s.name), ['kept span']);
  });

  test('unknown trace and session ids -> 404 with {"error":{...}}', async () => {
    for (const path of ['/api/v1/traces/00000000000000000000000000000001', '/api/v1/sessions/no-such-session']) {
      const r = await getJSON(server, path);
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
      assert.ok(r.body && r.body.error && r.body.error.code, `${path}: body ${JSON.stringify(r.body)}`);
    }
  });

  test('a bad search parameter -> 400 naming it', async () => {
    const r = await getJSON(server, '/api/v1/traces?min_duration_ms=soon');
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body.error), /min_duration_ms/);
  });
});
