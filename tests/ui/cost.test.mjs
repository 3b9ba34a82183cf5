// Cost in the trace and session views, end to end: the real `sightline serve` binary
// (with --ui-dir), fed a two-turn session over OTLP/HTTP JSON, driven in headless
// Chromium. Each span row shows its own cost and its subtree's total, with a model call
// the catalogue cannot price making its subtrees partial ("≥") or unknown ("?"), never
// $0; the cost cells keep one width on every row; the session shows each turn's cost
// and the running total. A failing case leaves a screenshot in artifacts/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  hexId, launchBrowser, otlpRequest, otlpSpan, REPO_ROOT, screenshotOnFailure, sendOtlp, startServer, waitForTrace,
} from './lib.mjs';

const UI_DIR = process.env.SIGHTLINE_UI_DIR_E2E || path.join(REPO_ROOT, 'build', 'ui');
const T = 15000;

let server;
let browser;
let page;
const sent = {};

before(async () => {
  server = await startServer({ extraArgs: ['--ui-dir', UI_DIR] });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => { console.error('page error:', e.message); });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const step = (name, fn) => it(name, () => screenshotOnFailure(page, name, fn));
const chat = (model, attrs = {}) => ({
  'session.id': 'cost-session', 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'acme',
  'gen_ai.request.model': model, 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 10, ...attrs,
});

// Turn 1: run → plan (two model calls reporting $0.01 and $0.02) and act (a tool and a
// model call no catalogue prices). Turn 2: one unpriced model call.
function turns(t0Ms) {
  const t1 = hexId(16);
  const [root, plan, c1, c2, act, tool, c3] = Array.from({ length: 7 }, () => hexId(8));
  const common = { 'session.id': 'cost-session' };
  const first = [
    otlpSpan({ traceId: t1, spanId: root, name: 'run', t0Ms, fromMs: 0, toMs: 900, attributes: { ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'coster' } }),
    otlpSpan({ traceId: t1, spanId: plan, parentId: root, name: 'plan', t0Ms, fromMs: 10, toMs: 400, attributes: { ...common, 'gen_ai.operation.name': 'invoke_agent' } }),
    otlpSpan({ traceId: t1, spanId: c1, parentId: plan, name: 'chat one', t0Ms, fromMs: 20, toMs: 100, attributes: chat('house-llm-x', { 'gen_ai.usage.cost': 0.01 }) }),
    otlpSpan({ traceId: t1, spanId: c2, parentId: plan, name: 'chat two', t0Ms, fromMs: 110, toMs: 300, attributes: chat('house-llm-x', { 'gen_ai.usage.cost': 0.02 }) }),
    otlpSpan({ traceId: t1, spanId: act, parentId: root, name: 'act', t0Ms, fromMs: 410, toMs: 890, attributes: { ...common, 'gen_ai.operation.name': 'invoke_agent' } }),
    otlpSpan({ traceId: t1, spanId: tool, parentId: act, name: 'execute_tool lookup', t0Ms, fromMs: 420, toMs: 500, attributes: { ...common, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' } }),
    otlpSpan({ traceId: t1, spanId: c3, parentId: act, name: 'chat unpriced', t0Ms, fromMs: 510, toMs: 880, attributes: chat('house-llm-x') }),
  ];
  const t2 = hexId(16);
  const [r2, c4] = [hexId(8), hexId(8)];
  const second = [
    otlpSpan({ traceId: t2, spanId: r2, name: 'run', t0Ms, fromMs: 2000, toMs: 2500, attributes: { ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'coster' } }),
    otlpSpan({ traceId: t2, spanId: c4, parentId: r2, name: 'chat again', t0Ms, fromMs: 2010, toMs: 2400, attributes: chat('house-llm-x') }),
  ];
  return { first: { traceId: t1, spans: first }, second: { traceId: t2, spans: second } };
}

const rowText = async (name, testid) =>
  (await page.locator(`.tree-row[data-span-name="${name}"] [data-testid=${testid}]`).innerText()).trim();

describe('cost in the trace and session views', () => {
  step('each span row shows its own cost and its subtree total; unpriced is never $0', async () => {
    const t = turns(Date.now() - 60_000);
    sent.t = t;
    await sendOtlp(server, otlpRequest([...t.first.spans, ...t.second.spans]));
    await waitForTrace(server, t.first.traceId, 7);
    await waitForTrace(server, t.second.traceId, 2);
    await page.goto(`${server.baseUrl}/traces/${t.first.traceId}`);
    await page.getByTestId('span-tree').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.tree-row').length === 7);
    assert.equal(await rowText('chat one', 'cost-own'), '$0.01');
    assert.equal(await rowText('chat two', 'cost-own'), '$0.02');
    assert.equal(await rowText('plan', 'cost-subtree'), '$0.03');
    assert.equal(await rowText('chat unpriced', 'cost-own'), '?');
    assert.equal(await rowText('act', 'cost-subtree'), '?');
    assert.equal(await rowText('run', 'cost-subtree'), '≥ $0.03');
    assert.equal(await rowText('execute_tool lookup', 'cost-own'), '');
    const title = await page.locator('.tree-row[data-span-name="run"] [data-testid=cost-subtree]').getAttribute('title');
    assert.match(title, /1 model call without a price/);
  });

  step('the cost cells keep one width and position on every row, so the timeline never shifts', async () => {
    const boxes = await page.$$eval('.tree-row', (rows) => rows.map((r) => {
      const cost = r.querySelector('.cost-cell').getBoundingClientRect();
      const time = r.querySelector('.time-cell').getBoundingClientRect();
      return { costLeft: cost.left, costWidth: cost.width, timeLeft: time.left };
    }));
    assert.equal(boxes.length, 7);
    for (const b of boxes) assert.deepEqual(b, boxes[0]);
    // Collapsing a subtree changes no cell of the rows that stay.
    await page.locator('.tree-row[data-span-name="plan"] .toggle').click();
    await page.waitForFunction(() => document.querySelectorAll('.tree-row').length === 5);
    assert.equal(await rowText('plan', 'cost-subtree'), '$0.03');
    const after = await page.$eval('.tree-row[data-span-name="run"] .time-cell', (e) => e.getBoundingClientRect().left);
    assert.equal(after, boxes[0].timeLeft);
  });

  step('the session shows each turn\'s cost and the running total, a lower bound where a model call is unpriced', async () => {
    await page.goto(`${server.baseUrl}/sessions/cost-session`);
    await page.getByTestId('turns').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=turn][data-loaded=true]').length === 2);
    const turnCosts = (await page.getByTestId('turn-cost').allInnerTexts()).map((s) => s.trim());
    // Turn 1 is priced but one of its model calls is not: a lower bound.
    assert.deepEqual(turnCosts, ['≥ $0.03', '?']);
    const running = (await page.getByTestId('turn-running').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(running, ['Σ ≥ $0.03', 'Σ ≥ $0.03']);
    assert.equal((await page.getByTestId('session-cost').innerText()).trim(), '≥ $0.03');
  });
});
