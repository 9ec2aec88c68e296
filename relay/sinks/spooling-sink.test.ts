// Storage outages under live ingest, end to end in one process: collector shipper → relay over
// real gRPC → spooling sink → chDB. Outages are a store that fails or hangs for a while, and a
// real chDB FlowStore closed and reopened under the relay. Afterwards every flow is stored
// exactly once and the spool is empty. One chDB data directory for the whole file (one per
// process, see docs/storage.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlowStore } from '../../storage/index.js';
import { Relay, type RelayStore } from '../relay.js';
import { relayStore } from '../main.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../../collector/ship/shipper.js';
import { createLogger } from '../../common/logger.js';
import type { Flow } from '../../proto/types.js';
import { ClickHouseSink } from './clickhouse-sink.js';
import { SpoolingSink } from './spooling-sink.js';
import { Spool } from '../../common/spool.js';
import { encodeDurableBatch, flowsToBlock } from './sink.js';
import { registerSpoolMetrics } from './metrics.js';
import { waitFor } from '../../testing/harness.js';
import { register } from 'prom-client';

const log = createLogger('test', 'silent');
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-spoolsink-'));
const chdbDir = path.join(dir, 'chdb');
after(() => fs.rm(dir, { recursive: true, force: true }));

let store = await FlowStore.open({ path: chdbDir });
after(() => store.close());

type Mode = 'up' | 'fail' | 'hang-then-land';

/** The relay's store, with outages on demand; `store` can be swapped for a reopened one. */
class OutageStore implements RelayStore {
  mode: Mode = 'up';
  failedInserts = 0;
  private get inner(): RelayStore {
    return relayStore(store);
  }
  async insertBlocks(
    blocks: readonly Buffer[],
    progress: Parameters<RelayStore['insertBlocks']>[1],
    batchId: number,
    opts?: Parameters<RelayStore['insertBlocks']>[3],
  ): Promise<void> {
    if (this.mode === 'fail') {
      this.failedInserts++;
      throw new Error('connect ECONNREFUSED (injected)');
    }
    if (this.mode === 'hang-then-land') {
      // The insert lands, but only after the sink gave up waiting for it.
      this.failedInserts++;
      await new Promise((r) => setTimeout(r, 300));
    }
    return this.inner.insertBlocks(blocks, progress, batchId, opts);
  }
  storedRows(batchId: number) {
    return this.mode === 'fail' ? Promise.reject(new Error('down')) : this.inner.storedRows(batchId);
  }
  durableSeq(s: string) {
    return this.inner.durableSeq(s);
  }
  liveMarks() {
    return this.inner.liveMarks();
  }
  query(q: Parameters<RelayStore['query']>[0]) {
    return this.inner.query(q);
  }
  namespaces(ms: number) {
    return this.inner.namespaces(ms);
  }
  serviceMap(r: Parameters<RelayStore['serviceMap']>[0]) {
    return this.inner.serviceMap(r);
  }
  topTalkers(r: Parameters<RelayStore['topTalkers']>[0]) {
    return this.inner.topTalkers(r);
  }
  topDropReasons(r: Parameters<RelayStore['topDropReasons']>[0]) {
    return this.inner.topDropReasons(r);
  }
  whyEvidence(q: Parameters<RelayStore['whyEvidence']>[0]) {
    return this.inner.whyEvidence(q);
  }
  async close() {}
}

const now = Math.floor(Date.now() / 1000) - 60;
const flow = (tag: string, i: number): Flow => ({ uuid: `${tag}-${i}`, time: { seconds: now, nanos: i }, node_name: 'n1', verdict: 1 });

async function storedUuids(prefix: string): Promise<{ rows: number; distinct: number }> {
  const uuids: string[] = [];
  for await (const f of store.queryFlows({})) if (f.uuid?.startsWith(prefix)) uuids.push(f.uuid);
  return { rows: uuids.length, distinct: new Set(uuids).size };
}

async function startRelay(outage: OutageStore, spoolDir: string): Promise<{ relay: Relay; sink: SpoolingSink }> {
  const sink = await SpoolingSink.open(new ClickHouseSink(outage), { dir: spoolDir, maxBytes: 64 << 20, segmentBytes: 1 << 20 }, log, {
    insertTimeoutMs: 150,
    replayRetryMinMs: 20,
    replayRetryMaxMs: 100,
  });
  const relay = new Relay(outage, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 10, retryMinMs: 10, retryMaxMs: 50 }, sink }, log);
  await relay.start();
  return { relay, sink };
}

