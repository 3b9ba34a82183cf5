'use strict';
// Redaction before disk (docs/redaction.md). The OpenTelemetry JS SDK's own exporters
// (protobuf to /v1/traces, JSON to the Langfuse path /api/public/otel/v1/traces, gRPC)
// send spans carrying planted secrets and personal data (in span names, attributes,
// message JSON, array values, events, status messages and the resource) to a server
// with a redaction policy and a small memtable, so it writes segments as it goes.
// Then every file of the data directory is searched, raw and inside every zstd frame
// (tests/integration/lib/scan_data_dir.py): while the server runs (WAL + segments)
// and after SIGTERM (everything in segments). None of the secrets may be anywhere.
// Proof that the search can see: a random marker travels beside every secret in the
// same strings, and the same search must find it, in the WAL and in decompressed
// segment frames.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { trace, SpanKind, SpanStatusCode, ROOT_CONTEXT } = require('@opentelemetry/api');

const { startServer, waitForTrace } = require('../lib/sightline');
const { makeExporter, makeProvider } = require('../lib/otel');

const SCANNER = path.join(__dirname, '..', 'lib', 'scan_data_dir.py');

const POLICY = `
[detectors]
email = "hash"
card = "mask"
iban = "mask"
us_ssn = "drop"
phone = "mask"

[attributes]
drop = ["*.password"]
hash = ["user.id"]
keep = ["tool.args.invoice_id"]

[[custom]]
name = "account"
pattern = 'ACCT-[0-9]{8}'
`;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function rand(n, alphabet = ALNUM) {
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; ++i) s += alphabet[bytes[i] % alphabet.length];
  return s;
}
const digits = (n) => rand(n, '0123456789');

function luhnComplete(prefix) {  // prefix + the check digit
  let sum = 0;
  for (let i = prefix.length - 1, k = 1; i >= 0; --i, ++k) {
    let d = Number(prefix[i]);
    if (k % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return prefix + String((10 - (sum % 10)) % 10);
}

// Fresh secrets for one exporter variant: nothing here can be on disk by chance.
function makeSecrets() {
  const card = luhnComplete('4' + digits(14));
  const pemBody = Array.from({ length: 4 }, () => rand(48, ALNUM + '+/')).join('\n');
  return {
    openai: `sk-proj-${rand(20)}9${rand(20)}`,
    aws: 'AKIA' + rand(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
    github: 'ghp_' + rand(36),
    slack: `xoxb-${digits(11)}-${rand(24)}`,
    jwt: `eyJhbGciOiJIUzI1NiJ9.eyJ${rand(30)}.${rand(43)}`,
    pemBody,
    pem: `-----BEGIN PRIVATE KEY-----\n${pemBody}\n-----END PRIVATE KEY-----`,
    password: 'Pw' + rand(14),
    bearer: rand(32),
    email: `u${rand(10).toLowerCase()}@example.org`,
    userEmail: `user${rand(8).toLowerCase()}@example.net`,
    ownerEmail: `owner${rand(8).toLowerCase()}@example.com`,
    card,
    cardSpaced: card.replace(/(\d{4})(?=\d)/g, '$1 '),
    ssn: `${100 + Number(digits(2))}-${10 + Number(digits(1))}-${1000 + Number(digits(3))}`,
    account: 'ACCT-' + digits(8),
    dbPassword: 'DbPw' + rand(18),
    phone: `+1 415 555 ${digits(4)}`,
  };
}

// The strings that must never be on disk (and some of their parts).
function needles(s) {
  return [s.openai, s.aws, s.github, s.slack, s.jwt, s.pemBody.split('\n')[1], s.password, s.bearer,
    s.email, s.userEmail, s.ownerEmail, s.card, s.cardSpaced, s.ssn, s.account, s.dbPassword, s.phone];
}

function emitRun(tracer, s, marker, filler = 40) {
  const t0 = Date.now() - 2000;
  const at = (ms) => new Date(t0 + ms);
  const root = tracer.startSpan(`send report to ${s.email} ${marker}`, {
    kind: SpanKind.INTERNAL,
    startTime: at(0),
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'reporter',
      'user.id': s.userEmail,
      note: `${marker} key ${s.openai} and ${s.aws}, pay with ${s.cardSpaced} ${marker}`,
      'db.password': s.dbPassword,
      'tool.args.invoice_id': `INV-${marker}`,
      recipients: [s.email, marker, `${s.phone} ${marker}`],
      headers: `${marker} Authorization: Bearer ${s.bearer} ${marker}`,
      config: `${marker} password=${s.password} ${marker}`,
      ssn_note: `${marker} ssn ${s.ssn}`,
      account: `${marker} ${s.account} ${marker}`,
    },
  }, ROOT_CONTEXT);
  const llm = tracer.startSpan('chat gpt-4o', {
    kind: SpanKind.CLIENT,
    startTime: at(10),
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.input.messages': JSON.stringify([
        { role: 'system', parts: [{ type: 'text', content: `${marker} Deploy with this key:\n${s.pem}\n${marker}` }] },
        { role: 'user', parts: [{ type: 'text', content: `${marker} mail ${s.email}, token ${s.slack} ${marker}` }] },
      ]),
      'gen_ai.output.messages': JSON.stringify([
        { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'send', arguments: { to: s.email, auth: s.jwt, note: marker } }] },
      ]),
    },
  }, trace.setSpan(ROOT_CONTEXT, root));
  llm.addEvent('retry', { 'exception.message': `${marker} rejected ${s.github} ${marker}` }, at(50));
  llm.end(at(300));
  root.setStatus({ code: SpanStatusCode.ERROR, message: `${marker} push failed for ${s.github} ${marker}` });
  root.end(at(400));
  // Filler (~115 KB a span), so a run overfills the 4 MiB memtable and goes to a segment.
  for (let i = 0; i < filler; ++i) {
    const f = tracer.startSpan(`filler ${i}`, { startTime: at(500 + i), attributes: {
      text: `${marker} ` + 'The agent read the returns policy and drafted a polite answer. '.repeat(1800),
    } }, trace.setSpan(ROOT_CONTEXT, root));
    f.end(at(501 + i));
  }
  return root.spanContext().traceId;
}

