// Relay mTLS: a collector pushes only with a client certificate from the relay's client CA that
// names its node; every refusal is counted (and the relay keeps serving). With valid
// certificates, flows are stored end to end and the relay reaches the collector's Observer API
// over TLS too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { Relay } from './relay.js';
import { registerRelayMetrics } from './metrics.js';
import { buildRelayTls, type RelayTlsSpec } from './tls.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../collector/ship/shipper.js';
import { startCollector } from '../collector/main.js';
import { createLogger } from '../common/logger.js';
import { clientTlsFiles, grpcChannelCredentials, type ClientTlsSpec, type TlsFiles } from '../common/tls.js';
import { scrapeValues } from '../common/metrics/scrape.js';
import { ObserverApiClient } from '../api/client.js';
import { MemoryRelayStore } from '../testing/memory-relay-store.js';
import { makeTlsFixture, type TlsFixture } from '../testing/tls-fixtures.js';
import { makeCaPem } from '../api/cli/certs.js';
import { waitFor } from '../testing/harness.js';
import { NodeState } from '../proto/types.js';

const log = createLogger('test', 'silent');

function relaySpec(fx: TlsFixture, extra: Partial<RelayTlsSpec> = {}): RelayTlsSpec {
  const relay = fx.issue('relay', 'flowscope-relay', ['localhost', '127.0.0.1']);
  return {
    server: { cert: { path: relay.cert, flag: '--c' }, key: { path: relay.key, flag: '--k' }, clientCa: [{ path: fx.file('ca.crt'), flag: '--ca' }] },
    clientAuth: 'ingest',
    peers: null,
    ...extra,
  };
}

async function startRelay(fx: TlsFixture, extra: Partial<RelayTlsSpec> = {}) {
  const store = new MemoryRelayStore({ decode: false });
  const tls = buildRelayTls(relaySpec(fx, extra), log, { reloadIntervalMs: 0 });
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 20 }, tls }, log);
  const registry = new Registry();
  registerRelayMetrics(registry, relay, tls);
  await relay.start();
  return { relay, store, tls, registry };
}

function shipper(port: number, node: string, files: TlsFiles | null): Shipper {
  return new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 50,
      maxBatchDelayMs: 5,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      relayAddress: `localhost:${port}`,
      nodeName: node,
      observerAddress: '',
      version: 't',
      tls: files ? { files } : null,
    },
    log,
  );
}

function clientFiles(fx: TlsFixture, cert?: { cert: string; key: string }): TlsFiles {
  const spec: ClientTlsSpec = {
    ca: [{ path: fx.file('ca.crt'), flag: '--ca' }],
    ...(cert ? { cert: { path: cert.cert, flag: '--cc' }, key: { path: cert.key, flag: '--ck' } } : {}),
  };
  return clientTlsFiles(spec, log, { reloadIntervalMs: 0 });
}

const refused = (service: string, reason: string) => `flowscope_relay_tls_refused_calls_total{service="${service}",reason="${reason}"}`;

test('ingest over mTLS: refused without a valid certificate or for another node, counted; stored with a valid one', async () => {
  const fx = makeTlsFixture();
  const { relay, store, registry } = await startRelay(fx);
  const other = makeCaPem();
  const cases = [
    { name: 'no certificate', node: 'n1', files: clientFiles(fx), reason: 'no_valid_certificate' },
    { name: 'another CA', node: 'n1', files: clientFiles(fx, fx.issue('wrong-ca', 'n1', ['n1'], { ca: other })), reason: 'no_valid_certificate' },
    { name: "another node's certificate", node: 'n1', files: clientFiles(fx, fx.issue('n2', 'n2', ['n2'])), reason: 'name_mismatch' },
  ];
  const good = clientFiles(fx, fx.issue('n1', 'n1', ['n1']));
  try {
    const before = await scrapeValues(registry);
    for (const r of ['no_valid_certificate', 'name_mismatch']) assert.equal(before.get(refused('ingest', r)), 0, 'every series exists at 0');
    for (const c of cases) {
      const s = shipper(relay.port, c.node, c.files);
      s.start();
      for (let i = 0; i < 10; i++) s.add({ uuid: `${c.name}-${i}`, time: { seconds: 1, nanos: i }, node_name: c.node });
      const was = (await scrapeValues(registry)).get(refused('ingest', c.reason))!;
      // Refused again on every reconnect: wait for two refusals, never an acknowledgement.
      await waitFor(`${c.name} refused`, async () => ((await scrapeValues(registry)).get(refused('ingest', c.reason))! >= was + 2 ? true : undefined));
      assert.equal(s.stats.flowsAcked, 0, c.name);
      await s.stop();
      c.files.close();
    }
    assert.equal(store.rowCount, 0);
    assert.equal(relay.ingest.stats.protocolErrors, 0, 'refusals are not protocol errors');

    const s = shipper(relay.port, 'n1', good);
    s.start();
    for (let i = 0; i < 500; i++) s.add({ uuid: `ok-${i}`, time: { seconds: 1, nanos: i }, node_name: 'n1' });
    assert.equal(await s.drain(20_000), true);
    assert.equal(store.rowCount, 500);
    await s.stop();

    // Observer API with clientAuth "ingest": server TLS only, no client certificate needed.
    const cli = new ObserverApiClient('localhost:' + relay.port, 5000, grpcChannelCredentials(clientFiles(fx)));
    assert.equal(await cli.healthCheck(), 'SERVING');
    cli.close();
  } finally {
    good.close();
    await relay.stop();
    fx.cleanup();
  }
});

