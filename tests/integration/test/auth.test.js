'use strict';
// Authentication with real clients (docs/auth.md): `sightline admin` creates projects,
// keys, a user and a token in the data directory of a RUNNING server; the server
// switches from open to required by itself; the OpenTelemetry proto and gRPC exporters
// send with their project's key (header / metadata), Langfuse's SDK with its key pair
// by Basic auth; missing and wrong keys are refused; reads with a token or a key see
// only their own project. Also: a non-loopback address with no auth configured
// refuses to start.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { context, diag, DiagLogLevel } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { ExportResultCode } = require('@opentelemetry/core');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { LangfuseSpanProcessor } = require('@langfuse/otel');
const { setLangfuseTracerProvider } = require('@langfuse/tracing');

const { startServer } = require('../lib/sightline');
const { makeProvider } = require('../lib/otel');
const { emitLangfuseRun } = require('../lib/langfuse_run');

const BIN = process.env.SIGHTLINE_BIN || path.resolve(__dirname, '..', '..', '..', 'build', 'sightline');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function admin(dataDir, ...args) {
  const out = execFileSync(BIN, ['admin', '--data', dataDir, '--json', ...args], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out.trim().split('\n').pop()) : null;
}

async function fetchAs(server, apiPath, secret) {
  const headers = secret ? { Authorization: `Bearer ${secret}` } : {};
  const res = await fetch(server.baseUrl + apiPath, { headers });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch (_) { /* text */ }
  return { status: res.status, body };
}

// Sends one span named `name` through a fresh provider around `exporter`; resolves to
// {traceId, recorder}.
async function sendOne(exporter, name) {
  const { provider, recorder } = makeProvider(exporter, 'auth-test');
  const span = provider.getTracer('auth').startSpan(name);
  const traceId = span.spanContext().traceId;
  span.end();
  // A refused export rejects the flush; the recorder keeps the result either way.
  await provider.forceFlush().catch(() => {});
  await provider.shutdown().catch(() => {});
  return { traceId, recorder };
}

function protoExporter(server, headers) {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: `${server.baseUrl}/v1/traces`, headers });
}

function grpcExporter(server, entries) {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
  const { Metadata } = require('@grpc/grpc-js');
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
  return new OTLPTraceExporter({ url: `http://${server.grpcAddr}`, metadata });
}