function scan(dir, list) {
  const out = execFileSync('python3', [SCANNER, dir], { input: JSON.stringify(list), maxBuffer: 64 << 20 });
  return JSON.parse(out.toString('utf8'));
}

describe('redaction before disk, with the OpenTelemetry SDK exporters', () => {
  let server;
  let policyDir;
  // The small run (2 spans) is sent first and stays in the WAL (the 4 MiB memtable, whose
  // arena grows by 1 MiB blocks, is not full); each big run (42 spans, ~4.6 MB) overfills
  // it, so they go to segments. The tests run in order, each on what the previous one sent.
  const variants = [
    { name: 'proto-wal', exporter: 'proto', filler: 0 },
    { name: 'proto', exporter: 'proto', filler: 40 },
    { name: 'json-langfuse-path', path: '/api/public/otel/v1/traces', filler: 40 },
    { name: 'grpc', exporter: 'grpc', filler: 40 },
  ];
  const runs = [];  // {variant, secrets, marker, traceId, spans}

  async function send(v) {
    let exporter;
    if (v.path) {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
      exporter = new OTLPTraceExporter({ url: server.baseUrl + v.path });
    } else {
      exporter = makeExporter(v.exporter, server);
    }
    const secrets = makeSecrets();
    const marker = 'MARK' + rand(16);
    // The resource carries a secret too (the owner's address).
    const { provider, recorder } = makeProvider(exporter, `redaction-${v.name}`, {
      'deployment.owner': `${marker} ${secrets.ownerEmail} ${marker}`,
    });
    const traceId = emitRun(provider.getTracer('redaction-test'), secrets, marker, v.filler);
    await provider.forceFlush();
    await provider.shutdown();
    recorder.assertAllSucceeded();
    const run = { variant: v.name, secrets, marker, traceId, spans: 2 + v.filler };
    runs.push(run);
    await waitForTrace(server, traceId, run.spans);
    return run;
  }

  before(async () => {
    policyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-redaction-'));
    const policyFile = path.join(policyDir, 'redaction.toml');
    fs.writeFileSync(policyFile, POLICY);
    server = await startServer({ extraArgs: ['--redaction-file', policyFile, '--memtable-limit-bytes', '4MiB'] });
  });

  after(async () => {
    if (server) {
      const dir = server.dataDir;
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (policyDir) fs.rmSync(policyDir, { recursive: true, force: true });
  });

  test('a run in the WAL: its marker is there, raw; no secret is', async () => {
    const run = await send(variants[0]);
    const live = scan(server.dataDir, [...needles(run.secrets), run.marker]);
    assert.ok(live.files > 0 && live.bytes > 0, 'nothing was scanned');
    assert.ok(live.found[run.marker].some((w) => w.startsWith('wal/') && w.endsWith(':raw')),
      `the marker is not in the WAL: ${JSON.stringify(live.found[run.marker])}`);
    for (const n of needles(run.secrets)) {
      assert.deepEqual(live.found[n], [], `a secret is on disk (${n.slice(0, 6)}…)`);
    }
  });

  test('every receiver: the API shows the marker beside masks and hashes, never a secret', async () => {
    for (const v of variants.slice(1)) await send(v);
    for (const r of runs) {
      const body = await waitForTrace(server, r.traceId, r.spans);
      const text = JSON.stringify(body);
      assert.ok(text.includes(r.marker), `${r.variant}: marker missing from the API answer`);
      for (const n of needles(r.secrets)) {
        assert.ok(!text.includes(n), `${r.variant}: a planted secret came back from the API (${n.slice(0, 6)}…)`);
      }
      for (const want of ['[REDACTED:openai_key]', '[REDACTED:aws_access_key]', '[REDACTED:card]',
        '[REDACTED:private_key]', '[REDACTED:github_token]', '[REDACTED:slack_token]', '[REDACTED:jwt]',
        '[REDACTED:password]', '[REDACTED:authorization]', '[REDACTED:account]', '[REDACTED:phone]',
        '[email:hmac:', '[attribute:hmac:']) {
        assert.ok(text.includes(want), `${r.variant}: ${want} missing`);
      }
      const root = body.spans.find((s) => !s.parent_span_id);
      const attrs = JSON.stringify(root.attributes);
      assert.ok(attrs.includes(`INV-${r.marker}`), `${r.variant}: a kept key was changed`);
      assert.ok(!attrs.includes('db.password'), `${r.variant}: a dropped key is still there`);
      assert.ok(!attrs.includes('ssn_note'), `${r.variant}: the attribute holding an SSN (drop) is still there`);
      assert.match(root.user_id, /^\[attribute:hmac:[0-9a-f]{12}\]$/);
    }
  });

  test('no file in the data directory holds a secret, raw or zstd-decompressed', async () => {
    const all = runs.flatMap((r) => needles(r.secrets));
    const markers = runs.map((r) => r.marker);

    assert.equal(runs.length, variants.length, 'the earlier tests did not send every run');
    // While running: WAL and the segments flushed so far.
    const live = scan(server.dataDir, [...all, ...markers]);
    for (const n of all) assert.deepEqual(live.found[n], [], `a secret is on disk while running (${n.slice(0, 6)}…)`);
    for (const m of markers) assert.ok(live.found[m].length > 0, `the marker ${m} is not found on disk while running`);
    assert.ok(live.found[markers[1]].concat(live.found[markers[2]], live.found[markers[3]])
      .some((w) => w.startsWith('segments/')), `no big run reached a segment: ${JSON.stringify(live.found)}`);

    // After SIGTERM the memtable is in segments; search again.
    const dir = server.dataDir;
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
    const closed = scan(dir, [...all, ...markers]);
    assert.ok(closed.frames > 0, 'no zstd frame was found to decompress');
    for (const n of all) assert.deepEqual(closed.found[n], [], `a secret is on disk after shutdown (${n.slice(0, 6)}…)`);
    for (const m of markers) assert.ok(closed.found[m].length > 0, `the marker ${m} is gone after shutdown`);
    for (const m of markers.slice(1)) {
      assert.ok(closed.found[m].some((w) => w.includes(':zstd@')),
        `the marker ${m} is not found in decompressed segment frames: ${JSON.stringify(closed.found[m])}`);
    }
  });
});
