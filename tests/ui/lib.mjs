// Shared pieces of the UI end-to-end tests: the real server (tests/integration's
// startServer, with --ui-dir), realistic agent traces sent over OTLP/HTTP JSON, and
// Debian's Chromium driven by playwright-core (no browser download).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
export const ARTIFACTS = path.join(here, 'artifacts');
// playwright-core is a dev dependency of the UI (one lock file: ui/package-lock.json).
const uiRequire = createRequire(path.join(REPO_ROOT, 'ui', 'package.json'));
const integ = createRequire(import.meta.url)(path.join(REPO_ROOT, 'tests', 'integration', 'lib', 'sightline.js'));
export const { startServer, getJSON, waitForQuery, waitForTrace } = integ;

// The Chromium executable: $CHROMIUM, else Debian's real binary behind its wrapper
// script, else whatever `chromium` is on PATH.
export function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const p of ['/usr/lib/chromium/chromium', '/usr/lib/chromium-browser/chromium-browser']) {
    if (fs.existsSync(p)) return p;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no Chromium found: apt-get install chromium (scripts/install-deps.sh), or set CHROMIUM');
  }
}

export async function launchBrowser() {
  const { chromium } = uiRequire('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

// --- OTLP/HTTP JSON builders -------------------------------------------------------

export function hexId(bytes) {
  return crypto.randomBytes(bytes).toString('hex');
}

function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Number.isInteger(v)) return { intValue: String(v) };
  if (typeof v === 'number') return { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { stringValue: JSON.stringify(v) };
}
const attrs = (o) => Object.entries(o).map(([key, value]) => ({ key, value: anyValue(value) }));

// One span in OTLP JSON. Times are ms offsets from `t0Ms`.
export function otlpSpan({ traceId, spanId, parentId, name, t0Ms, fromMs, toMs, attributes = {}, error, events = [] }) {
  const ns = (ms) => String(BigInt(Math.round((t0Ms + ms) * 1000)) * 1000n);
  const s = {
    traceId, spanId, name, kind: 1, startTimeUnixNano: ns(fromMs), endTimeUnixNano: ns(toMs),
    attributes: attrs(attributes), status: error ? { code: 2, message: error } : { code: 1 },
    events: events.map((e) => ({ name: e.name, timeUnixNano: ns(e.atMs), attributes: attrs(e.attributes ?? {}) })),
  };
  if (parentId) s.parentSpanId = parentId;
  return s;
}

export function otlpRequest(spans, service = 'checkout-agent') {
  return {
    resourceSpans: [{
      resource: { attributes: attrs({ 'service.name': service, 'deployment.environment.name': 'staging' }) },
      scopeSpans: [{ scope: { name: 'e2e-fixture', version: '1.0' }, spans }],
    }],
  };
}

export async function sendOtlp(server, body) {
  const res = await fetch(`${server.baseUrl}/v1/traces`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200 || text.includes('rejected')) throw new Error(`OTLP export failed: ${res.status} ${text}`);
}

const msgs = (role, text) => JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);

// One agent turn: an agent root with a chat call and a tool call. `fail` makes the
// tool (and the root) fail with an exception, as a crashed run looks.
export function agentTurn({ session, user, question, answer, t0Ms, fail = false, tool = 'search_orders' }) {
  const traceId = hexId(16);
  const root = hexId(8);
  const chat = hexId(8);
  const call = hexId(8);
  const common = { 'session.id': session, 'user.id': user };
  const spans = [
    otlpSpan({
      traceId, spanId: root, name: 'invoke_agent checkout-assistant', t0Ms, fromMs: 0, toMs: 1500, error: fail ? 'tool failed' : undefined,
      attributes: {
        ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'checkout-assistant',
        'gen_ai.input.messages': msgs('user', question), ...(answer ? { 'gen_ai.output.messages': msgs('assistant', answer) } : {}),
        ...(fail ? { 'error.type': 'ToolError' } : {}),
      },
    }),
    otlpSpan({
      traceId, spanId: chat, parentId: root, name: 'chat claude-sonnet', t0Ms, fromMs: 10, toMs: 700,
      attributes: {
        ...common, 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4',
        'gen_ai.usage.input_tokens': 900, 'gen_ai.usage.output_tokens': 40, 'gen_ai.request.max_tokens': 1024,
        'gen_ai.response.finish_reasons': ['tool_use'], 'agent.step': 1,
        'gen_ai.input.messages': JSON.stringify([
          { role: 'system', parts: [{ type: 'text', content: 'You are the checkout assistant for Tailspin Toys.' }] },
          { role: 'user', parts: [{ type: 'text', content: question }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'toolu_1', name: tool, arguments: { order_ref: 'TT-4411', include_items: true } }] }]),
      },
    }),
    otlpSpan({
      traceId, spanId: call, parentId: root, name: `execute_tool ${tool}`, t0Ms, fromMs: 720, toMs: 1400,
      error: fail ? 'orders-db connection reset' : undefined,
      attributes: {
        ...common, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'gen_ai.tool.call.id': 'toolu_1',
        'gen_ai.tool.call.arguments': JSON.stringify({ order_ref: 'TT-4411', include_items: true }), 'agent.step': 2,
        ...(fail ? { 'error.type': 'ConnectionResetError' } : { 'gen_ai.tool.call.result': JSON.stringify({ status: 'shipped', eta_days: 2 }) }),
      },
      events: fail ? [{ name: 'exception', atMs: 1390, attributes: {
        'exception.type': 'ConnectionResetError', 'exception.message': 'orders-db connection reset',
        'exception.stacktrace': 'Traceback (most recent call last):\n  File "tools/orders.py", line 41, in search_orders\nConnectionResetError: orders-db connection reset',
      } }] : [],
    }),
  ];
  return { traceId, spans };
}

// A wide trace of n spans: an agent root, 50 steps, each with many tool spans.
export function bigTrace(n, t0Ms) {
  const traceId = hexId(16);
  const root = hexId(8);
  const spans = [otlpSpan({ traceId, spanId: root, name: 'invoke_agent bulk-reconciler', t0Ms, fromMs: 0, toMs: n, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'bulk-reconciler' } })];
  const steps = 50;
  const stepIds = [];
  for (let s = 0; s < steps; s++) {
    const id = hexId(8);
    stepIds.push(id);
    spans.push(otlpSpan({ traceId, spanId: id, parentId: root, name: `step ${s}`, t0Ms, fromMs: (s * n) / steps, toMs: ((s + 1) * n) / steps, attributes: { 'agent.step': s } }));
  }
  for (let i = spans.length; i < n; i++) {
    const s = i % steps;
    spans.push(otlpSpan({ traceId, spanId: hexId(8), parentId: stepIds[s], name: `execute_tool reconcile_${i}`, t0Ms, fromMs: (s * n) / steps + 0.5, toMs: (s * n) / steps + 1.5, attributes: { 'gen_ai.tool.name': 'reconcile', 'gen_ai.tool.call.arguments': JSON.stringify({ row: i }) } }));
  }
  return { traceId, spans };
}

export async function screenshotOnFailure(page, name, fn) {
  try {
    await fn();
  } catch (err) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name.replace(/[^a-z0-9]+/gi, '_')}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true });
      err.message += `\n(screenshot: ${file}; url: ${page.url()})`;
    } catch { /* the page may be gone */ }
    throw err;
  }
}