describe('authentication and isolation with real clients', () => {
  let server;
  let keyA;
  let keyB;
  let token;
  before(async () => {
    server = await startServer();
    const open = await fetchAs(server, '/api/v1/auth/status');
    assert.equal(open.body.mode, 'open', 'a fresh data directory starts open');
    assert.match(server.stderr, /auth open/);

    admin(server.dataDir, 'projects', 'create', 'alpha');
    admin(server.dataDir, 'projects', 'create', 'beta');
    keyA = admin(server.dataDir, 'keys', 'create', '--project', 'alpha', '--name', 'otel');
    keyB = admin(server.dataDir, 'keys', 'create', '--project', 'beta', '--name', 'grpc');
    execFileSync(BIN, ['admin', '--data', server.dataDir, 'users', 'create', 'ana'], { encoding: 'utf8' });
    admin(server.dataDir, 'users', 'set-role', 'ana', '--project', 'beta', '--role', 'viewer');
    token = admin(server.dataDir, 'tokens', 'create', '--user', 'ana').token;
    assert.match(keyA.public_key, /^pk-lf-[0-9a-f]{12}$/);
    assert.match(keyA.secret_key, /^sk-lf-[0-9a-f]{12}[A-Za-z0-9]{32}$/);
    assert.match(token, /^slt_/);

    // The running server notices the new keys by itself.
    const deadline = Date.now() + 5000;
    for (;;) {
      const st = await fetchAs(server, '/api/v1/auth/status');
      if (st.body.mode === 'required') break;
      if (Date.now() > deadline) assert.fail(`server still open after admin created keys\n${server.logs()}`);
      await sleep(100);
    }
    // It may have re-read the database between the keys and the token: wait until the
    // token (created last) is known too.
    for (;;) {
      const st = await fetchAs(server, '/api/v1/traces', token);
      if (st.status === 200) break;
      if (Date.now() > deadline) assert.fail(`the server does not know the token yet\n${server.logs()}`);
      await sleep(100);
    }
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    diag.setLogger({ error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} },
      DiagLogLevel.NONE);
  });
  after(async () => {
    context.disable();
    diag.disable();
    setLangfuseTracerProvider(null);
    if (server) await server.stop();
  });

  test('the secret is not in the data directory', () => {
    for (const f of fs.readdirSync(server.dataDir)) {
      const p = path.join(server.dataDir, f);
      if (!fs.statSync(p).isFile()) continue;
      const bytes = fs.readFileSync(p);
      assert.equal(bytes.indexOf(keyA.secret_key.slice(18)), -1, `secret found in ${f}`);
      assert.equal(bytes.indexOf(token.slice(16)), -1, `token found in ${f}`);
    }
  });

  test('OTLP/HTTP proto with x-sightline-api-key lands in the key\'s project', async () => {
    const { traceId, recorder } = await sendOne(
      protoExporter(server, { 'x-sightline-api-key': keyA.secret_key, 'x-sightline-project': 'beta' }), 'alpha-span');
    recorder.assertAllSucceeded();
    const r = await fetchAs(server, `/api/v1/traces/${traceId}`, keyA.secret_key);
    for (let i = 0; i < 80 && r.status !== 200; i++) {
      await sleep(100);
      Object.assign(r, await fetchAs(server, `/api/v1/traces/${traceId}`, keyA.secret_key));
    }
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.trace.project, 'alpha');
    // Beta's key and ana's token (viewer on beta) see nothing of it.
    assert.equal((await fetchAs(server, `/api/v1/traces/${traceId}`, keyB.secret_key)).status, 404);
    assert.equal((await fetchAs(server, `/api/v1/traces/${traceId}`, token)).status, 404);
    assert.equal((await fetchAs(server, `/api/v1/traces/${traceId}`)).status, 401);
  });

  test('OTLP/gRPC with authorization metadata lands in the key\'s project', async () => {
    const { traceId, recorder } = await sendOne(
      grpcExporter(server, { authorization: `Bearer ${keyB.secret_key}` }), 'beta-span');
    recorder.assertAllSucceeded();
    let r;
    for (let i = 0; i < 80; i++) {
      r = await fetchAs(server, `/api/v1/traces/${traceId}`, token);
      if (r.status === 200) break;
      await sleep(100);
    }
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.trace.project, 'beta');
    assert.equal((await fetchAs(server, `/api/v1/traces/${traceId}`, keyA.secret_key)).status, 404);
    // Search with the token: beta only.
    const list = await fetchAs(server, '/api/v1/traces?limit=100', token);
    assert.equal(list.status, 200);
    assert.ok(list.body.traces.length >= 1);
    for (const t of list.body.traces) assert.equal(t.project, 'beta');
    const other = await fetchAs(server, '/api/v1/traces?project=alpha', token);
    assert.deepEqual(other.body.traces, []);
  });

  test('missing and wrong keys are refused over HTTP and gRPC', async () => {
    const wrong = keyA.secret_key.slice(0, -1) + (keyA.secret_key.endsWith('x') ? 'y' : 'x');
    for (const exporter of [
      protoExporter(server, {}),
      protoExporter(server, { 'x-sightline-api-key': wrong }),
      grpcExporter(server, {}),
      grpcExporter(server, { 'x-sightline-api-key': wrong }),
    ]) {
      const { traceId, recorder } = await sendOne(exporter, 'refused');
      assert.ok(recorder.results.length > 0);
      for (const r of recorder.results) assert.notEqual(r.code, ExportResultCode.SUCCESS);
      assert.equal((await fetchAs(server, `/api/v1/traces/${traceId}`, keyA.secret_key)).status, 404);
    }
    // The 401 body names no project and no key.
    const res = await fetch(`${server.baseUrl}/v1/traces`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'x-sightline-api-key': wrong }, body: '{}',
    });
    assert.equal(res.status, 401);
    const text = await res.text();
    assert.doesNotMatch(text, /alpha|beta|pk-lf|sk-lf-[0-9a-f]/);
  });

  test('Langfuse SDK v4 with the key pair (Basic auth) lands in the key\'s project', async () => {
    const processor = new LangfuseSpanProcessor({
      publicKey: keyA.public_key, secretKey: keyA.secret_key, baseUrl: server.baseUrl,
    });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    setLangfuseTracerProvider(provider);
    const run = await emitLangfuseRun();
    await provider.forceFlush();
    await provider.shutdown();
    let r;
    for (let i = 0; i < 80; i++) {
      r = await fetchAs(server, `/api/v1/traces/${run.traceId}`, keyA.secret_key);
      if (r.status === 200 && r.body.spans.length >= 4) break;
      await sleep(100);
    }
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    assert.equal(r.body.trace.project, 'alpha');
    assert.equal((await fetchAs(server, `/api/v1/traces/${run.traceId}`, keyB.secret_key)).status, 404);
  });

  test('a revoked key is refused within a second or two', async () => {
    admin(server.dataDir, 'keys', 'revoke', keyB.public_key);
    const deadline = Date.now() + 3000;
    for (;;) {
      const r = await fetchAs(server, '/api/v1/traces', keyB.secret_key);
      if (r.status === 401) break;
      if (Date.now() > deadline) assert.fail('revoked key still accepted after 3 s');
      await sleep(100);
    }
  });

  test('sightline admin changes reach the running server\'s audit trail, without secrets', async () => {
    // The CLI writes meta.db's outbox in the same transaction as each change; the
    // server moves the rows into DATA/audit once a second (docs/audit.md).
    const deadline = Date.now() + 5000;
    let lines = [];
    for (;;) {
      const out = execFileSync(BIN, ['audit', 'export', '--data', server.dataDir], { encoding: 'utf8' });
      lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      if (lines.some((r) => r.action === 'key.revoke')) break;
      if (Date.now() > deadline) assert.fail(`no key.revoke in the trail after 5 s:\n${out}`);
      await sleep(100);
    }
    const actions = lines.filter((r) => r.principal.startsWith('admin-cli:')).map((r) => r.action);
    for (const a of ['project.create', 'key.create', 'user.create', 'user.role', 'token.create', 'key.revoke']) {
      assert.ok(actions.includes(a), `${a} missing from ${actions.join(',')}`);
    }
    const text = lines.map((r) => JSON.stringify(r)).join('\n');
    for (const secret of [keyA.secret_key, keyB.secret_key, token]) assert.ok(!text.includes(secret));
    const verify = spawnSync(BIN, ['audit', 'verify', '--data', server.dataDir], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });

  test('the CLI reads with SIGHTLINE_TOKEN', () => {
    const env = { ...process.env, SIGHTLINE_URL: server.baseUrl, SIGHTLINE_TOKEN: token };
    const ok = spawnSync(BIN, ['traces', '--json', '--limit', '100'], { env, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    for (const t of JSON.parse(ok.stdout).traces) assert.equal(t.project, 'beta');
    const none = spawnSync(BIN, ['traces'], { env: { ...env, SIGHTLINE_TOKEN: '' }, encoding: 'utf8' });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /SIGHTLINE_TOKEN/);
  });
});

