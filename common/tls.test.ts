// TLS files: bad files are one-line errors naming their flag; a gRPC server, an HTTPS server and
// a gRPC client follow their files when a certificate is replaced, without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as HealthService } from 'grpc-health-check';
import { makeTlsFixture } from '../testing/tls-fixtures.js';
import { makeCaPem } from '../api/cli/certs.js';
import { createLogger } from './logger.js';
import { bindServer } from './grpc-services.js';
import { Registry } from 'prom-client';
import { startMetricsServer } from './metrics/server.js';
import {
  ClientCertGuard,
  TlsConfigError,
  clientTlsFiles,
  grpcChannelCredentials,
  grpcServerCredentials,
  loadTlsMaterial,
  serverTlsFiles,
  type FileRef,
} from './tls.js';
import { waitFor } from '../testing/harness.js';

const log = createLogger('test', 'silent');
const ref = (path: string, flag: string): FileRef => ({ path, flag });

test('bad files: one line naming the flag, never a crash', () => {
  const fx = makeTlsFixture();
  try {
    const good = fx.issue('good', 'relay', ['localhost']);
    const other = fx.issue('other', 'relay', ['localhost']);
    const expired = fx.issue('expired', 'relay', ['localhost'], {
      validity: { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    });
    fs.writeFileSync(fx.file('junk.crt'), 'not a certificate\n');
    const cases: Array<[string, () => unknown, RegExp]> = [
      [
        'missing key',
        () => loadTlsMaterial({ cert: ref(good.cert, '--c'), key: ref(fx.file('nope.key'), '--k'), ca: [] }),
        /^cannot read --k .*nope\.key: no such file$/,
      ],
      [
        'key of another certificate',
        () => loadTlsMaterial({ cert: ref(good.cert, '--c'), key: ref(other.key, '--k'), ca: [] }),
        /^--k .*other\.key is not the key of --c .*good\.crt$/,
      ],
      [
        'expired',
        () => loadTlsMaterial({ cert: ref(expired.cert, '--c'), key: ref(expired.key, '--k'), ca: [] }),
        /^--c .*expired\.crt: certificate "CN=relay.*" expired on \d{4}-/,
      ],
      ['not PEM', () => loadTlsMaterial({ ca: [ref(fx.file('junk.crt'), '--ca')] }), /^--ca .*junk\.crt: no PEM certificate in the file$/],
      [
        'key file that is a certificate',
        () => loadTlsMaterial({ cert: ref(good.cert, '--c'), key: ref(good.cert, '--k'), ca: [] }),
        /^--k .*good\.crt: not a valid private key/,
      ],
    ];
    for (const [name, fn, re] of cases) {
      assert.throws(fn, (err: Error) => {
        assert.ok(err instanceof TlsConfigError, name);
        assert.equal((err as TlsConfigError).exitCode, 2);
        assert.match(err.message, re, name);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    }
    assert.ok(loadTlsMaterial({ cert: ref(good.cert, '--c'), key: ref(good.key, '--k'), ca: [ref(fx.file('ca.crt'), '--ca')] }).ca);
  } finally {
    fx.cleanup();
  }
});

/** A health check over TLS with these credentials: 'SERVING' or the error text. */
function check(port: number, creds: grpc.ChannelCredentials): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(HealthService as unknown as grpc.ServiceDefinition, 'Health');
  // A channel of its own (no shared subchannel): every check is a new TLS connection.
  const c = new Client(`localhost:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1 });
  return new Promise((resolve) => {
    (c as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: { status: number }) => void) => void>).Check(
      { service: '' },
      { deadline: Date.now() + 5000 },
      (err, res) => {
        c.close();
        resolve(err ? `${grpc.status[err.code]}: ${err.details}` : res.status === 1 ? 'SERVING' : String(res.status));
      },
    );
  });
}

test('gRPC: server and client certificates reload on change; new connections use them', async () => {
  const fx = makeTlsFixture();
  const server = new grpc.Server();
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  const s1 = fx.issue('server', 'relay', ['localhost']);
  const c1 = fx.issue('client', 'n1', ['n1']);
  const serverFiles = serverTlsFiles({ cert: ref(s1.cert, '--cert'), key: ref(s1.key, '--key'), clientCa: [ref(fx.file('ca.crt'), '--client-ca')] }, log, {
    reloadIntervalMs: 50,
  });
  const guard = new ClientCertGuard({ require: { ingest: true, observer: true } }, log);
  const port = await bindServer(server, '127.0.0.1:0', grpcServerCredentials(serverFiles, guard));
  const clientFiles = clientTlsFiles({ ca: [ref(fx.file('ca.crt'), '--ca')], cert: ref(c1.cert, '--cc'), key: ref(c1.key, '--ck') }, log, {
    reloadIntervalMs: 50,
  });
  const noCert = clientTlsFiles({ ca: [ref(fx.file('ca.crt'), '--ca')] }, log, { reloadIntervalMs: 0 });
  try {
    assert.equal(await check(port, grpcChannelCredentials(clientFiles)), 'SERVING');
    assert.match(await check(port, grpcChannelCredentials(noCert)), /^UNAUTHENTICATED: a client certificate/);
    assert.equal(guard.refused['observer:no_valid_certificate'], 1);

    // Keep the first CA's files, then rotate everything to a new CA: server certificate, client
    // CA, client certificate (each file replaced by rename, as a rotation does).
    for (const f of ['ca.crt', 'client.crt', 'client.key']) fs.copyFileSync(fx.file(f), fx.file(`old-${f}`));
    const ca2 = makeCaPem();
    fx.issue('server', 'relay', ['localhost'], { ca: ca2 });
    fx.issue('client', 'n1', ['n1'], { ca: ca2 });
    fx.writeCa('ca', ca2);
    await waitFor('server reload', async () =>
      serverFiles.stats.reloads >= 1 && serverFiles.material.ca?.toString().includes(ca2.certPem.trim()) ? true : undefined,
    );
    await waitFor('client reload', async () => (clientFiles.material.cert?.toString() === fs.readFileSync(fx.file('client.crt'), 'utf8') ? true : undefined));
    // New connections: the rotated client is accepted by the rotated server...
    assert.equal(await check(port, grpcChannelCredentials(clientFiles)), 'SERVING');
    // ...a client trusting only the first CA rejects the new server certificate...
    const oldTrust = clientTlsFiles({ ca: [ref(fx.file('old-ca.crt'), '--ca')] }, log, { reloadIntervalMs: 0 });
    assert.match(await check(port, grpcChannelCredentials(oldTrust)), /^UNAVAILABLE/);
    // ...and the first CA's client certificate is refused by the server (its client CA changed).
    const oldClient = clientTlsFiles(
      { ca: [ref(fx.file('ca.crt'), '--ca')], cert: ref(fx.file('old-client.crt'), '--cc'), key: ref(fx.file('old-client.key'), '--ck') },
      log,
      {
        reloadIntervalMs: 0,
      },
    );
    assert.match(await check(port, grpcChannelCredentials(oldClient)), /^UNAUTHENTICATED/);
    assert.equal(guard.refused['observer:no_valid_certificate'], 2);
  } finally {
    serverFiles.close();
    clientFiles.close();
    noCert.close();
    server.forceShutdown();
    fx.cleanup();
  }
});

/** GET over HTTPS: status and the serial of the certificate the server presented, or the error. */
function get(url: string, opts: https.RequestOptions): Promise<{ status: number; serial: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...opts, agent: false }, (res) => {
      const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
    });
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
}

test('HTTPS /metrics: client certificate required with client CAs; a new certificate is served after rotation', async () => {
  const fx = makeTlsFixture();
  const s1 = fx.issue('server', 'metrics', ['localhost', '127.0.0.1']);
  const client = fx.issue('scraper', 'prometheus', ['prometheus'], { server: false });
  const files = serverTlsFiles(
    { cert: ref(s1.cert, '--metrics-tls-cert-file'), key: ref(s1.key, '--metrics-tls-key-file'), clientCa: [ref(fx.file('ca.crt'), '--ca')] },
    log,
    {
      reloadIntervalMs: 50,
    },
  );
  const m = await startMetricsServer('127.0.0.1:0', new Registry(), log, files);
  const url = `https://localhost:${m.port}/metrics`;
  const ca = fs.readFileSync(fx.file('ca.crt'));
  const withCert = { ca, cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) };
  try {
    const first = await get(url, withCert);
    assert.ok('status' in first && first.status === 200, JSON.stringify(first));
    assert.ok('error' in (await get(url, { ca })), 'no client certificate: refused by the handshake');
    assert.ok('error' in (await get(url, { ...withCert, ca: fs.readFileSync(client.cert) })), 'server not trusted');

    fx.issue('server', 'metrics', ['localhost', '127.0.0.1']);
    await waitFor('reload', async () => (files.stats.reloads >= 1 ? true : undefined));
    const second = await get(url, withCert);
    assert.ok('status' in second && second.status === 200 && 'serial' in first && second.serial !== first.serial, JSON.stringify({ first, second }));
  } finally {
    await m.close();
    fx.cleanup();
  }
});
