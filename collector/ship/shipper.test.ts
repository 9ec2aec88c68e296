// The shipper's spill queue against a stand-in relay over real gRPC on loopback: a tiny memory
// budget sends the oldest batches to disk while the relay is away; back, every batch is sent once,
// in order, read back from disk (again after a reconnect mid-replay); acknowledgements empty the
// disk; a spent disk budget drops new flows and counts them; without a spill directory the old
// in-memory bound applies; a restart replays the earlier run's session under its own id, or
// drops it (counted) when the relay refuses it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Shipper } from './shipper.js';
import { createLogger } from '../../common/logger.js';
import { freePort, waitFor } from '../../testing/harness.js';
import { FakeIngestStore, startFakeIngestRelay, testShipperOptions } from '../../testing/fake-ingest.js';
import type { Flow } from '../../proto/types.js';
import { FlowBlockWriter, encodeFlowBlock } from '../../schema/native/flow-block.js';

const log = createLogger('test', 'silent');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-shipper-'));
after(() => fs.rm(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `spill-${++dirs}`);

const now = Math.floor(Date.now() / 1000);
const flow = (id: string | number): Flow => ({ uuid: `f-${id}`, time: { seconds: now, nanos: 0 }, node_name: 'n1', verdict: 1 });

const options = testShipperOptions;

/** Segment files left in a spill directory, over every session. */
async function segmentFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await fs.readdir(path.join(dir, e.name))).filter((f) => f.endsWith('.seg')));
  }
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const until = (what: string, cond: () => boolean) => waitFor(what, async () => (cond() ? true : undefined), 30_000);

/**
 * Adds flows the way a source does, a slice at a time, letting the disk writes run in between
 * (in one synchronous burst, more than the memory bound and two chunks would be dropped).
 */
async function feed(shipper: Shipper, ids: Array<string | number>, maxMemoryBytes: number): Promise<void> {
  for (let i = 0; i < ids.length; i++) {
    shipper.add(flow(ids[i]));
    if (i % 100 === 99) await eventually(() => shipper.stats.memoryBytes <= maxMemoryBytes);
  }
}

