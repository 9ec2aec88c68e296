// The spill queue on a real directory: chunks of consecutive batches come back byte for byte,
// the index answers which chunk holds a sequence number and how many flows a batch has, acks
// remove whole chunks from disk, a reopened queue indexes what was left, and the shared budget
// counts every queue's bytes, batches and flows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SpillBudget, SpillQueue, decodeChunk, encodeChunk, type SpillBatch } from './spill.js';
import { createLogger } from '../../common/logger.js';

const log = createLogger('test', 'silent');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-spill-'));
after(() => fs.rm(root, { recursive: true, force: true }));
let n = 0;
const options = () => ({ dir: path.join(root, `q${++n}`), segmentBytes: 1000, syncIntervalMs: 50 });
const batch = (seq: number, size = 100): SpillBatch => ({ seq, count: (seq % 7) + 1, body: Buffer.alloc(size, seq % 256) });
const batches = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => batch(from + i));

test('a chunk encodes and decodes byte for byte, large sequence numbers included', () => {
  const input = [batch(2 ** 40 + 5, 10), batch(2 ** 40 + 6, 0), batch(2 ** 40 + 7, 300)];
  assert.deepEqual(decodeChunk(encodeChunk(input)), input);
  assert.throws(() => decodeChunk(Buffer.from('not a chunk at all')), /not a spill chunk/);
  const gap = encodeChunk([batch(1), batch(3)]);
  assert.throws(() => decodeChunk(gap), /not consecutive/);
});

test('written chunks read back in order; the index finds batches; acks remove whole chunks', async () => {
  const budget = new SpillBudget(1 << 20);
  const opts = options();
  const q = await SpillQueue.open(budget, opts, log);
  assert.equal(q.empty, true);
  for (let first = 1; first <= 30; first += 9) {
    // Several chunks in one write.
    const chunks = [batches(first, first + 2), batches(first + 3, first + 5), batches(first + 6, first + 8)]
      .filter((c) => c[0].seq <= 30)
      .map((c) => c.filter((b) => b.seq <= 30));
    assert.deepEqual(await q.write(chunks), { written: chunks.length, error: null });
  }
  const chunks = Array.from({ length: 10 }, (_, i) => q.chunkFrom(3 * i + 1)!);
  assert.equal(q.firstSeq, 1);
  assert.equal(q.lastSeq, 30);
  assert.equal(q.batches, 30);
  assert.equal(budget.stats.queueBatches, 30);
  assert.equal(budget.stats.spilledBatches, 30);
  assert.ok(budget.stats.queueBytes > 30 * 100);
  assert.equal(q.chunkFrom(14)?.first, 13);
  assert.equal(q.chunkFrom(31), undefined);
  assert.equal(q.countOf(14), batch(14).count);
  assert.deepEqual(await q.read(chunks[4]), batches(13, 15));

  q.ackThrough(14); // four chunks and a part of the fifth
  assert.equal(q.firstSeq, 15);
  assert.equal(q.batches, 16);
  assert.equal(
    q.flows,
    batches(15, 30).reduce((s, b) => s + b.count, 0),
  );
  assert.equal(budget.stats.queueFlows, q.flows);
  assert.deepEqual(await q.read(chunks[3]), [], 'an acknowledged chunk is gone');
  assert.deepEqual(await q.read(chunks[4]), batches(13, 15), 'a partly acknowledged chunk is still whole on disk');
  await q.idle();
  const before = budget.stats.queueBytes;
  q.ackThrough(30);
  await q.idle();
  assert.equal(q.empty, true);
  assert.equal(budget.stats.queueBytes, 0);
  assert.ok(before > 0);
  assert.deepEqual(
    (await fs.readdir(opts.dir)).filter((f) => f.endsWith('.seg')),
    [],
  );
  await q.destroy();
  await assert.rejects(fs.stat(opts.dir));
});

test('a reopened queue indexes what was left; destroy() forgets it in the budget', async () => {
  const opts = options();
  let q = await SpillQueue.open(new SpillBudget(1 << 20), opts, log);
  for (let first = 1; first <= 20; first += 4) await q.write([batches(first, first + 3)]);
  q.ackThrough(6);
  await q.close();

  const budget = new SpillBudget(1 << 20);
  q = await SpillQueue.open(budget, opts, log);
  // Consumption inside a segment is not persisted: a chunk may come back that the relay already
  // has; the relay's resume point skips it.
  assert.ok(q.firstSeq === 1 || q.firstSeq === 5, `first ${q.firstSeq}`);
  assert.equal(q.lastSeq, 20);
  assert.equal(budget.stats.queueBatches, q.batches);
  assert.ok(budget.stats.queueBytes > 0);
  const last = q.chunkFrom(20)!;
  assert.deepEqual(await q.read(last), batches(17, 20));
  await q.destroy();
  assert.deepEqual(budget.stats.queueBatches, 0);
  assert.deepEqual(budget.stats.queueFlows, 0);
  assert.deepEqual(budget.stats.queueBytes, 0);
});

test('the budget counts every queue: room until the shared limit', async () => {
  const budget = new SpillBudget(4000);
  const a = await SpillQueue.open(budget, options(), log);
  const b = await SpillQueue.open(budget, options(), log);
  await a.write([batches(1, 10)]); // ~1.2 KB
  await b.write([batches(1, 10)]);
  assert.equal(budget.hasRoomFor(1000), true);
  await a.write([batches(11, 20)]);
  assert.equal(budget.hasRoomFor(1000), false, `${budget.stats.queueBytes} bytes held`);
  a.ackThrough(20);
  await a.idle();
  assert.equal(budget.hasRoomFor(1000), true);
  await a.destroy();
  await b.destroy();
});

test('a directory holding something else than spill chunks does not open', async () => {
  const opts = options();
  const q = await SpillQueue.open(new SpillBudget(1 << 20), opts, log);
  await q.write([batches(1, 2)]);
  await q.close();
  const [seg] = (await fs.readdir(opts.dir)).filter((f) => f.endsWith('.seg'));
  const bytes = await fs.readFile(path.join(opts.dir, seg));
  bytes.writeUInt32LE(0xdeadbeef, 8); // the chunk magic, CRC fixed up below so the spool accepts it
  const { crc32 } = await import('node:zlib');
  bytes.writeUInt32LE(crc32(bytes.subarray(8)), 4);
  await fs.writeFile(path.join(opts.dir, seg), bytes);
  await assert.rejects(SpillQueue.open(new SpillBudget(1 << 20), opts, log), /not a spill chunk/);
});
