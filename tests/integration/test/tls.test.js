'use strict';
// TLS on both listeners (docs/tls.md) with real clients. A throwaway CA and server
// certificate are made with the openssl command at test time. The OpenTelemetry JS
// OTLP/HTTP exporters (protobuf and JSON) send over https trusting that CA, the OTLP
// gRPC exporter over TLS with credentials.createSsl(ca); the API returns their spans
// and the CLI reads them back with --ca-cert. Plain HTTP to the TLS port is refused,
// a rotated certificate reaches new connections on both ports without a restart, the
// UI's session cookie is Secure, and bad certificate files stop start-up with exit
// status 2 and a message naming the file but never the key.

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');

const { startServer, waitForTrace, request, binaryPath, sleep } = require('../lib/sightline');
const { makeProvider } = require('../lib/otel');

const OPENSSL_CONF = `[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

// A CA (ca.pem) in a fresh directory; returns the directory.
function makeCa() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-tls-'));
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CONF);
  openssl(dir, 'req', '-config', 'openssl.cnf', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sightline Integration CA',
    '-extensions', 'v3_ca');
  return dir;
}

// A server certificate for localhost / 127.0.0.1 signed by the CA in dir: NAME.pem, NAME.key.
function issue(dir, name, cn) {
  openssl(dir, 'req', '-config', 'openssl.cnf', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', 'openssl.cnf', '-extensions', 'v3_server');
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

// Replaces dest by src's content atomically (write aside, rename), as deploy tools do.
function replaceFile(src, dest) {
  fs.copyFileSync(src, `${dest}.new`);
  fs.renameSync(`${dest}.new`, dest);
}

// The CN of the certificate a new TLS connection to port sees (ALPN as given).
function peerCommonName(port, ca, alpn) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: alpn }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(cn);
    });
    s.setTimeout(10000, () => s.destroy(new Error('timed out')));
    s.on('error', reject);
  });
}

async function sendOne(exporter, name) {
  const { provider, recorder } = makeProvider(exporter, 'tls-test');
  const span = provider.getTracer('tls').startSpan(name, { attributes: { 'gen_ai.operation.name': 'chat' } });
  const traceId = span.spanContext().traceId;
  span.end();
  await provider.forceFlush().catch(() => {});
  await provider.shutdown().catch(() => {});
  return { traceId, recorder };
}

function grpcExporter(server, credentials, timeoutMillis = 10000) {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
  const port = server.grpcAddr.split(':').pop();
  return new OTLPTraceExporter({ url: `https://localhost:${port}`, credentials, timeoutMillis });
}