function startShipper(port: number, node = 'n1'): Shipper {
  const s = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 100,
      maxBatchDelayMs: 5,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      relayAddress: `127.0.0.1:${port}`,
      nodeName: node,
      observerAddress: '',
      version: 't',
    },
    log,
  );
  s.start();
  return s;
}

const until = async (what: string, cond: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 600; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

test('storage failing for a while: batches are spooled, acked, replayed in order, none lost or doubled', async () => {
  const outage = new OutageStore();
  const { relay, sink } = await startRelay(outage, path.join(dir, 'spool-a'));
  registerSpoolMetrics(sink);
  const shipper = startShipper(relay.port);
  for (let i = 0; i < 1000; i++) shipper.add(flow('a', i));
  assert.equal(await shipper.drain(20_000), true);
  outage.mode = 'fail';
  for (let i = 1000; i < 3000; i++) shipper.add(flow('a', i));
  // Acked while storage is down: durable means spooled.
  assert.equal(await shipper.drain(20_000), true);
  assert.equal(shipper.stats.flowsAcked, 3000);
  assert.ok(sink.spooledRecords > 0, 'batches wait in the spool');
  assert.ok(sink.stats.spooledRows >= 2000, `spooled ${sink.stats.spooledRows}`);
  const metric = async (name: string) => (await register.getSingleMetric(name)!.get()).values[0].value;
  assert.equal(await metric('flowscope_relay_spool_batches'), sink.spooledRecords);
  assert.ok((await metric('flowscope_relay_spool_bytes')) > 0);
  // The replay keeps trying while storage is down (waited for, not assumed from timing).
  await waitFor('a replay tried during the outage', async () => (sink.stats.replayFailures > 0 ? true : undefined));
  // New batches queue behind the spool even once storage is back, so order is kept.
  outage.mode = 'up';
  for (let i = 3000; i < 4000; i++) shipper.add(flow('a', i));
  assert.equal(await shipper.drain(20_000), true);
  await sink.drained();
  assert.equal(sink.spooledRecords, 0);
  assert.deepEqual(await storedUuids('a-'), { rows: 4000, distinct: 4000 });
  assert.ok(sink.stats.replayFailures > 0, 'replays were tried during the outage');
  assert.equal(await metric('flowscope_relay_spool_batches'), 0);
  assert.equal(await metric('flowscope_relay_spooled_batches_total'), sink.stats.spooledBatches);
  assert.equal(await metric('flowscope_relay_spool_replayed_batches_total'), sink.stats.replayedBatches);
  assert.deepEqual(
    (await fs.readdir(path.join(dir, 'spool-a'))).filter((f) => f.endsWith('.seg')),
    [],
  );
  await shipper.stop();
  await relay.stop();
});

test('an insert that times out but lands is not stored again by the replay', async () => {
  const outage = new OutageStore();
  const { relay, sink } = await startRelay(outage, path.join(dir, 'spool-b'));
  const shipper = startShipper(relay.port);
  outage.mode = 'hang-then-land';
  for (let i = 0; i < 500; i++) shipper.add(flow('b', i));
  assert.equal(await shipper.drain(20_000), true);
  assert.ok(sink.stats.spooledBatches > 0, 'slow inserts were spooled');
  outage.mode = 'up';
  await sink.drained();
  assert.ok(sink.stats.replaySkippedRows > 0, `replay found rows already stored (${sink.stats.replaySkippedRows})`);
  assert.deepEqual(await storedUuids('b-'), { rows: 500, distinct: 500 });
  await shipper.stop();
  await relay.stop();
});

test('a real chDB store closed and reopened under the relay: flows spooled meanwhile arrive once', async () => {
  const outage = new OutageStore();
  const { relay, sink } = await startRelay(outage, path.join(dir, 'spool-c'));
  const shipper = startShipper(relay.port);
  for (let i = 0; i < 500; i++) shipper.add(flow('c', i));
  assert.equal(await shipper.drain(20_000), true);
  const closed = store;
  await closed.close(); // inserts now reject: "FlowStore is closed"
  for (let i = 500; i < 1500; i++) shipper.add(flow('c', i));
  assert.equal(await shipper.drain(20_000), true);
  assert.ok(sink.spooledRecords > 0);
  store = await FlowStore.open({ path: chdbDir });
  await sink.drained();
  assert.deepEqual(await storedUuids('c-'), { rows: 1500, distinct: 1500 });
  await shipper.stop();
  await relay.stop();
});

test('a full spool pauses ingest instead of dropping, and counts it', async () => {
  const outage = new OutageStore();
  const spoolDir = path.join(dir, 'spool-d');
  const sink = await SpoolingSink.open(new ClickHouseSink(outage), { dir: spoolDir, maxBytes: 20_000, segmentBytes: 5_000 }, log, {
    insertTimeoutMs: 150,
    replayRetryMinMs: 20,
    replayRetryMaxMs: 100,
  });
  const relay = new Relay(
    outage,
    { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 10, retryMinMs: 10, retryMaxMs: 50, maxPendingRows: 300 }, sink },
    log,
  );
  await relay.start();
  const shipper = startShipper(relay.port);
  outage.mode = 'fail';
  for (let i = 0; i < 3000; i++) shipper.add(flow('d', i));
  await until('spool full', () => sink.stats.spoolFullWaits > 0);
  assert.ok(shipper.stats.flowsAcked < 3000, 'not everything acked while the spool is full');
  assert.equal(shipper.stats.flowsDropped, 0);
  assert.ok(sink.spooledRecords > 0);
  outage.mode = 'up';
  assert.equal(await shipper.drain(30_000), true);
  await sink.drained();
  assert.deepEqual(await storedUuids('d-'), { rows: 3000, distinct: 3000 });
  await shipper.stop();
  await relay.stop();
});

