'use strict';
// Trace context across processes: a parent process calls a child process's HTTP
// service with a W3C traceparent header; each exports its own span to Sightline on
// its own. Sightline must join them into one trace whose child-process span hangs
// under the parent-process span.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');

const { startServer, waitForTrace, assertTreeOrder } = require('../lib/sightline');

const FIXTURES = path.join(__dirname, '..', 'fixtures');

// Starts the child service and resolves with its port once it has printed it.
function startChild(env) {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'propagation_child.js')], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => { err += c; });
  const port = new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c;
      const m = /child: listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`child process exited (${code}) before listening: ${err}`)));
    setTimeout(() => reject(new Error(`child process did not listen within 15 s: ${err}`)), 15000).unref();
  });
  return { child, port };
}

describe('W3C trace context across two processes', () => {
  let server;
  let child;
  before(async () => { server = await startServer(); });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (server) await server.stop();
  });

  test('the child-process span is a child of the parent-process span in one trace', async () => {
    const env = { ...process.env, SIGHTLINE_URL: server.baseUrl };
    const started = startChild(env);
    child = started.child;
    const childPort = await started.port;

    const { stdout } = await promisify(execFile)(process.execPath,
      [path.join(FIXTURES, 'propagation_parent.js'), String(childPort)], { env, timeout: 30000 });
    const parent = JSON.parse(stdout.trim().split('\n').pop());
    assert.equal(parent.exportError, null, 'the parent process exported its span');
    assert.equal(parent.exported, 1);
    assert.equal(parent.childStatus, 200, `child answered: ${JSON.stringify(parent.child)}`);
    assert.equal(parent.child.exportError, null, 'the child process exported its span');
    assert.match(parent.injected.traceparent, new RegExp(`^00-${parent.traceId}-${parent.spanId}-0[01]$`));
    assert.equal(parent.child.traceId, parent.traceId, 'child joined the trace (SDK level)');
    assert.equal(parent.child.parentSpanId, parent.spanId);

    const body = await waitForTrace(server, parent.traceId, 2);
    const { spans } = body;
    assert.equal(spans.length, 2, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assertTreeOrder(assert, spans);
    const [up, down] = spans;
    assert.equal(up.name, 'invoke_agent booking');
    assert.equal(up.span_id, parent.spanId);
    assert.equal(up.parent_span_id, null);
    assert.equal(up.service, 'booking-frontend');
    assert.equal(up.kind, 'agent');
    assert.equal(down.name, 'handle GET /quote');
    assert.equal(down.span_id, parent.child.spanId);
    assert.equal(down.parent_span_id, parent.spanId, 'child-process span hangs under the parent-process span');
    assert.equal(down.service, 'quote-service');
    assert.equal(down.kind, 'tool');
    assert.equal(down.session_id, 'xproc-session-1', 'session id carried by W3C baggage');

    const t = body.trace;
    assert.equal(t.span_count, 2);
    assert.equal(t.root_name, 'invoke_agent booking');
    assert.equal(t.service, 'booking-frontend', 'trace service is the root span\'s service');
  });
});