test('ingest over mTLS: a certificate matching --tls-relay-client-name-pattern is accepted for any node', async () => {
  const fx = makeTlsFixture();
  const { relay, store } = await startRelay(fx, { collectorNamePattern: '*.collectors.example' });
  const files = clientFiles(fx, fx.issue('shared', 'collector', ['any.collectors.example']));
  try {
    const s = shipper(relay.port, 'kind-worker', files);
    s.start();
    for (let i = 0; i < 20; i++) s.add({ uuid: `p-${i}`, time: { seconds: 1, nanos: i }, node_name: 'kind-worker' });
    assert.equal(await s.drain(20_000), true);
    assert.equal(store.rowCount, 20);
    await s.stop();
  } finally {
    files.close();
    await relay.stop();
    fx.cleanup();
  }
});

test('relay and collector over mTLS both ways: flows stored, Observer APIs require client certificates, GetNodes reaches the node over TLS', async () => {
  const fx = makeTlsFixture();
  const node = fx.issue('node-n1', 'n1', ['n1', 'localhost', '127.0.0.1']);
  const relayCert = fx.issue('relay', 'flowscope-relay', ['localhost', '127.0.0.1']);
  const ca = [{ path: fx.file('ca.crt'), flag: '--ca' }];
  const { relay, store } = await startRelay(fx, {
    clientAuth: 'all',
    peers: { ca, cert: { path: relayCert.cert, flag: '--pc' }, key: { path: relayCert.key, flag: '--pk' } },
  });
  const collector = await startCollector({
    source: { kind: 'synthetic', rate: 2000, seed: 3, node: '1', clusterNodes: 2, count: 300 },
    nodeName: 'n1',
    relay: `localhost:${relay.port}`,
    listen: '127.0.0.1:0',
    ringCapacity: 4095,
    maxUnackedFlows: 10_000,
    metricsAddr: '127.0.0.1:0',
    metrics: '',
    tls: {
      server: { cert: { path: node.cert, flag: '--c' }, key: { path: node.key, flag: '--k' }, clientCa: ca },
      relay: { ca, cert: { path: node.cert, flag: '--cc' }, key: { path: node.key, flag: '--ck' } },
    },
  });
  const cliCert = fx.issue('client-cli', 'cli', ['cli'], { server: false });
  const withCert = clientFiles(fx, cliCert);
  const without = clientFiles(fx);
  try {
    await collector.finished;
    await waitFor('flows stored', async () => (store.rowCount >= 300 ? true : undefined));
    for (const port of [relay.port, collector.port]) {
      const anon = new ObserverApiClient(`localhost:${port}`, 5000, grpcChannelCredentials(without));
      await assert.rejects(anon.serverStatus(), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
      anon.close();
    }
    const scraped = await (await fetch(`http://127.0.0.1:${collector.metricsPort}/metrics`)).text();
    assert.match(scraped, /^flowscope_collector_tls_refused_calls_total 1$/m, 'the refusal is counted by the collector');
    const cli = new ObserverApiClient(`localhost:${relay.port}`, 5000, grpcChannelCredentials(withCert));
    const nodes = (await cli.getNodes()).nodes ?? [];
    cli.close();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].state, NodeState.NODE_CONNECTED, 'the relay called the collector over mTLS');
    assert.deepEqual(nodes[0].tls, { enabled: true, server_name: 'n1' });
    assert.ok((nodes[0].seen_flows ?? 0) >= 300);
  } finally {
    withCert.close();
    without.close();
    await collector.stop();
    await relay.stop();
    fx.cleanup();
  }
});

