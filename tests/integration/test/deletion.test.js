'use strict';
// Deletion on request (docs/deletion.md). The OpenTelemetry JS SDK's protobuf exporter
// sends runs of three users: alice (one run big enough to reach a segment, one still in
// the WAL and memtable), bob, and carol. Then alice is deleted by
// DELETE /api/v1/users/{id} and carol's session by `sightline delete --session`. Every
// file of the data directory is searched, raw and inside every zstd frame
// (tests/integration/lib/scan_data_dir.py), while running and after SIGTERM: neither
// alice's user id nor her payload text may be anywhere, nor carol's, while bob's
// payload text must still be found (proof that the search sees what is on disk).

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { trace, SpanKind, ROOT_CONTEXT } = require('@opentelemetry/api');

const { startServer, waitForTrace, getJSON, binaryPath, sleep } = require('../lib/sightline');
const { makeExporter, makeProvider } = require('../lib/otel');

const SCANNER = path.join(__dirname, '..', 'lib', 'scan_data_dir.py');
const tag = () => crypto.randomBytes(8).toString('hex');

function scan(dir, list) {
  const out = execFileSync('python3', [SCANNER, dir], { input: JSON.stringify(list), maxBuffer: 64 << 20 });
  return JSON.parse(out.toString('utf8'));
}

// One agent run of `user` in `session`; its prompt holds `payload`; `filler` spans of
// ~100 KB of text push it past the memtable limit into a segment.
function emitRun(tracer, user, session, payload, filler) {
  const t0 = Date.now() - 2000;
  const at = (ms) => new Date(t0 + ms);
  const root = tracer.startSpan('support run', {
    kind: SpanKind.INTERNAL,
    startTime: at(0),
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'helper', 'user.id': user, 'session.id': session },
  }, ROOT_CONTEXT);
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const llm = tracer.startSpan('chat gpt-4o', {
    kind: SpanKind.CLIENT,
    startTime: at(10),
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'user.id': user,
      'session.id': session,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `my note: ${payload}` }] }]),
    },
  }, ctx);
  llm.end(at(200));
  for (let i = 0; i < filler; ++i) {
    const f = tracer.startSpan(`filler ${i}`, { startTime: at(300 + i), attributes: {
      text: `${payload} ` + 'The agent looked up the order and wrote a careful answer. '.repeat(1800),
    } }, ctx);
    f.end(at(301 + i));
  }
  root.end(at(400));
  return { traceId: root.spanContext().traceId, spans: 2 + filler };
}

describe('deletion on request, proven on disk', () => {
  let server;
  const alice = `alice-${tag()}`;
  const bob = `bob-${tag()}`;
  const carol = `carol-${tag()}`;
  const carolSession = `ticket-${tag()}`;
  const pay = { alice: `ALICEPAY${tag()}`, bob: `BOBPAY${tag()}`, carol: `CAROLPAY${tag()}` };
  const runs = {};

  before(async () => {
    server = await startServer({ extraArgs: ['--memtable-limit-bytes', '2MiB'] });
    const { provider, recorder } = makeProvider(makeExporter('proto', server), 'deletion-test');
    const tracer = provider.getTracer('deletion-test');
    runs.alice1 = emitRun(tracer, alice, `s-${tag()}`, pay.alice, 40);  // reaches a segment
    runs.bob = emitRun(tracer, bob, `s-${tag()}`, pay.bob, 40);
    await provider.forceFlush();
    runs.alice2 = emitRun(tracer, alice, `s-${tag()}`, pay.alice, 0);  // stays in the WAL / memtable
    runs.carol = emitRun(tracer, carol, carolSession, pay.carol, 0);
    runs.bob2 = emitRun(tracer, bob, `s-${tag()}`, pay.bob, 0);
    await provider.forceFlush();
    await provider.shutdown();
    recorder.assertAllSucceeded();
    for (const r of Object.values(runs)) await waitForTrace(server, r.traceId, r.spans);
  });

  after(async () => {
    if (server) {
      const dir = server.dataDir;
      if (!server.exited) await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('before: every user is on disk (the search sees segments and the WAL)', async () => {
    let found;
    for (let i = 0; i < 100; ++i) {  // the size-triggered flush runs in the background
      found = scan(server.dataDir, [alice, pay.alice, pay.bob, pay.carol]).found;
      if (found[pay.alice].some((w) => w.startsWith('segments/'))) break;
      await sleep(100);
    }
    assert.ok(found[pay.alice].some((w) => w.startsWith('segments/')), `alice not in a segment: ${JSON.stringify(found[pay.alice])}`);
    assert.ok(found[pay.alice].some((w) => w.startsWith('wal/')), `alice not in the WAL: ${JSON.stringify(found[pay.alice])}`);
    assert.ok(found[pay.bob].length > 0 && found[pay.carol].length > 0);
  });

  test('DELETE /api/v1/users/{id} answers with the deletion, and queries forget the user', async () => {
    const res = await fetch(`${server.baseUrl}/api/v1/users/${encodeURIComponent(alice)}`, { method: 'DELETE' });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const d = body.deletion;
    assert.equal(d.kind, 'user');
    assert.equal(d.value, alice);
    assert.equal(d.traces, 2);
    assert.equal(d.spans, runs.alice1.spans + runs.alice2.spans);
    assert.equal(d.status, 'complete');
    assert.ok(d.id >= 1 && d.requested_at && d.completed_at && d.requested_by === 'api');
    assert.equal((await getJSON(server, `/api/v1/traces/${runs.alice1.traceId}`)).status, 404);
    assert.equal((await getJSON(server, `/api/v1/traces/${runs.alice2.traceId}`)).status, 404);
    const search = await getJSON(server, `/api/v1/traces?user_id=${encodeURIComponent(alice)}`);
    assert.deepEqual(search.body.traces, []);
    assert.equal((await getJSON(server, `/api/v1/traces/${runs.bob.traceId}`)).status, 200);
    const list = await getJSON(server, '/api/v1/deletions');
    assert.equal(list.body.deletions.length, 1);
    assert.equal(list.body.deletions[0].value, undefined, 'the list must not repeat the deleted id');
    assert.equal(list.body.deletions[0].value_sha256, crypto.createHash('sha256').update(alice).digest('hex'));
  });

  test('sightline delete --session forgets a session', () => {
    const out = execFileSync(binaryPath(), ['delete', '--session', carolSession, '--server', server.baseUrl, '--json']);
    const d = JSON.parse(out.toString('utf8')).deletion;
    assert.equal(d.kind, 'session');
    assert.equal(d.traces, 1);
    assert.equal(d.requested_by, 'api:cli');
  });

  test('no file holds a deleted user id or payload, raw or zstd-decompressed; others remain', async () => {
    const gone = [alice, pay.alice, carol, carolSession, pay.carol];
    const live = scan(server.dataDir, [...gone, pay.bob, bob]);
    for (const n of gone) assert.deepEqual(live.found[n], [], `${n} is still on disk while running`);
    assert.ok(live.found[pay.bob].some((w) => w.includes(':zstd@')), `bob's payload not found: ${JSON.stringify(live.found[pay.bob])}`);

    const dir = server.dataDir;
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
    const closed = scan(dir, [...gone, pay.bob]);
    assert.ok(closed.frames > 0);
    for (const n of gone) assert.deepEqual(closed.found[n], [], `${n} is on disk after shutdown`);
    assert.ok(closed.found[pay.bob].length > 0, 'bob is gone too');
  });
});
