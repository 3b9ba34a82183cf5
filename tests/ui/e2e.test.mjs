// The web UI end to end: the real `sightline serve` binary (with --ui-dir), fed over
// OTLP/HTTP JSON and by its own "load demo run" button, driven in headless Chromium.
// One server and one browser for the file; the cases run in order, each building on
// the data the earlier ones loaded. A failing case leaves a screenshot in artifacts/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  agentTurn, bigTrace, launchBrowser, otlpRequest, REPO_ROOT, screenshotOnFailure, sendOtlp, startServer, waitForQuery,
  waitForTrace,
} from './lib.mjs';

const UI_DIR = process.env.SIGHTLINE_UI_DIR_E2E || path.join(REPO_ROOT, 'build', 'ui');
const T = 15000; // per-wait timeout: generous for a loaded 2-core machine

let server;
let browser;
let page;
const fixtures = {};
const apiRequests = []; // path?query of every /api/v1/traces/... request the page made

before(async () => {
  server = await startServer({ extraArgs: ['--ui-dir', UI_DIR] });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => { console.error('page error:', e.message); });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/v1/traces/')) apiRequests.push(u.pathname + u.search);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const step = (name, fn) => it(name, () => screenshotOnFailure(page, name, fn));
const rowsOf = () => page.locator('[data-testid=traces-table] tbody tr');
// React renders after the event that changed state: wait for the DOM, do not sample it.
const waitCount = (selector, n) =>
  page.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want, [selector, n]);