describe('TLS on the HTTP and gRPC listeners, with real clients', () => {
  let dir;
  let caPem;
  let server;
  let files;
  const traceIds = [];

  before(async () => {
    dir = makeCa();
    caPem = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    const issued = issue(dir, 'server', 'first.localhost');
    // The server reads these two paths; rotation replaces their content.
    files = { cert: path.join(dir, 'live-cert.pem'), key: path.join(dir, 'live-key.pem') };
    replaceFile(issued.cert, files.cert);
    replaceFile(issued.key, files.key);
    server = await startServer({ extraArgs: ['--tls-cert', files.cert, '--tls-key', files.key], ca: caPem });
  });

  after(async () => {
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('start-up says https and tls=on', () => {
    assert.match(server.stderr, /http=https:\/\/127\.0\.0\.1:\d+/, server.logs());
    assert.match(server.stderr, /tls=on certificate CN=first\.localhost/, server.logs());
    assert.match(server.stdout, /sightline: listening http=\S+ grpc=\S+ tls=on/, server.logs());
  });

  for (const variant of ['proto', 'json']) {
    test(`the OTLP/HTTP ${variant} exporter sends over https`, async () => {
      const pkg = variant === 'proto' ? '@opentelemetry/exporter-trace-otlp-proto' : '@opentelemetry/exporter-trace-otlp-http';
      const { OTLPTraceExporter } = require(pkg);
      const exporter = new OTLPTraceExporter({ url: `${server.baseUrl}/v1/traces`, httpAgentOptions: { ca: caPem } });
      const { traceId, recorder } = await sendOne(exporter, `https ${variant}`);
      recorder.assertAllSucceeded();
      const got = await waitForTrace(server, traceId, 1);
      assert.equal(got.spans[0].name, `https ${variant}`);
      traceIds.push(traceId);
    });
  }

  test('the OTLP gRPC exporter sends over TLS with createSsl(ca)', async () => {
    const { credentials } = require('@grpc/grpc-js');
    const { traceId, recorder } = await sendOne(grpcExporter(server, credentials.createSsl(Buffer.from(caPem))), 'grpc tls');
    recorder.assertAllSucceeded();
    const got = await waitForTrace(server, traceId, 1);
    assert.equal(got.spans[0].name, 'grpc tls');
    traceIds.push(traceId);
  });

  test('exporters that do not trust the CA, or speak plaintext, are refused', async () => {
    const { credentials } = require('@grpc/grpc-js');
    const untrusting = await sendOne(grpcExporter(server, credentials.createSsl(), 3000), 'untrusted');
    assert.throws(() => untrusting.recorder.assertAllSucceeded());
    const plain = await sendOne(grpcExporter(server, credentials.createInsecure(), 3000), 'plaintext');
    assert.throws(() => plain.recorder.assertAllSucceeded());
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    const http = await sendOne(new OTLPTraceExporter({ url: `http://${server.httpAddr}/v1/traces`, timeoutMillis: 3000 }),
      'plain http');
    assert.throws(() => http.recorder.assertAllSucceeded());
  });

  test('plain HTTP sent to the TLS port gets a plain 400 and the server carries on', async () => {
    const res = await request(`http://${server.httpAddr}/api/v1/traces`);
    assert.equal(res.status, 400);
    assert.match(res.text, /https:\/\//);
    const ok = await request(`${server.baseUrl}/readyz`, { ca: caPem });
    assert.equal(ok.status, 200);
    // Not trusting the CA: the client refuses the handshake.
    await assert.rejects(request(`${server.baseUrl}/readyz`), /self[- ]signed|unable to (get|verify)/);
  });

  test('the CLI reads the spans back over https with --ca-cert', () => {
    assert.equal(traceIds.length, 3, 'the exporter tests ran first');
    const url = `https://127.0.0.1:${server.httpAddr.split(':').pop()}`;
    const out = execFileSync(binaryPath(), ['traces', '--server', url, '--ca-cert', path.join(dir, 'ca.pem'), '--json',
      '--limit', '50'], { encoding: 'utf8' });
    const found = JSON.parse(out).traces.map((t) => t.trace_id);
    for (const id of traceIds) assert.ok(found.includes(id), `trace ${id} in ${out.slice(0, 500)}`);
    const one = execFileSync(binaryPath(), ['trace', traceIds[2], '--server', `https://localhost:${url.split(':').pop()}`],
      { encoding: 'utf8', env: { ...process.env, SIGHTLINE_CA_CERT: path.join(dir, 'ca.pem') } });
    assert.match(one, /grpc tls/);
    // Without the CA the CLI refuses the server and says how to trust it.
    const refused = spawnSync(binaryPath(), ['traces', '--server', url], { encoding: 'utf8' });
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /not trusted.*--ca-cert/);
  });

  test('a rotated certificate reaches new connections on both ports without a restart', async () => {
    const httpPort = Number(server.httpAddr.split(':').pop());
    const grpcPort = Number(server.grpcAddr.split(':').pop());
    assert.equal(await peerCommonName(httpPort, caPem, ['http/1.1']), 'first.localhost');
    assert.equal(await peerCommonName(grpcPort, caPem, ['h2']), 'first.localhost');

    // Half a rotation (the new certificate, the old key): refused, the old one stays.
    const next = issue(dir, 'rotated', 'rotated.localhost');
    replaceFile(next.cert, files.cert);
    const deadline = Date.now() + 15000;
    while (!/refused/.test(server.stderr) && Date.now() < deadline) await sleep(200);
    assert.match(server.stderr, /tls: the changed certificate files are refused.*does not belong/, server.logs());
    assert.equal(await peerCommonName(httpPort, caPem, ['http/1.1']), 'first.localhost');

    replaceFile(next.key, files.key);
    let httpCn;
    let grpcCn;
    while (Date.now() < deadline + 15000) {
      httpCn = await peerCommonName(httpPort, caPem, ['http/1.1']);
      grpcCn = await peerCommonName(grpcPort, caPem, ['h2']).catch(() => 'unreachable');
      if (httpCn === 'rotated.localhost' && grpcCn === 'rotated.localhost') break;
      await sleep(250);
    }
    assert.equal(httpCn, 'rotated.localhost', server.logs());
    assert.equal(grpcCn, 'rotated.localhost', server.logs());
    assert.match(server.stderr, /tls: certificate reloaded for new connections: CN=rotated\.localhost/);
    // And spans still arrive over gRPC with the new certificate.
    const { credentials } = require('@grpc/grpc-js');
    const { traceId, recorder } = await sendOne(grpcExporter(server, credentials.createSsl(Buffer.from(caPem))), 'after rotation');
    recorder.assertAllSucceeded();
    await waitForTrace(server, traceId, 1);
  });

  // Last: a user turns authentication on for this server.
  test('the UI session cookies are Secure over https', async () => {
    execFileSync(binaryPath(), ['admin', '--data', server.dataDir, 'projects', 'create', 'web']);
    execFileSync(binaryPath(), ['admin', '--data', server.dataDir, 'users', 'create', 'ana', '--password-stdin'],
      { input: 'correct horse battery\n' });
    execFileSync(binaryPath(), ['admin', '--data', server.dataDir, 'users', 'set-role', 'ana', '--project', 'web',
      '--role', 'viewer']);
    let res;
    const deadline = Date.now() + 10000;
    do {
      await sleep(200);
      res = await request(`${server.baseUrl}/api/v1/auth/login`, {
        method: 'POST', ca: caPem, headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: 'ana', password: 'correct horse battery' }),
      });
    } while (res.status !== 200 && Date.now() < deadline);
    assert.equal(res.status, 200, res.text);
    const cookies = res.headers['set-cookie'];
    assert.equal(cookies.length, 2);
    for (const c of cookies) assert.match(c, /; Secure/, c);
    const status = JSON.parse((await request(`${server.baseUrl}/api/v1/auth/status`, { ca: caPem })).text);
    assert.equal(status.tls, true);
  });
});

