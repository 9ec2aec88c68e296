// Block buffers are reused only once every holder let go of them: checked on the pool itself,
// through the ring, and end to end through a shipper that spills, reconnects and is acknowledged
// while its buffers are reused: every flow arrives intact, once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlockPool } from './block-pool.js';
import { FlowBlocks, type FinishedBlock } from './blocks.js';
import { FlowRing } from './ring.js';
import { Shipper } from './ship/shipper.js';
import { createLogger } from '../common/logger.js';
import { freePort, waitFor } from '../testing/harness.js';
import { FakeIngestStore, startFakeIngestRelay, testShipperOptions } from '../testing/fake-ingest.js';
import type { Flow } from '../proto/types.js';

const now = Math.floor(Date.now() / 1000);
const flow = (i: number): Flow => ({ uuid: `f-${i}`, time: { seconds: now, nanos: i }, node_name: 'n1', verdict: 1 + (i % 3) });

test('a buffer is reused only after every holder released it; an abandoned one never', () => {
  const pool = new BlockPool({ minBytes: 0, maxFree: 2 });
  const a = pool.lease(1000);
  const bytesA = a.bytes(1000);
  a.hold(); // a second holder
  a.release();
  assert.equal(pool.size, 0, 'one holder left');
  a.release();
  assert.equal(pool.size, 1);
  const b = pool.lease(900);
  assert.equal(b.bytes(900).buffer, bytesA.buffer, 'reused');
  assert.throws(() => {
    b.release();
    b.release();
  }, /released more often than held/);

  assert.equal(pool.size, 1, 'b came back');
  const c = pool.lease(1000);
  assert.equal(c.bytes(10).buffer, bytesA.buffer, 'reused again');
  c.abandon();
  assert.equal(pool.size, 0, 'an abandoned buffer does not come back');
  assert.notEqual(pool.lease(10).bytes(10).buffer, bytesA.buffer);
  // Too small to pool: a buffer of its own.
  const small = new BlockPool({ minBytes: 4096 }).lease(100);
  small.release();
  assert.equal(pool.stats.leased, 4);
});

test('blocks nobody keeps go back at once; the ring keeps its blocks until they leave it', () => {
  const pool = new BlockPool({ minBytes: 0 });
  const blocks = new FlowBlocks('s', { maxRows: 4, maxDelayMs: 0 }, pool);
  const seen: FinishedBlock[] = [];
  blocks.onBlock((b) => seen.push(b));
  for (let i = 1; i <= 4; i++) blocks.add(flow(i), i);
  assert.equal(pool.size, 1, 'the listener did not hold it');

  const ring = new FlowRing(6, undefined, new FlowBlocks('s', { maxRows: 4, maxDelayMs: 0 }, pool));
  for (let i = 1; i <= 8; i++) ring.push(flow(i));
  assert.equal(pool.size, 0, 'the ring holds both blocks (cursors 1-4 and 5-8)');
  assert.equal(pool.stats.reused, 1, "the ring's first block took the listener's buffer");
  for (let i = 9; i <= 12; i++) ring.push(flow(i));
  // Cursors 1-4 left the ring as 9-12 came in (it holds 7-12): their buffer is back for the next block.
  assert.equal(pool.size, 1);
  assert.deepEqual(
    [...ring.range(0, ring.seen)].map((f) => f.uuid),
    ['f-7', 'f-8', 'f-9', 'f-10', 'f-11', 'f-12'],
  );
});

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-pool-'));
after(() => fs.rm(root, { recursive: true, force: true }));

test('a shipper on pooled blocks: spilled, resent after a relay restart, acknowledged; every flow arrives intact and once', async () => {
  const port = await freePort();
  const log = createLogger('test', 'silent');
  const pool = new BlockPool({ minBytes: 0, maxFree: 4 });
  const session = '00000000-0000-4000-8000-000000000001';
  const blocks = new FlowBlocks(session, { maxRows: 40, maxDelayMs: 5 }, pool);
  const ring = new FlowRing(100, undefined, blocks);
  const maxMemoryBytes = 32 * 1024;
  const shipper = new Shipper(
    testShipperOptions(port, { maxBatchFlows: 40, maxMemoryBytes, spill: { dir: path.join(root, 'spill'), maxBytes: 64 << 20 }, session, blocks }),
    log,
  );
  const store = new FakeIngestStore();
  let relay = await startFakeIngestRelay(store, port);
  await shipper.start();
  const total = 6000;
  const until = (what: string, cond: () => boolean) => waitFor(what, async () => (cond() ? true : undefined), 30_000);
  for (let i = 1; i <= total; i++) {
    ring.push(flow(i));
    // A block at a time, letting the disk writes run (as a source's slices do).
    if (i % 40 === 0) await until('memory under its bound', () => shipper.stats.memoryBytes <= maxMemoryBytes);
    if (i === 2000) {
      // The relay goes away: batches pile up, spill, and are resent once it is back.
      await relay.stop();
    }
    if (i === 4000) relay = await startFakeIngestRelay(store, port);
  }
  assert.equal(await shipper.drain(30_000), true);
  await shipper.stop();
  await relay.stop();
  blocks.close();

  const got = store.flows(session);
  assert.equal(got.length, total, `every flow stored (${JSON.stringify(shipper.stats)})`);
  const byUuid = new Map(got.map((f) => [f.uuid, f]));
  assert.equal(byUuid.size, total, 'none twice');
  for (let i = 1; i <= total; i++) assert.deepEqual(byUuid.get(`f-${i}`), flow(i), `flow ${i} intact`);
  assert.ok(pool.stats.reused > 0, `buffers were reused (${JSON.stringify(pool.stats)})`);
  assert.ok(shipper.stats.spill!.spilledBatches > 0, 'some batches went through the disk');
  assert.equal(shipper.stats.flowsDropped, 0);
});