describe('web UI', () => {
  step('an empty server teaches the exporter settings and loads the demo run', async () => {
    await page.goto(server.baseUrl + '/');
    const empty = page.getByTestId('empty-state');
    await empty.waitFor();
    const text = await empty.innerText();
    assert.match(text, /OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:\d+/);
    assert.match(text, /OTEL_EXPORTER_OTLP_PROTOCOL=http\/protobuf/);
    await page.getByRole('button', { name: 'Load demo run' }).click();
    await page.getByTestId('traces-table').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 2);
    assert.match(await rowsOf().first().innerText(), /support-orchestrator/);
  });

  step('OTLP traces appear in the list with every column', async () => {
    const t0 = Date.now() - 60_000;
    const turns = [
      agentTurn({ session: 'cart-77', user: 'u-5', question: 'Where is my order TT-4411?', answer: 'It shipped; it arrives in 2 days.', t0Ms: t0 }),
      agentTurn({ session: 'cart-77', user: 'u-5', question: 'Can you add gift wrap?', answer: 'Gift wrap added to TT-4411.', t0Ms: t0 + 5000 }),
      agentTurn({ session: 'cart-77', user: 'u-5', question: 'And change the address?', answer: '', t0Ms: t0 + 10000, fail: true }),
    ];
    const big = bigTrace(2000, t0 + 20000);
    fixtures.turns = turns;
    fixtures.big = big;
    await sendOtlp(server, otlpRequest(turns.flatMap((t) => t.spans)));
    await sendOtlp(server, otlpRequest(big.spans, 'reconciler'));
    await waitForTrace(server, big.traceId, 2000);
    await waitForQuery(server, '/api/v1/traces?limit=100', (b) => b.traces.length === 6);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 6);
    const header = await page.locator('[data-testid=traces-table] thead').innerText();
    for (const col of ['Time', 'Root span', 'Agent', 'Session', 'User', 'Status', 'Duration', 'Spans', 'LLM', 'Tools', 'Tokens', 'Cost', 'Models']) {
      assert.ok(header.includes(col), `column ${col} missing in ${header}`);
    }
    const failed = page.locator(`tr[data-trace-id="${turns[2].traceId}"]`);
    const cells = await failed.innerText();
    assert.match(cells, /cart-77/);
    assert.match(cells, /u-5/);
    assert.match(cells, /error/);
    assert.match(cells, /claude-sonnet-4/);
  });

  step('filtering to status=error keeps only failed runs and puts the filter in the URL', async () => {
    await page.locator('[data-status-chip=error]').click();
    await page.waitForURL(/status=error/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 1);
    const statuses = await page.locator('[data-testid=traces-table] tbody tr .status').allInnerTexts();
    assert.deepEqual(statuses, ['error']);
    assert.equal(await rowsOf().first().getAttribute('data-trace-id'), fixtures.turns[2].traceId);
    // The URL alone reproduces the view.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 1);
    assert.equal(await page.locator('[data-status-chip=error]').getAttribute('class').then((c) => c.includes('on')), true);
    await page.locator('[data-status-chip=error]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 6);
  });

  step('a trace opens as a tree with totals; spans collapse and expand, by mouse and keyboard', async () => {
    const demo = await waitForQuery(server, '/api/v1/traces?status=interrupt', (b) => b.traces.length === 1);
    fixtures.demoTrace = demo.traces[0].trace_id;
    await page.locator(`tr[data-trace-id="${fixtures.demoTrace}"] a.trace-link`).click();
    await page.waitForURL(new RegExp(`/traces/${fixtures.demoTrace}`));
    await page.getByTestId('span-tree').waitFor();
    // The page asks for the light view (no payloads), never the full one.
    assert.ok(apiRequests.includes(`/api/v1/traces/${fixtures.demoTrace}?view=light`), apiRequests.join(' '));
    assert.ok(!apiRequests.includes(`/api/v1/traces/${fixtures.demoTrace}`), apiRequests.join(' '));
    const totals = await page.getByTestId('totals').innerText();
    assert.match(totals, /SPANS\s*11/i);
    assert.match(totals, /ERRORS\s*1/i);
    assert.match(totals, /INTERRUPTS\s*1/i);
    const rows = page.locator('.tree-row');
    await waitCount('.tree-row', 11);
    // Collapse billing-resolver (5 children), then expand it again.
    await page.getByRole('button', { name: 'Collapse invoke_agent billing-resolver' }).click();
    await waitCount('.tree-row', 6);
    await page.getByRole('button', { name: 'Expand invoke_agent billing-resolver' }).click();
    await waitCount('.tree-row', 11);
    // Keyboard: the root is selected; ↓ moves, ← on a parent collapses it, → expands.
    await page.locator('.tree-scroll').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.locator('.tree-row.selected[data-span-name="invoke_agent knowledge-agent"]').waitFor();
    await page.keyboard.press('ArrowLeft');
    await waitCount('.tree-row', 9);
    await page.keyboard.press('ArrowRight');
    await waitCount('.tree-row', 11);
    await page.keyboard.press('ArrowRight');
    await page.locator('.tree-row.selected[data-span-name="retrieval kb-billing-policies"]').waitFor();
    const docs = await page.getByTestId('documents').innerText();
    assert.match(docs, /kb-112/);
    assert.match(docs, /0\.910/);
  });

  step('a model call reads as a conversation; a tool shows its arguments; errors show their stack', async () => {
    // The detail pane fetches the selected span whole from the single-span endpoint.
    const chatRow = page.locator('.tree-row[data-span-name="chat gpt-4o"]').first();
    const chatId = await chatRow.getAttribute('data-span-id');
    const chatPath = `/api/v1/traces/${fixtures.demoTrace}/spans/${chatId}`;
    await chatRow.click();
    const detail = page.getByTestId('span-detail');
    await page.locator(`[data-testid=span-detail][data-span-id="${chatId}"][data-loaded=true]`).waitFor();
    assert.ok(apiRequests.includes(chatPath), apiRequests.join(' '));
    await detail.locator('.msg-system').waitFor();
    assert.match(await detail.locator('.msg-system').innerText(), /support orchestrator/);
    assert.match(await detail.locator('.msg-user').first().innerText(), /charged twice/);
    const call = detail.locator('.tool-call[data-tool="transfer_to_billing_resolver"]');
    assert.match(await call.innerText(), /invoice_id[\s\S]*INV-2026-3140/);
    const facts = await detail.getByTestId('model-facts').innerText();
    assert.match(facts, /gpt-4o-2024-08-06/);
    assert.match(facts, /tool_calls/);
    assert.match(facts, /1,204[\s\S]*input/);
    assert.match(facts, /512[\s\S]*cache read/);
    assert.match(facts, /temperature/);

    await page.locator('.tree-row[data-span-name="execute_tool issue_refund"]').click();
    const args = await page.getByTestId('tool-args').innerText();
    assert.match(args, /invoice_id[\s\S]*"INV-2026-3140"/);
    assert.match(args, /amount_cents[\s\S]*4200/);
    assert.match(await page.getByTestId('span-detail').innerText(), /Interrupted: approval_required/i);

    // Back to the model call: its conversation shows again from the cache, not a new request.
    await chatRow.click();
    await detail.locator('.msg-system').waitFor();
    assert.match(await detail.locator('.msg-user').first().innerText(), /charged twice/);
    assert.equal(apiRequests.filter((p) => p === chatPath).length, 1, apiRequests.join(' '));

    await page.getByTestId('next-error').click();
    await page.getByTestId('error-section').waitFor();
    const err = await page.getByTestId('error-section').innerText();
    assert.match(err, /TimeoutError/);
    assert.match(err, /billing\.py", line 88/);
    fixtures.errorSpanUrl = page.url();
    assert.match(fixtures.errorSpanUrl, /\?span=[0-9a-f]{16}$/);
  });

  step('a deep link to a span survives a reload', async () => {
    await page.reload();
    await page.getByTestId('error-section').waitFor();
    assert.equal(page.url(), fixtures.errorSpanUrl);
    assert.equal(await page.locator('.tree-row.selected').getAttribute('data-span-name'), 'execute_tool lookup_invoice');
    // A fresh tab on the same URL too (not only the in-app history).
    const other = await page.context().newPage();
    await other.goto(fixtures.errorSpanUrl);
    await other.getByTestId('error-section').waitFor();
    await other.close();
  });

  step('a session shows its turns in order with question, answer and failure, and leads into each trace', async () => {
    await page.goto(server.baseUrl + '/sessions');
    await page.getByTestId('sessions-table').waitFor();
    await page.getByRole('link', { name: 'cart-77' }).click();
    await page.waitForURL(/\/sessions\/cart-77$/);
    const turns = page.getByTestId('turn');
    // The turns render at once; their question and answer fill in as each trace loads.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=turn][data-loaded=true]').length === 3);
    assert.equal(await turns.count(), 3);
    const texts = await turns.allInnerTexts();
    assert.match(texts[0], /Where is my order TT-4411\?[\s\S]*It shipped/);
    assert.match(texts[1], /gift wrap/i);
    assert.match(texts[2], /And change the address\?/);
    assert.match(texts[2], /orders-db connection reset/);
    assert.deepEqual(await turns.evaluateAll((ts) => ts.map((t) => t.getAttribute('data-trace-id'))), fixtures.turns.map((t) => t.traceId));
    await turns.nth(1).getByRole('link', { name: /open trace/ }).click();
    await page.waitForURL(new RegExp(`/traces/${fixtures.turns[1].traceId}`));
    await page.getByTestId('span-tree').waitFor();
    await page.goBack();
    await page.waitForURL(/\/sessions\/cart-77$/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=turn]').length === 3);
  });

  step('the one search box lands on a session, a trace and a user', async () => {
    const search = page.getByRole('searchbox', { name: /Search by trace id/ });
    await search.fill('ticket-9421');
    await search.press('Enter');
    await page.waitForURL(/\/sessions\/ticket-9421$/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=turn]').length === 2);

    await search.fill(fixtures.turns[0].traceId.toUpperCase());
    await search.press('Enter');
    await page.waitForURL(new RegExp(`/traces/${fixtures.turns[0].traceId}$`));

    await search.fill('u-5');
    await search.press('Enter');
    await page.waitForURL(/\?user_id=u-5$/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=traces-table] tbody tr').length === 3);
  });

  step('a 2,000-span trace renders only the rows in view and scrolls to its end', async () => {
    await page.goto(`${server.baseUrl}/traces/${fixtures.big.traceId}`);
    await page.getByTestId('span-tree').waitFor();
    await page.getByRole('button', { name: 'Expand all' }).click();
    const inDom = await page.locator('.tree-row').count();
    assert.ok(inDom > 10 && inDom < 200, `expected a virtualised window of rows, found ${inDom} in the DOM`);
    await page.locator('.tree-scroll').focus();
    await page.keyboard.press('End');
    await page.waitForFunction(() => {
      const sel = document.querySelector('.tree-row.selected');
      return sel && sel.getAttribute('data-span-name').startsWith('execute_tool reconcile_');
    });
    assert.ok(await page.locator('.tree-row').count() < 200);
  });

  step('the theme switches between light and dark and persists', async () => {
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
    const afterTheme = await page.evaluate(() => document.documentElement.dataset.theme);
    assert.notEqual(afterTheme, before);
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), afterTheme);
  });

  step('unknown ids say so instead of failing', async () => {
    await page.goto(`${server.baseUrl}/traces/${'0'.repeat(31)}1`);
    await page.getByTestId('not-found').waitFor();
    await page.goto(`${server.baseUrl}/sessions/no-such-session`);
    await page.getByTestId('not-found').waitFor();
  });
});