describe('bad TLS files stop start-up with exit status 2', () => {
  let dir;
  before(() => { dir = makeCa(); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function serve(...extra) {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-tls-data-'));
    try {
      return spawnSync(binaryPath(), ['serve', '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--data', data, ...extra],
        { encoding: 'utf8', timeout: 20000 });
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  }

  test('a key that does not match, a missing file, a lone certificate, swapped files', () => {
    const a = issue(dir, 'a', 'a.localhost');
    const b = issue(dir, 'b', 'b.localhost');
    const keyLines = [a.key, b.key].map((k) => fs.readFileSync(k, 'utf8').split('\n')[1]);
    const cases = [
      [['--tls-cert', a.cert, '--tls-key', b.key], [b.key, /does not belong to the certificate/]],
      [['--tls-cert', a.cert, '--tls-key', path.join(dir, 'missing.key')], [/tls_key/, /no such file/]],
      [['--tls-cert', a.cert], [/needs tls_key/]],
      [['--tls-cert', a.key, '--tls-key', a.cert], [a.key, /not a certificate/]],
    ];
    for (const [args, expects] of cases) {
      const r = serve(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      for (const e of expects) {
        if (typeof e === 'string') assert.ok(r.stderr.includes(e), `${args.join(' ')}: ${r.stderr}`);
        else assert.match(r.stderr, e);
      }
      for (const line of keyLines) assert.ok(!r.stderr.includes(line), 'key material in the message');
      assert.ok(!r.stdout.includes('listening'), 'it must not have started');
    }
  });
});
