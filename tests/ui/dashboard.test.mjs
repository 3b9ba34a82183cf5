// The dashboard end to end: the real `sightline serve` binary (with --ui-dir), fed agent
// turns over OTLP/HTTP JSON (one tool failing one call in five), driven in headless
// Chromium. The tiles must agree with what was sent, the URL must hold range and
// group-by, and a tool's error rate and a chart bucket must open the matching traces.
// One server and one browser for the file; a failing case leaves a screenshot in artifacts/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  agentTurn, launchBrowser, otlpRequest, REPO_ROOT, screenshotOnFailure, sendOtlp, startServer, waitForQuery,
} from './lib.mjs';

const UI_DIR = process.env.SIGHTLINE_UI_DIR_E2E || path.join(REPO_ROOT, 'build', 'ui');
const T = 15000;

let server;
let browser;
let page;
const sent = {};
const pageErrors = [];

before(async () => {
  server = await startServer({ extraArgs: ['--ui-dir', UI_DIR] });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => { console.error('page error:', e.message); pageErrors.push(e.message); });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const step = (name, fn) => it(name, () => screenshotOnFailure(page, name, fn));
const tileValue = (id) => page.getByTestId(`${id}-value`).innerText();
const rowsOf = () => page.locator('[data-testid=traces-table] tbody tr');

describe('dashboard', () => {
  step('an empty range says so instead of drawing empty charts', async () => {
    await page.goto(server.baseUrl + '/dashboard');
    await page.getByTestId('dashboard-empty').waitFor();
    assert.match(await page.getByTestId('dashboard-empty').innerText(), /No runs in the last 24h/);
    // The nav has the page beside Traces and Sessions.
    const nav = await page.locator('.topbar nav').innerText();
    assert.match(nav, /Traces\s*Sessions\s*Dashboard/);
  });

  step('tiles agree with the runs, spans and tool errors sent over OTLP', async () => {
    // 8 runs of 3 spans each (agent root, chat call, tool call): 5 use search_orders, the
    // second of them failing; 3 use lookup_invoice, all fine. Sent within 8 seconds.
    const t0 = Date.now() - 30_000;
    const turns = [];
    for (let i = 0; i < 5; i++) {
      turns.push(agentTurn({ session: 's-1', user: 'u-1', question: `q${i}`, answer: 'a', t0Ms: t0 + i * 1000, fail: i === 1, tool: 'search_orders' }));
    }
    for (let i = 0; i < 3; i++) {
      turns.push(agentTurn({ session: 's-2', user: 'u-2', question: `r${i}`, answer: 'a', t0Ms: t0 + 5000 + i * 1000, tool: 'lookup_invoice' }));
    }
    sent.turns = turns;
    sent.failed = turns[1].traceId;
    await sendOtlp(server, otlpRequest(turns.flatMap((t) => t.spans)));
    await waitForQuery(server, '/api/v1/metrics/overview', (b) => b.runs.count === 8 && b.spans.count === 24);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId('tiles').waitFor();
    assert.equal(await tileValue('tile-runs'), '8');
    assert.equal(await tileValue('tile-spans'), '24');
    assert.equal(await tileValue('tile-success'), '88%'); // 7 of 8
    assert.equal(await tileValue('tile-tool-errors'), '13%'); // 1 of 8 tool calls
    assert.match(await page.getByTestId('tile-tool-errors').innerText(), /1 of 8 tool calls/);
    assert.equal(await tileValue('tile-llm-errors'), '0%');
    assert.equal(await tileValue('tile-tokens'), '7.2k / 320'); // 8 × (900 in, 40 out)
    assert.equal(await tileValue('tile-steps'), '3');

    // Per tool: calls and error rate.
    const search = page.locator('[data-testid=tools-table] tr[data-key=search_orders]');
    const invoice = page.locator('[data-testid=tools-table] tr[data-key=lookup_invoice]');
    assert.match(await search.innerText(), /search_orders\s+5\s+20%\s*\(1\)/);
    assert.match(await invoice.innerText(), /lookup_invoice\s+3\s+0%\s*\(0\)/);
    // Per agent and per model.
    assert.match(await page.locator('[data-testid=agents-table] tr[data-key=checkout-assistant]').innerText(), /checkout-assistant\s+8\s+13%/);
    assert.match(await page.locator('[data-testid=models-table] tr[data-key=claude-sonnet-4]').innerText(), /claude-sonnet-4\s+8\s+0%/);
    // Charts are drawn (uPlot canvases), the step histogram has bars.
    await page.locator('[data-testid=chart-outcomes] canvas').waitFor();
    await page.locator('[data-testid=chart-latency] canvas').waitFor();
    assert.ok(await page.locator('[data-testid=steps-histogram] .hbar').count() >= 1);
  });

  step('a tool\'s error rate opens that tool\'s failed traces over the same range', async () => {
    await page.locator('[data-testid=tools-table] tr[data-key=search_orders] [data-testid=error-rate]').click();
    await page.waitForURL(/\/traces\?/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('tool'), 'search_orders');
    assert.equal(url.searchParams.get('status'), 'error');
    assert.equal(url.searchParams.get('range'), '24h');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 1);
    assert.equal(await rowsOf().first().getAttribute('data-trace-id'), sent.failed);
    // The traces page shows the filters it was given.
    assert.equal(await page.locator('[data-status-chip=error]').getAttribute('class').then((c) => c.includes('on')), true);
    // Back returns to the dashboard.
    await page.goBack();
    await page.getByTestId('tools-table').waitFor();
  });

  step('range and group-by live in the URL and survive a reload', async () => {
    await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '6h' }).click();
    await page.getByLabel('Group by').selectOption('tool');
    await page.waitForURL(/\/dashboard\?range=6h&group_by=tool$/);
    await page.reload();
    await page.getByTestId('tiles').waitFor();
    assert.equal(await page.getByLabel('Group by').inputValue(), 'tool');
    assert.match(await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '6h' }).getAttribute('class'), /\bon\b/);
    await page.locator('[data-testid=chart-latency] canvas').waitFor();
    const legend = await page.locator('[data-testid=chart-latency] .chart-legend').innerText();
    assert.match(legend, /search_orders/);
    assert.match(legend, /lookup_invoice/);
    assert.equal(await tileValue('tile-runs'), '8');
  });

  step('a bucket of the runs chart opens the traces of that bucket; its failed segment the failed ones', async () => {
    const over = page.locator('[data-testid=chart-outcomes] .u-over');
    const box = await over.boundingBox();
    // Walk left from the right edge until the readout shows a bucket with runs. The
    // top of the plot is above every bar: a click there takes the whole bucket.
    let values = [];
    let total = 0;
    let x = box.x + box.width - 2;
    for (; x > box.x; x -= 3) {
      await page.mouse.move(x, box.y + 2);
      values = (await page.locator('[data-testid=chart-outcomes] .legend-item b').allInnerTexts()).map(Number);
      total = values.reduce((a, v) => a + (v || 0), 0);
      if (total > 0) break;
    }
    assert.ok(total > 0, 'no bucket with runs found');
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForURL(/\/traces\?range=custom&from=.*&to=/);
    assert.equal(new URL(page.url()).searchParams.get('status'), null);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === n, total);
    // [succeeded, failed, interrupted]: no interrupts were sent, so the bottom of a bar
    // with a failure is its failed segment.
    assert.equal(values[2], 0);
    if (values[1] > 0) {
      await page.goBack();
      await page.locator('[data-testid=chart-outcomes] canvas').waitFor();
      await page.mouse.move(x, box.y + box.height - 2);
      await page.mouse.down();
      await page.mouse.up();
      await page.waitForURL(/\/traces\?range=custom&.*status=error/);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === n, values[1]);
      assert.equal(await rowsOf().first().getAttribute('data-trace-id'), sent.failed);
    }
  });

  step('dark theme draws the dashboard without page errors', async () => {
    await page.goto(server.baseUrl + '/dashboard');
    await page.getByTestId('tiles').waitFor();
    await page.locator('.theme-switch').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await page.locator('[data-testid=chart-outcomes] canvas').waitFor();
    assert.equal(await tileValue('tile-runs'), '8');
    await page.locator('.theme-switch').click();
    assert.deepEqual(pageErrors, []);
  });
});
