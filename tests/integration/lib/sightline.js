'use strict';
// Starts the real `sightline serve` binary on free loopback ports with a fresh data
// directory, and gives tests small helpers for its HTTP API. Each test file owns one
// server: start it in `before`, stop it (SIGTERM) in `after`.
//
// The binary comes from SIGHTLINE_BIN (tests/run_integration.sh sets it to an
// absolute path); without it the default build output build/sightline is used.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const START_DEADLINE_MS = 20000;
const STOP_DEADLINE_MS = 10000;
// Sightline promises spans are searchable within 1 s of acknowledgement; allow
// generous slack for a loaded 2-core CI machine.
const QUERY_DEADLINE_MS = 8000;

function binaryPath() {
  const bin = process.env.SIGHTLINE_BIN || path.join(REPO_ROOT, 'build', 'sightline');
  if (!fs.existsSync(bin)) {
    throw new Error(`sightline binary not found at ${bin} (set SIGHTLINE_BIN or run make build)`);
  }
  return path.resolve(bin);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves after `ms` without keeping the process alive; `cancel()` clears it, so a
// finished test file exits at once instead of waiting out a deadline timer.
function deadlineTimer(ms) {
  let handle;
  const promise = new Promise((resolve) => { handle = setTimeout(resolve, ms); });
  handle.unref();
  return { promise, cancel: () => clearTimeout(handle) };
}

// A running server: http/grpc addresses, its data dir, and the captured output
// (shown when a test fails to explain what the server said).
class SightlineServer {
  constructor(child, dataDir, ca = null) {
    this.child = child;
    this.dataDir = dataDir;
    this.ca = ca; // PEM of the CA that signed the server's certificate, when it speaks TLS
    this.stdout = '';
    this.stderr = '';
    this.httpAddr = null;
    this.grpcAddr = null;
    this.exited = null; // {code, signal} once the process has ended
  }

  get baseUrl() {
    return `${this.ca ? 'https' : 'http'}://${this.httpAddr}`;
  }

  // Output tail, for assertion messages.
  logs() {
    const tail = (s) => s.split('\n').slice(-30).join('\n');
    return `--- sightline stdout ---\n${tail(this.stdout)}\n--- sightline stderr ---\n${tail(this.stderr)}`;
  }

  async stop() {
    if (this.exited) return this.exited;
    const done = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = deadlineTimer(STOP_DEADLINE_MS);
    const r = await Promise.race([done, timer.promise.then(() => 'timeout')]);
    timer.cancel();
    if (r === 'timeout' && !this.exited) {
      this.child.kill('SIGKILL');
      await done;
      throw new Error(`sightline did not exit within ${STOP_DEADLINE_MS} ms of SIGTERM\n${this.logs()}`);
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    return this.exited;
  }
}

// One HTTP(S) request without connection reuse; resolves to {status, headers, text}.
// `ca` (PEM) is the only CA trusted for https.
function request(url, { method = 'GET', headers = {}, body, ca } = {}) {
  const mod = url.startsWith('https:') ? https : require('node:http');
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers, ca, agent: false, timeout: 15000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Starts `sightline serve` and resolves once it has printed its listening line and
// answers GET /readyz with 200. With `ca` (the PEM of the CA that signed the
// certificate given in extraArgs), the server is reached over https.
async function startServer({ extraArgs = [], ca = null } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-integ-'));
  const args = ['serve', '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--data', dataDir, ...extraArgs];
  const child = spawn(binaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new SightlineServer(child, dataDir, ca);

  const listening = new Promise((resolve, reject) => {
    const re = /sightline: listening http=(\S+) grpc=(\S+)/;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      server.stdout += chunk;
      const m = re.exec(server.stdout);
      if (m && !server.httpAddr) {
        server.httpAddr = m[1];
        server.grpcAddr = m[2];
        resolve();
      }
    });
    child.stderr.on('data', (chunk) => { server.stderr += chunk; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      server.exited = { code, signal };
      reject(new Error(`sightline exited early (code ${code}, signal ${signal})\n${server.logs()}`));
    });
  });

  const deadline = Date.now() + START_DEADLINE_MS;
  listening.catch(() => {}); // observed through the race below; never unhandled
  const timer = deadlineTimer(START_DEADLINE_MS);
  const timeout = timer.promise.then(() => {
    throw new Error(`sightline printed no listening line within ${START_DEADLINE_MS} ms\n${server.logs()}`);
  });
  try {
    await Promise.race([listening, timeout]);
    timer.cancel();
    for (;;) {
      try {
        const res = ca ? await request(`${server.baseUrl}/readyz`, { ca }) : await fetch(`${server.baseUrl}/readyz`);
        if (res.status === 200) break;
      } catch (_) { /* not accepting yet */ }
      if (server.exited) throw new Error(`sightline exited before ready\n${server.logs()}`);
      if (Date.now() > deadline) throw new Error(`/readyz not 200 within ${START_DEADLINE_MS} ms\n${server.logs()}`);
      await sleep(50);
    }
  } catch (err) {
    timer.cancel();
    if (!server.exited) child.kill('SIGKILL');
    throw err;
  }
  return server;
}

// GET a JSON API path; returns {status, body} (body parsed when it is JSON).
async function getJSON(server, apiPath) {
  let status;
  let text;
  let headers;
  if (server.ca) {
    ({ status, text, headers } = await request(server.baseUrl + apiPath, { ca: server.ca }));
  } else {
    const res = await fetch(server.baseUrl + apiPath);
    status = res.status;
    text = await res.text();
    headers = res.headers;
  }
  let body = text;
  try { body = JSON.parse(text); } catch (_) { /* leave as text */ }
  return { status, body, headers };
}

// Polls GET /api/v1/traces/{id} until it answers 200 with at least `minSpans` spans,
// or the deadline passes (then throws with the last answer and the server's logs).
async function waitForTrace(server, traceId, minSpans, deadlineMs = QUERY_DEADLINE_MS) {
  const deadline = Date.now() + deadlineMs;
  let last;
  for (;;) {
    last = await getJSON(server, `/api/v1/traces/${traceId}`);
    if (last.status === 200 && last.body && Array.isArray(last.body.spans) &&
        last.body.spans.length >= minSpans) {
      return last.body;
    }
    if (Date.now() > deadline) {
      throw new Error(`trace ${traceId}: wanted >= ${minSpans} spans within ${deadlineMs} ms; ` +
        `last answer ${last.status} ${JSON.stringify(last.body).slice(0, 2000)}\n${server.logs()}`);
    }
    await sleep(100);
  }
}

// Polls a search path until `accept(body)` is true; returns that body.
async function waitForQuery(server, apiPath, accept, deadlineMs = QUERY_DEADLINE_MS) {
  const deadline = Date.now() + deadlineMs;
  let last;
  for (;;) {
    last = await getJSON(server, apiPath);
    if (last.status === 200 && accept(last.body)) return last.body;
    if (Date.now() > deadline) {
      throw new Error(`${apiPath}: condition not met within ${deadlineMs} ms; ` +
        `last answer ${last.status} ${JSON.stringify(last.body).slice(0, 2000)}\n${server.logs()}`);
    }
    await sleep(100);
  }
}

// Index spans of a trace response by name (names are unique in these tests).
function byName(spans) {
  const m = new Map();
  for (const s of spans) {
    if (m.has(s.name)) throw new Error(`span name ${s.name} is not unique in the trace`);
    m.set(s.name, s);
  }
  return m;
}

// All text content in canonical messages, concatenated (for loose content checks).
function messageText(messages) {
  if (typeof messages === 'string') return messages;
  if (!Array.isArray(messages)) return JSON.stringify(messages ?? '');
  const out = [];
  for (const msg of messages) {
    for (const part of msg.parts || []) {
      if (part.type === 'text') out.push(part.content);
    }
  }
  return out.join('\n');
}

// All parts of one type across canonical messages.
function partsOfType(messages, type) {
  if (!Array.isArray(messages)) return [];
  return messages.flatMap((m) => (m.parts || []).filter((p) => p.type === type).map((p) => ({ role: m.role, ...p })));
}

// Asserts that the spans are in tree order: every parent appears before its
// children, and siblings are ordered by start time.
function assertTreeOrder(assert, spans) {
  const index = new Map(spans.map((s, i) => [s.span_id, i]));
  const lastChildStart = new Map();
  spans.forEach((s, i) => {
    if (s.parent_span_id && index.has(s.parent_span_id)) {
      assert.ok(index.get(s.parent_span_id) < i,
        `span ${s.name} (${s.span_id}) is listed before its parent ${s.parent_span_id}`);
    }
    const key = s.parent_span_id || '';
    const prev = lastChildStart.get(key);
    if (prev !== undefined) {
      assert.ok(BigInt(s.start_ns) >= BigInt(prev),
        `sibling ${s.name} listed after a sibling that started later`);
    }
    lastChildStart.set(key, s.start_ns);
  });
}

module.exports = {
  startServer, getJSON, request, waitForTrace, binaryPath, waitForQuery, byName, messageText, partsOfType,
  assertTreeOrder, sleep, REPO_ROOT, QUERY_DEADLINE_MS,
};