/** Polls a condition every few milliseconds (a generous deadline: it is not a timing check). */
async function eventually(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('a tiny memory budget spills to disk while the relay is away; back, every batch is sent once, in order, from disk', async () => {
  const dir = freshDir();
  const port = await freePort();
  const maxMemoryBytes = 32 * 1024;
  const shipper = new Shipper(options(port, { maxMemoryBytes, spill: { dir, maxBytes: 64 << 20 } }), log);
  await shipper.start();
  const total = 5000;
  await feed(shipper, range(0, total - 1), maxMemoryBytes);
  shipper.flush();
  const spill = shipper.stats.spill!;
  await until('older batches on disk', () => spill.queueBatches > 0 && shipper.stats.memoryBytes <= maxMemoryBytes);
  assert.ok((await segmentFiles(dir)).length > 0, 'segment files on disk');
  assert.equal(shipper.stats.unackedFlows, total, 'nothing is lost: memory and disk hold every flow');
  assert.equal(shipper.stats.flowsDropped, 0);

  // The relay comes back but takes only part of the backlog before it goes away again: the
  // batches sent and not acknowledged are sent again from disk after the reconnect.
  const store = new FakeIngestStore();
  store.acceptUpTo = 30;
  let relay = await startFakeIngestRelay(store, port);
  await until('the first 30 batches acknowledged', () => shipper.stats.batchesAcked === 30);
  await until('batches past the acceptance limit sent', () => shipper.stats.batchesSent > 35);
  await relay.stop();
  store.acceptUpTo = Infinity;
  relay = await startFakeIngestRelay(store, port);
  assert.equal(await shipper.drain(30_000), true, `drained (acked ${shipper.stats.flowsAcked} of ${total})`);

  const batches = spill.spilledBatches;
  assert.ok(batches > 0);
  assert.deepEqual(store.seqs(shipper.session), range(1, store.seqs(shipper.session).length), 'each batch once, in sequence order');
  assert.deepEqual(
    store.flows().map((f) => f.uuid),
    range(0, total - 1).map((i) => `f-${i}`),
    'every flow once, in order',
  );
  assert.ok(spill.replayedBatches >= batches, `replayed ${spill.replayedBatches} of ${batches} spilled batches`);
  assert.ok(shipper.stats.reconnects >= 2);
  assert.equal(spill.queueBatches, 0);
  assert.equal(spill.queueFlows, 0);
  await until('acknowledged segments deleted', () => spill.queueBytes === 0);
  assert.deepEqual(await segmentFiles(dir), []);
  await shipper.stop();
  await relay.stop();
  assert.deepEqual(await fs.readdir(dir), [], 'an empty queue leaves nothing behind, the lock included');
});

test('a spent disk budget drops new flows, counted and reported to the relay; memory and disk stay bounded', async () => {
  const dir = freshDir();
  const port = await freePort();
  // A batch of 50 small flows is a ≈3.5 KB Native block (most of it the column header): the bounds
  // hold several batches each.
  const maxMemoryBytes = 64 * 1024;
  const chunk = maxMemoryBytes / 4;
  const maxBytes = 256 * 1024;
  const shipper = new Shipper(options(port, { maxMemoryBytes, spill: { dir, maxBytes } }), log);
  const spill = shipper.stats.spill!;
  let onDrop = 0;
  let diskAtFirstDrop = -1;
  shipper.onDrop = (n) => {
    if (onDrop === 0) diskAtFirstDrop = spill.queueBytes;
    onDrop += n;
  };
  await shipper.start();
  const total = 20_000;
  let peakMemory = 0;
  let peakDisk = 0;
  for (let i = 0; i < total; i++) {
    shipper.add(flow(i));
    if (i % 100 === 99) {
      // Paced like a source: the disk writes keep up, so only the disk budget makes drops.
      await eventually(() => shipper.stats.memoryBytes <= maxMemoryBytes || spill.queueBytes + 2 * chunk > maxBytes);
      peakMemory = Math.max(peakMemory, shipper.stats.memoryBytes);
      peakDisk = Math.max(peakDisk, spill.queueBytes);
    }
  }
  shipper.flush();
  assert.ok(shipper.stats.flowsDropped > 0, 'drops once memory and disk are full');
  assert.equal(onDrop, shipper.stats.flowsDropped);
  // Chunks hold whole batches, so the budget is spent to within a chunk in flight, a chunk of
  // room and one batch (the last that did not fit), plus record overhead.
  const batchBytes = encodeFlowBlock(
    new FlowBlockWriter(),
    Array.from({ length: 50 }, (_, i) => flow(i)),
  ).length;
  assert.ok(
    diskAtFirstDrop + 2 * chunk + batchBytes + 64 > maxBytes,
    `the first drop came with the disk budget spent (${diskAtFirstDrop} of ${maxBytes} bytes, batches of ${batchBytes})`,
  );
  assert.ok(peakDisk <= maxBytes, `disk ${peakDisk} within ${maxBytes}`);
  assert.ok(peakMemory <= maxMemoryBytes + 3 * chunk, `memory ${peakMemory} within its bound, two chunks being written and a batch`);
  const kept = shipper.stats.unackedFlows;
  assert.equal(kept + shipper.stats.flowsDropped, total, 'every flow kept or counted as dropped');

  const store = new FakeIngestStore();
  const relay = await startFakeIngestRelay(store, port);
  assert.equal(await shipper.drain(30_000), true);
  await until('the drops reported', () => store.lostEvents().reduce((n, e) => n + (e.num_events_lost ?? 0), 0) === shipper.stats.flowsDropped);
  const uuids = store.flows().map((f) => f.uuid);
  assert.equal(uuids.length, kept);
  assert.equal(new Set(uuids).size, kept, 'nothing stored twice');
  assert.deepEqual(store.seqs(shipper.session), range(1, store.seqs(shipper.session).length));
  await shipper.stop();
  await relay.stop();
});

test('fed faster than the disk takes it: memory stays within its bound, overflow spills, every flow is delivered or counted as dropped', async () => {
  const dir = freshDir();
  const port = await freePort();
  const maxMemoryBytes = 64 * 1024;
  const chunk = maxMemoryBytes / 4;
  // The relay is away: nothing is acknowledged while the flows come in, all at once (no pacing).
  const shipper = new Shipper(options(port, { maxMemoryBytes, spill: { dir, maxBytes: 64 << 20 } }), log);
  await shipper.start();
  const total = 30_000;
  let peakMemory = 0;
  for (let i = 0; i < total; i++) {
    shipper.add(flow(i));
    peakMemory = Math.max(peakMemory, shipper.stats.memoryBytes);
  }
  shipper.flush();
  // Memory may run over its bound by what the writes in flight hold (full()) and the batch being
  // closed; never further.
  const batchBytes = encodeFlowBlock(
    new FlowBlockWriter(),
    Array.from({ length: 50 }, (_, i) => flow(i)),
  ).length;
  assert.ok(peakMemory <= maxMemoryBytes + 2 * chunk + batchBytes + 64, `memory ${peakMemory} within ${maxMemoryBytes} + two chunks + a batch`);
  assert.equal(shipper.stats.unackedFlows + shipper.stats.flowsDropped, total, 'every flow kept or counted as dropped');
  const spill = shipper.stats.spill!;
  await until('the overflow spilled', () => spill.spilledBatches > 0 && shipper.stats.memoryBytes <= maxMemoryBytes);

  const store = new FakeIngestStore();
  const relay = await startFakeIngestRelay(store, port);
  assert.equal(await shipper.drain(30_000), true);
  await until('the drops reported', () => store.lostEvents().reduce((n, e) => n + (e.num_events_lost ?? 0), 0) === shipper.stats.flowsDropped);
  const delivered = store.flows().length;
  assert.equal(new Set(store.flows().map((f) => f.uuid)).size, delivered, 'nothing stored twice');
  assert.equal(delivered + shipper.stats.flowsDropped, total, 'delivered + counted as dropped = fed');
  await shipper.stop();
  await relay.stop();
});

test('without a spill directory the in-memory bound drops as before, and nothing touches the disk', async () => {
  const shipper = new Shipper(options(1, { maxUnackedFlows: 100, maxBatchFlows: 10, reconnectMinMs: 10_000, maxMemoryBytes: 1 }), log);
  await shipper.start();
  for (let i = 0; i < 150; i++) shipper.add(flow(i));
  assert.equal(shipper.stats.flowsDropped, 50);
  assert.equal(shipper.stats.unackedFlows, 100);
  assert.equal(shipper.stats.spill, null);
  assert.ok(shipper.stats.memoryBytes > 1, 'maxMemoryBytes does not apply without a spill queue');
  await shipper.stop();
});

test("a restart replays the earlier run's spilled batches under its session, before its own session connects", async () => {
  const dir = freshDir();
  const port = await freePort();
  const first = new Shipper(options(port, { maxMemoryBytes: 32 * 1024, spill: { dir, maxBytes: 64 << 20 } }), log);
  await first.start();
  await feed(
    first,
    range(0, 2999).map((i) => `a${i}`),
    32 * 1024,
  );
  await until('some batches on disk', () => first.stats.spill!.queueBatches > 0);
  // The relay is away at shutdown: what is still in memory goes to disk too.
  assert.equal(await first.drain(200), false);
  await first.stop();
  assert.ok((await fs.readdir(path.join(dir, first.session))).some((f) => f.endsWith('.seg')));

  const store = new FakeIngestStore();
  const relay = await startFakeIngestRelay(store, port);
  const second = new Shipper(options(port, { maxMemoryBytes: 32 * 1024, spill: { dir, maxBytes: 64 << 20 } }), log);
  await second.start();
  assert.equal(second.stats.spill!.earlierSessions, 1);
  await feed(
    second,
    range(0, 999).map((i) => `b${i}`),
    32 * 1024,
  );
  assert.equal(await second.drain(30_000), true);
  await until('the earlier session is done', () => second.stats.spill!.earlierSessions === 0);

  assert.deepEqual(store.hellos, [first.session, second.session], 'the earlier session first, on a stream of its own');
  assert.deepEqual(
    store.flows(first.session).map((f) => f.uuid),
    range(0, 2999).map((i) => `f-a${i}`),
  );
  assert.deepEqual(store.seqs(first.session), range(1, 60));
  assert.deepEqual(
    store.flows(second.session).map((f) => f.uuid),
    range(0, 999).map((i) => `f-b${i}`),
  );
  assert.equal(store.duplicates, 0);
  assert.equal(second.stats.flowsDropped, 0);
  await assert.rejects(fs.stat(path.join(dir, first.session)), "the replayed session's directory is removed");
  await second.stop();
  await relay.stop();
});

test("an earlier run's session the relay refuses (its storage lost what it acked) is dropped and counted", async () => {
  const dir = freshDir();
  const port = await freePort();
  const lostStore = new FakeIngestStore();
  let relay = await startFakeIngestRelay(lostStore, port);
  const first = new Shipper(options(port, { maxMemoryBytes: 32 * 1024, spill: { dir, maxBytes: 64 << 20 } }), log);
  await first.start();
  for (let i = 0; i < 100; i++) first.add(flow(`a${i}`));
  assert.equal(await first.drain(10_000), true);
  await relay.stop();
  await feed(
    first,
    range(100, 2099).map((i) => `a${i}`),
    32 * 1024,
  );
  await first.stop();

  const store = new FakeIngestStore(); // knows nothing of the first session's batches 1 and 2
  relay = await startFakeIngestRelay(store, port);
  const second = new Shipper(options(port, { maxMemoryBytes: 32 * 1024, spill: { dir, maxBytes: 64 << 20 } }), log);
  let onDrop = 0;
  second.onDrop = (n) => {
    onDrop += n;
  };
  await second.start();
  await feed(
    second,
    range(0, 499).map((i) => `b${i}`),
    32 * 1024,
  );
  assert.equal(await second.drain(30_000), true);
  assert.ok(store.refused >= 1);
  assert.equal(second.stats.flowsDropped, 2000);
  assert.equal(onDrop, 2000);
  await until('the loss reported in the new session', () => store.lostEvents().reduce((n, e) => n + (e.num_events_lost ?? 0), 0) === 2000);
  assert.equal(store.flows(first.session).length, 0);
  assert.equal(store.flows(second.session).length, 500);
  await assert.rejects(fs.stat(path.join(dir, first.session)));
  await second.stop();
  await relay.stop();
});

test('one process per spill directory', async () => {
  const dir = freshDir();
  const a = new Shipper(options(1, { reconnectMinMs: 10_000, spill: { dir, maxBytes: 1 << 20 } }), log);
  await a.start();
  const b = new Shipper(options(1, { reconnectMinMs: 10_000, spill: { dir, maxBytes: 1 << 20 } }), log);
  await assert.rejects(b.start(), /in use/);
  await b.stop();
  await a.stop();
  // A lock left by a process that is gone is taken over.
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'LOCK'), '2147483600\n');
  const c = new Shipper(options(1, { reconnectMinMs: 10_000, spill: { dir, maxBytes: 1 << 20 } }), log);
  await c.start();
  assert.equal((await fs.readFile(path.join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
  await c.stop();
});
