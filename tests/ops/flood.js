// flood.js: overloads a Sightline server with OTLP/HTTP JSON requests over many
// keep-alive connections and checks how it refuses (tests/ops/overload.sh).
//
//   node flood.js URL ACK_LOG [--connections 64] [--seconds 6] [--spans 25]
//
// Every connection sends one new trace per request, as fast as answers come. Each
// answer is classified:
//   200 with no rejected spans   acknowledged: its span ids go to ACK_LOG (crash_verify
//                                later checks each is stored exactly once)
//   429 or 503 with Retry-After  refused properly: the same body is sent again (after
//                                a short pause, not the advised one: a flood stays a flood)
//   anything else                a violation: another status, 429/503 without a valid
//                                Retry-After, a 200 with rejected spans, a reset or
//                                closed connection without an answer, a timeout
// Prints a JSON summary; exit status 1 on any violation, or when nothing was refused
// (then the test did not overload anything) or nothing acknowledged.
'use strict';
const fs = require('fs');
const http = require('http');
const crypto = require('crypto');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const [url, ackPath] = args;
if (!url || !ackPath || url.startsWith('--')) {
  console.error('usage: node flood.js URL ACK_LOG [--connections N] [--seconds S] [--spans N]');
  process.exit(2);
}
const connections = opt('--connections', 64);
const seconds = opt('--seconds', 6);
const spansPerRequest = opt('--spans', 25);

const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const ack = fs.openSync(ackPath, 'a');
const stats = {
  requests: 0, acked_requests: 0, acked_spans: 0, refused: 0, refused_429: 0, refused_503: 0,
  retry_after_values: {}, violations: 0, still_refused_at_end: 0,
};
const examples = [];
function violation(what) {
  ++stats.violations;
  if (examples.length < 10) examples.push(what);
}

// One trace: a root agent span and children (a chat call and a tool call, alternating).
function makeBody() {
  const traceId = crypto.randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1000000n;
  const rootId = crypto.randomBytes(8).toString('hex');
  const spans = [];
  const ids = [];
  for (let i = 0; i < spansPerRequest; ++i) {
    const spanId = i === 0 ? rootId : crypto.randomBytes(8).toString('hex');
    ids.push(`${traceId} ${spanId}`);
    const llm = i % 2 === 1;
    spans.push({
      traceId, spanId, parentSpanId: i === 0 ? '' : rootId,
      name: i === 0 ? 'invoke_agent flood' : llm ? 'chat gpt-4o-mini' : 'execute_tool lookup',
      kind: i === 0 ? 1 : 3,
      startTimeUnixNano: String(now + BigInt(i) * 1000n),
      endTimeUnixNano: String(now + BigInt(i) * 1000n + 500000n),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: i === 0 ? 'invoke_agent' : llm ? 'chat' : 'execute_tool' } },
        llm ? { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } }
            : { key: 'gen_ai.tool.name', value: { stringValue: 'lookup' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: '120' } },
        { key: 'flood.padding', value: { stringValue: 'x'.repeat(200) } },
      ],
      status: { code: 1 },
    });
  }
  const body = JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ops-flood' } }] },
      scopeSpans: [{ scope: { name: 'flood' }, spans }],
    }],
  });
  return { body, ids };
}

function post(body) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 30000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ error: `reading the answer: ${e.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = Date.now() + seconds * 1000;

async function connection() {
  while (Date.now() < deadline) {
    const { body, ids } = makeBody();
    for (;;) {
      const r = await post(body);
      ++stats.requests;
      if (r.error) {
        violation(`no answer: ${r.error}`);
        break;
      }
      if (r.status === 429 || r.status === 503) {
        ++stats.refused;
        ++stats[`refused_${r.status}`];
        const ra = r.headers['retry-after'];
        if (ra === undefined || !(/^\d+$/.test(ra) || !Number.isNaN(Date.parse(ra)))) {
          violation(`${r.status} without a valid Retry-After (${JSON.stringify(ra)}): ${r.body.slice(0, 200)}`);
        } else {
          stats.retry_after_values[ra] = (stats.retry_after_values[ra] || 0) + 1;
        }
        if (Date.now() >= deadline) {
          ++stats.still_refused_at_end;
          break;
        }
        await sleep(20);
        continue;
      }
      if (r.status !== 200) {
        violation(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
        break;
      }
      let parsed;
      try {
        parsed = JSON.parse(r.body);
      } catch (e) {
        violation(`200 with a body that is not JSON: ${r.body.slice(0, 200)}`);
        break;
      }
      const rejected = Number(parsed.partialSuccess?.rejectedSpans ?? 0);
      if (rejected > 0) {
        violation(`200 with ${rejected} rejected spans: ${parsed.partialSuccess.errorMessage}`);
        break;
      }
      ++stats.acked_requests;
      stats.acked_spans += ids.length;
      fs.writeSync(ack, ids.map((k) => k + '\n').join(''));
      break;
    }
  }
}

(async () => {
  const t0 = Date.now();
  await Promise.all(Array.from({ length: connections }, connection));
  fs.closeSync(ack);
  agent.destroy();
  stats.elapsed_s = (Date.now() - t0) / 1000;
  stats.connections = connections;
  stats.examples = examples;
  console.log(JSON.stringify(stats));
  if (stats.violations > 0 || stats.refused === 0 || stats.acked_spans === 0) process.exit(1);
})();
