// The HTTP API over HTTPS (client certificates required with client CAs), in front of a relay it
// reaches over mTLS; a replaced certificate is served to new connections without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { buildApi } from './server.js';
import { Relay } from '../../relay/relay.js';
import { buildRelayTls } from '../../relay/tls.js';
import { MemoryRelayStore } from '../../testing/memory-relay-store.js';
import { makeTlsFixture } from '../../testing/tls-fixtures.js';
import { waitFor } from '../../testing/harness.js';
import { createLogger } from '../../common/logger.js';
import { serverTlsFiles } from '../../common/tls.js';

const log = createLogger('test', 'silent');

function get(url: string, opts: https.RequestOptions): Promise<{ status: number; body: string; serial: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...opts, agent: false }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
    });
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
}

test('HTTP API over HTTPS with client certificates, relay over mTLS, certificate reload', async () => {
  const fx = makeTlsFixture();
  const ca = [{ path: fx.file('ca.crt'), flag: '--ca' }];
  const relayCert = fx.issue('relay', 'flowscope-relay', ['localhost']);
  const relay = new Relay(
    new MemoryRelayStore(),
    {
      listen: '127.0.0.1:0',
      nodeName: 'relay',
      tls: buildRelayTls(
        { server: { cert: { path: relayCert.cert, flag: '--c' }, key: { path: relayCert.key, flag: '--k' }, clientCa: ca }, clientAuth: 'all', peers: null },
        log,
        { reloadIntervalMs: 0 },
      ),
    },
    log,
  );
  await relay.start();
  const apiCert = fx.issue('api', 'flowscope-api', ['localhost', '127.0.0.1']);
  const apiClient = fx.issue('client-api', 'api', ['api'], { server: false });
  const user = fx.issue('client-user', 'user', ['user'], { server: false });
  const files = serverTlsFiles({ cert: { path: apiCert.cert, flag: '--c' }, key: { path: apiCert.key, flag: '--k' }, clientCa: ca }, log, {
    reloadIntervalMs: 50,
  });
  const app = buildApi({
    server: `localhost:${relay.port}`,
    https: files,
    relayTls: { tlsCaCertFiles: [fx.file('ca.crt')], tlsClientCertFile: apiClient.cert, tlsClientKeyFile: apiClient.key },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const url = `https://localhost:${port}/readyz`;
  const userTls = { ca: fs.readFileSync(fx.file('ca.crt')), cert: fs.readFileSync(user.cert), key: fs.readFileSync(user.key) };
  try {
    const first = await get(url, userTls);
    assert.ok('status' in first, JSON.stringify(first));
    assert.equal(first.status, 200, first.body);
    assert.equal(JSON.parse(first.body).status, 'ready', 'the API reached the relay over mTLS');
    assert.ok('error' in (await get(url, { ca: userTls.ca })), 'no client certificate: refused');

    fx.issue('api', 'flowscope-api', ['localhost', '127.0.0.1']);
    await waitFor('reload', async () => (files.stats.reloads >= 1 ? true : undefined));
    const second = await get(url, userTls);
    assert.ok('status' in second && second.status === 200 && second.serial !== first.serial, 'a new connection gets the new certificate');
  } finally {
    await app.close();
    await relay.stop();
    fx.cleanup();
  }
});
