// Collector shipper ↔ relay ingest over real gRPC on loopback, with storage replaced by an
// in-memory sink that can be told to fail: acks only after durable, resume after reconnect,
// retried inserts, nothing lost, nothing duplicated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from '../relay.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../../collector/ship/shipper.js';
import { createLogger } from '../../common/logger.js';
import type { Flow } from '../../proto/types.js';
import { MemoryRelayStore } from '../../testing/memory-relay-store.js';
import { testShipperOptions } from '../../testing/fake-ingest.js';
import { ObserverApiClient } from '../../api/client.js';

const log = createLogger('test', 'silent');
const flow = (i: number): Flow => ({ uuid: `u${i}`, time: { seconds: Math.floor(Date.now() / 1000), nanos: i }, node_name: 'n1' });

async function startRelay(store: MemoryRelayStore, port = 0, tolerateResumeGaps = false): Promise<Relay> {
  const relay = new Relay(
    store,
    { listen: `127.0.0.1:${port}`, nodeName: 'relay', batcher: { flushIntervalMs: 20, retryMinMs: 10, retryMaxMs: 50 }, tolerateResumeGaps },
    log,
  );
  await relay.start();
  return relay;
}

test('every flow is stored exactly once, acks follow durability, failed inserts are retried', async () => {
  const store = new MemoryRelayStore();
  store.failNext = 2;
  const relay = await startRelay(store);
  const shipper = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 100,
      maxBatchDelayMs: 5,
      relayAddress: `127.0.0.1:${relay.port}`,
      nodeName: 'n1',
      observerAddress: '',
      version: 't',
    },
    log,
  );
  shipper.start();
  for (let i = 0; i < 5000; i++) shipper.add(flow(i));
  assert.equal(await shipper.drain(10_000), true);
  assert.equal(store.rows.length, 5000);
  assert.equal(new Set(store.rows.map((r) => r.flow.uuid)).size, 5000);
  assert.equal(shipper.stats.flowsAcked, 5000);
  assert.ok(relay.batcher.stats.insertErrors >= 2);
  await shipper.stop();
  await relay.stop();
});

test("a relay restart loses nothing: the collector resends from the relay's resume point", async () => {
  const store = new MemoryRelayStore();
  let relay = await startRelay(store);
  const port = relay.port;
  const shipper = new Shipper(testShipperOptions(port), log);
  shipper.start();
  for (let i = 0; i < 1000; i++) shipper.add(flow(i));
  assert.equal(await shipper.drain(10_000), true);
  await relay.stop();
  for (let i = 1000; i < 2000; i++) shipper.add(flow(i)); // buffered while the relay is down
  shipper.flush();
  relay = await startRelay(store, port);
  for (let i = 2000; i < 3000; i++) shipper.add(flow(i));
  assert.equal(await shipper.drain(15_000), true);
  assert.equal(store.rows.length, 3000);
  assert.equal(new Set(store.rows.map((r) => r.flow.uuid)).size, 3000);
  assert.ok(shipper.stats.reconnects >= 1);
  await shipper.stop();
  await relay.stop();
});

test('a full backlog drops new flows and counts them', async () => {
  const shipper = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxUnackedFlows: 100,
      maxBatchFlows: 10,
      relayAddress: '127.0.0.1:1',
      nodeName: 'n1',
      observerAddress: '',
      version: 't',
      reconnectMinMs: 10_000,
    },
    log,
  );
  shipper.start();
  for (let i = 0; i < 150; i++) shipper.add(flow(i));
  assert.equal(shipper.stats.flowsDropped, 50);
  assert.equal(shipper.stats.unackedFlows, 100);
  await shipper.stop();
});

/** A collector ships `acked` flows to a relay that acknowledges them, the relay stops, the collector
 * queues `more`, and a new relay on the same port starts over `store` (which has none of them). */
async function restartBehindAckedFlows(
  acked: number,
  more: number,
  store: MemoryRelayStore,
  tolerateResumeGaps: boolean,
): Promise<{ shipper: Shipper; relay: Relay }> {
  const first = await startRelay(new MemoryRelayStore());
  const port = first.port;
  const shipper = new Shipper(testShipperOptions(port), log);
  shipper.start();
  for (let i = 0; i < acked; i++) shipper.add(flow(i));
  assert.equal(await shipper.drain(10_000), true);
  await first.stop();
  for (let i = acked; i < acked + more; i++) shipper.add(flow(i));
  return { shipper, relay: await startRelay(store, port, tolerateResumeGaps) };
}

test('Kafka mode: a collector resuming above a lagging resume point is accepted once, right after Hello', async () => {
  // The first relay acked 1000 flows (they are "in Kafka"); the restarted relay's storage has none yet.
  const lagging = new MemoryRelayStore();
  const { shipper, relay } = await restartBehindAckedFlows(1000, 500, lagging, true);
  assert.equal(await shipper.drain(15_000), true);
  assert.equal(lagging.rows.length, 500);
  assert.equal(new Set(lagging.rows.map((r) => r.flow.uuid)).size, 500);
  assert.equal(relay.ingest.stats.resumeGaps, 1);
  assert.equal(relay.ingest.stats.protocolErrors, 0);
  await shipper.stop();
  await relay.stop();
});

test('without Kafka mode the same gap is refused: storage is the only truth', async () => {
  const fresh = new MemoryRelayStore();
  const { shipper, relay } = await restartBehindAckedFlows(100, 100, fresh, false);
  assert.equal(await shipper.drain(1_000), false);
  assert.equal(fresh.rows.length, 0);
  assert.ok(relay.ingest.stats.protocolErrors >= 1);
  await shipper.stop();
  await relay.stop();
});

test('observe without --follow stops at the request: flows stored while the answer streams are not appended', async () => {
  const store = new MemoryRelayStore();
  const relay = await startRelay(store);
  const shipper = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 50,
      maxBatchDelayMs: 5,
      relayAddress: `127.0.0.1:${relay.port}`,
      nodeName: 'n1',
      observerAddress: '',
      version: 't',
    },
    log,
  );
  shipper.start();
  // With provenance (a collector's ring cursors), so the answer is cut at the marks snapshot.
  for (let i = 0; i < 100; i++) shipper.add(flow(i), i + 1);
  assert.equal(await shipper.drain(10_000), true);
  // While the history read is under way, 100 more flows become durable.
  store.midQuery = async () => {
    store.midQuery = null;
    for (let i = 100; i < 200; i++) shipper.add(flow(i), i + 1);
    assert.equal(await shipper.drain(10_000), true);
  };
  const client = new ObserverApiClient(`127.0.0.1:${relay.port}`, 10_000);
  try {
    const got: string[] = [];
    await client.getFlows({}, (res) => {
      if (res.flow?.uuid) got.push(res.flow.uuid);
    });
    assert.equal(store.rows.length, 200);
    assert.deepEqual(got.sort(), Array.from({ length: 100 }, (_, i) => `u${i}`).sort());
  } finally {
    client.close();
    await shipper.stop();
    await relay.stop();
  }
});