test('a restart replays what an earlier run spooled, skipping records storage already has; a torn tail is cut', async () => {
  const spoolDir = path.join(dir, 'spool-e');
  const flows = Array.from({ length: 30 }, (_, i) => flow('e', i));
  // An earlier run spooled three batches; the first one had reached storage before the crash.
  const earlier = await Spool.open({ dir: spoolDir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log);
  const ids = [Date.now() * 1000, Date.now() * 1000 + 1, Date.now() * 1000 + 2];
  for (let b = 0; b < 3; b++)
    await earlier.append(encodeDurableBatch(ids[b], [flowsToBlock(flows.slice(b * 10, b * 10 + 10))], [{ session: 'sess-e', node: 'n1', seq: b + 1 }]));
  await earlier.close();
  await store.insertBlocks([flowsToBlock(flows.slice(0, 10))], [{ session: 'sess-e', node: 'n1', seq: 1 }], ids[0]);
  const seg = path.join(spoolDir, (await fs.readdir(spoolDir))[0]);
  await fs.appendFile(seg, Buffer.from([200, 1, 0, 0, 1, 2, 3])); // a record header cut off by the crash

  const outage = new OutageStore();
  outage.mode = 'fail';
  // A generous timeout: here every replayed insert must complete in time, so the counts are exact.
  const sink = await SpoolingSink.open(new ClickHouseSink(outage), { dir: spoolDir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log, {
    insertTimeoutMs: 30_000,
    replayRetryMinMs: 20,
    replayRetryMaxMs: 100,
  });
  assert.equal(sink.spooledRecords, 3);
  assert.equal(sink.heldSeq('sess-e'), 3, 'the resume point covers spooled batches');
  outage.mode = 'up';
  await sink.drained();
  assert.equal(sink.stats.replaySkippedRows, 10);
  assert.equal(sink.stats.replayedRows, 20);
  assert.deepEqual(await storedUuids('e-'), { rows: 30, distinct: 30 });
  assert.equal(await store.durableSeq('sess-e'), 3);
  await sink.close();
});

test('a spooled batch that reached storage in part (one partition of the insert written) is completed, not doubled', async () => {
  // The batch spans two days, so its insert writes two parts; only the first day's landed.
  const spoolDir = path.join(dir, 'spool-f');
  const day = (d: number, i: number): Flow => ({ ...flow('f', i), time: { seconds: now - d * 86_400, nanos: i } });
  const flows = [...Array.from({ length: 4 }, (_, i) => day(2, i)), ...Array.from({ length: 6 }, (_, i) => day(1, 4 + i))];
  const batchId = Date.now() * 1000;
  const earlier = await Spool.open({ dir: spoolDir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log);
  const blocks = [flowsToBlock(flows.slice(0, 4)), flowsToBlock(flows.slice(4))];
  await earlier.append(encodeDurableBatch(batchId, blocks, [{ session: 'sess-f', node: 'n1', seq: 1 }]));
  await earlier.close();
  await store.insertBlocks([blocks[0]], [], batchId); // the same insert's first day, before the crash
  assert.deepEqual(await storedUuids('f-'), { rows: 4, distinct: 4 });

  const sink = await SpoolingSink.open(new ClickHouseSink(new OutageStore()), { dir: spoolDir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log, {
    insertTimeoutMs: 30_000,
    replayRetryMinMs: 20,
    replayRetryMaxMs: 100,
  });
  await sink.drained();
  assert.equal(sink.stats.replayedBatches, 1);
  assert.deepEqual(await storedUuids('f-'), { rows: 10, distinct: 10 });
  assert.equal(await store.durableSeq('sess-f'), 1);
  await sink.close();
});