describe('signed audit head', () => {
  test('keygen, a signing server, and verify --public-key catching an unsigned HEAD', async () => {
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-audit-key-'));
    const keyFile = path.join(keyDir, 'audit.key');
    let server;
    try {
      const gen = spawnSync(BIN, ['audit', 'keygen', '--out', keyFile, '--json'], { encoding: 'utf8' });
      assert.equal(gen.status, 0, gen.stderr);
      const pub = JSON.parse(gen.stdout).public_key;
      assert.match(pub, /^[0-9a-f]{64}$/);
      assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
      assert.equal(spawnSync(BIN, ['audit', 'keygen', '--out', keyFile], { encoding: 'utf8' }).status, 2);

      server = await startServer({ extraArgs: ['--audit-signing-key', keyFile] });
      const demo = await fetch(`${server.baseUrl}/api/v1/demo`, { method: 'POST' });
      assert.equal(demo.status, 200);
      const verify = (...extra) => spawnSync(BIN, ['audit', 'verify', '--data', server.dataDir, ...extra], { encoding: 'utf8' });
      let ok = verify('--public-key', pub);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /signed by the given key/);
      // HEAD without its signature line (nothing else is written meanwhile): fine for
      // the chain alone, not with the key.
      const headPath = path.join(server.dataDir, 'audit', 'HEAD');
      const head = fs.readFileSync(headPath, 'utf8');
      fs.writeFileSync(headPath, head.split('\n')[0] + '\n');
      const plain = verify();
      assert.equal(plain.status, 0, plain.stdout);
      const signed = verify('--public-key', pub);
      assert.equal(signed.status, 1, signed.stdout);
      assert.match(signed.stdout, /HEAD's signature: not signed/);
      // A key inside the data directory is refused.
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-auth-'));
      fs.copyFileSync(keyFile, path.join(dataDir, 'audit.key'));
      const inside = spawnSync(BIN, ['serve', '--http', '127.0.0.1:0', '--grpc', 'off', '--data', dataDir,
        '--audit-signing-key', path.join(dataDir, 'audit.key')], { encoding: 'utf8', timeout: 20000 });
      fs.rmSync(dataDir, { recursive: true, force: true });
      assert.equal(inside.status, 2, inside.stderr);
      assert.match(inside.stderr, /inside the data directory/);
    } finally {
      if (server) await server.stop();
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
  });
});

describe('safe defaults', () => {
  test('a non-loopback address with no auth configured refuses to start', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-auth-'));
    try {
      const r = spawnSync(BIN, ['serve', '--http', '0.0.0.0:0', '--grpc', 'off', '--data', dataDir],
        { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /refusing to listen on a non-loopback address/);
      assert.match(r.stderr, /--insecure/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