test('one wildcard certificate for every collector (*.<cluster>.collector.flowscope): ingest for any node, the relay dials each node by its name under it; probes on plaintext health listeners', async () => {
  const fx = makeTlsFixture();
  const wildcard = '*.c1.collector.flowscope';
  const shared = fx.issue('collector', wildcard, [wildcard]);
  const relayCert = fx.issue('relay', 'flowscope-relay', ['localhost', '127.0.0.1']);
  const ca = [{ path: fx.file('ca.crt'), flag: '--ca' }];
  const store = new MemoryRelayStore({ decode: false });
  const tls = buildRelayTls(
    {
      ...relaySpec(fx),
      clientAuth: 'all',
      collectorNamePattern: wildcard,
      peers: { ca, cert: { path: relayCert.cert, flag: '--pc' }, key: { path: relayCert.key, flag: '--pk' }, serverName: wildcard },
    },
    log,
    { reloadIntervalMs: 0 },
  );
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 20 }, tls, healthListen: '127.0.0.1:0' }, log);
  await relay.start();
  const collector = await startCollector({
    source: { kind: 'synthetic', rate: 2000, seed: 5, node: '1', clusterNodes: 2, count: 200 },
    nodeName: 'c1/ip-10-0-0-7.eu-west-1.compute.internal',
    clusterName: 'c1',
    relay: `localhost:${relay.port}`,
    listen: '127.0.0.1:0',
    ringCapacity: 4095,
    maxUnackedFlows: 10_000,
    metricsAddr: null,
    healthListen: '127.0.0.1:0',
    tls: {
      server: { cert: { path: shared.cert, flag: '--c' }, key: { path: shared.key, flag: '--k' }, clientCa: ca },
      relay: { ca, cert: { path: shared.cert, flag: '--cc' }, key: { path: shared.key, flag: '--ck' } },
    },
  });
  const cli = clientFiles(fx, fx.issue('client-cli', 'cli', ['cli'], { server: false }));
  try {
    await collector.finished;
    await waitFor('flows stored', async () => (store.rowCount >= 200 ? true : undefined));
    const c = new ObserverApiClient(`localhost:${relay.port}`, 5000, grpcChannelCredentials(cli));
    const nodes = (await c.getNodes()).nodes ?? [];
    c.close();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].state, NodeState.NODE_CONNECTED, 'the relay reached the collector over mTLS under the wildcard name');
    assert.deepEqual(nodes[0].tls, { enabled: true, server_name: 'ip-10-0-0-7-eu-west-1-compute-internal.c1.collector.flowscope' });
    // Probes: plaintext health answers while the main ports are TLS; nothing else is served there.
    for (const [what, healthPort, mainPort] of [
      ['relay', relay.healthPort, relay.port],
      ['collector', collector.healthPort, collector.port],
    ] as const) {
      assert.ok(healthPort > 0 && healthPort !== mainPort);
      const h = new ObserverApiClient(`127.0.0.1:${healthPort}`, 5000);
      assert.equal(await h.healthCheck(), 'SERVING', `${what} health`);
      await assert.rejects(h.serverStatus(), (e: grpc.ServiceError) => e.code === grpc.status.UNIMPLEMENTED, `${what}: only health on the health port`);
      h.close();
      const plain = new ObserverApiClient(`127.0.0.1:${mainPort}`, 5000);
      await assert.rejects(plain.healthCheck(), `${what}: the main port speaks TLS only`);
      plain.close();
    }
  } finally {
    cli.close();
    await collector.stop();
    await relay.stop();
    fx.cleanup();
  }
});

test('relay health listener: SERVING while the relay runs, closed once it stopped', async () => {
  const store = new MemoryRelayStore({ decode: false });
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 20 }, healthListen: '127.0.0.1:0' }, log);
  await relay.start();
  const h = new ObserverApiClient(`127.0.0.1:${relay.healthPort}`, 2000);
  try {
    assert.equal(await h.healthCheck(), 'SERVING');
    await relay.stop();
    await assert.rejects(h.healthCheck(), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED);
  } finally {
    h.close();
  }
});
