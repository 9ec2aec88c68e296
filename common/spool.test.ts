// The spool on a real directory: FIFO order across segments, consumed segments deleted, records
// recovered after a reopen, torn and corrupt tails detected and truncated, the size bound.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Spool } from './spool.js';
import { createLogger } from './logger.js';

const log = createLogger('test', 'silent');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-spool-'));
after(() => fs.rm(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, `s${++n}`);
const payload = (i: number, size = 100) => Buffer.alloc(size, i % 256);
const segments = async (dir: string) => (await fs.readdir(dir)).filter((f) => f.endsWith('.seg')).sort();

async function drainAll(spool: Spool): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let p = await spool.peek(); p; p = await spool.peek()) {
    out.push(Buffer.from(p));
    await spool.shift();
  }
  return out;
}

test('records come back in order across segments; consumed segments are deleted', async () => {
  const dir = freshDir();
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 500 }, log);
  for (let i = 0; i < 20; i++) await spool.append(payload(i, 50 + i));
  assert.equal(spool.records, 20);
  assert.equal((await segments(dir)).length, 3, 'three segments of about 500 bytes');
  const got = await drainAll(spool);
  assert.deepEqual(
    got,
    Array.from({ length: 20 }, (_, i) => payload(i, 50 + i)),
  );
  assert.equal(spool.records, 0);
  assert.equal(spool.bytes, 0);
  assert.deepEqual(await segments(dir), []);
  await spool.append(payload(99));
  assert.deepEqual(await drainAll(spool), [payload(99)]);
  await spool.close();
});

test('a reopened spool holds exactly the unconsumed records', async () => {
  const dir = freshDir();
  let spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 400 }, log);
  for (let i = 0; i < 10; i++) await spool.append(payload(i));
  for (let i = 0; i < 4; i++) await spool.shift();
  await spool.close();
  const recovered: Buffer[] = [];
  spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 400 }, log, (p) => recovered.push(Buffer.from(p)));
  // Consumption is not persisted inside a segment: records of a partly consumed segment come back
  // (the sink's replay skips what storage already has); fully consumed segments do not.
  assert.ok(spool.records >= 6 && spool.records < 10, `records ${spool.records}`);
  const got = await drainAll(spool);
  assert.deepEqual(got, recovered);
  assert.deepEqual(
    got.slice(-6),
    Array.from({ length: 6 }, (_, i) => payload(i + 4)),
  );
  await spool.close();
});

/** A spool with records 0..2 appended and closed: its directory and its one segment file. */
async function closedSpoolOfThree(): Promise<{ dir: string; file: string }> {
  const dir = freshDir();
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log);
  for (let i = 0; i < 3; i++) await spool.append(payload(i));
  await spool.close();
  const [seg] = await segments(dir);
  return { dir, file: path.join(dir, seg) };
}

test('a torn tail (crash mid-append) is truncated; the records before it survive', async () => {
  const { dir, file } = await closedSpoolOfThree();
  const whole = (await fs.stat(file)).size;
  await fs.truncate(file, whole - 30); // the third record lost its end
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log);
  assert.equal(spool.records, 2);
  assert.equal(spool.stats.truncatedSegments, 1);
  assert.equal(spool.stats.truncatedBytes, 108 - 30);
  assert.equal((await fs.stat(file)).size, 2 * 108, 'file cut back to the last whole record');
  await spool.append(payload(7));
  assert.deepEqual(await drainAll(spool), [payload(0), payload(1), payload(7)]);
  await spool.close();
});

test('a record whose bytes do not match its CRC ends the segment', async () => {
  const { dir, file } = await closedSpoolOfThree();
  const bytes = await fs.readFile(file);
  bytes[108 + 8 + 5] ^= 0xff; // inside the second record's payload
  await fs.writeFile(file, bytes);
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }, log);
  assert.equal(spool.records, 1);
  assert.equal(spool.stats.truncatedBytes, 2 * 108);
  assert.deepEqual(await drainAll(spool), [payload(0)]);
  await spool.close();
});

test('the size bound: no room once full, room again after consuming a segment', async () => {
  const dir = freshDir();
  const spool = await Spool.open({ dir, maxBytes: 1000, segmentBytes: 250 }, log);
  let appended = 0;
  while (spool.hasRoomFor(100)) {
    await spool.append(payload(appended++));
  }
  assert.equal(appended, 9);
  assert.ok(spool.bytes <= 1000);
  assert.equal(spool.hasRoomFor(100), false);
  await spool.shift();
  await spool.shift(); // the first segment (two records) is gone
  assert.equal(spool.hasRoomFor(100), true);
  // An empty spool takes a record larger than the bound, so one huge batch cannot wedge ingest.
  await drainAll(spool);
  assert.equal(spool.hasRoomFor(5000), true);
  await spool.close();
});

test('read(i) returns the i-th waiting record without consuming anything', async () => {
  const dir = freshDir();
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 300 }, log);
  for (let i = 0; i < 8; i++) await spool.append(payload(i, 60 + i));
  assert.deepEqual(await spool.read(5), payload(5, 65), 'a record in a later segment');
  assert.deepEqual(await spool.read(0), payload(0, 60));
  assert.equal(await spool.read(8), undefined);
  assert.equal(await spool.read(-1), undefined);
  await spool.shift();
  await spool.shift();
  assert.deepEqual(await spool.read(0), payload(2, 62), 'indexes count from the oldest waiting record');
  assert.deepEqual(await spool.read(5), payload(7, 67));
  assert.equal(spool.records, 6);
  assert.deepEqual(
    await drainAll(spool),
    Array.from({ length: 6 }, (_, i) => payload(i + 2, 62 + i)),
  );
  await spool.close();
});

test("fsync 'segment': appends are readable at once, and survive a close and reopen", async () => {
  const dir = freshDir();
  const opts = { dir, maxBytes: 1 << 20, segmentBytes: 400, fsync: 'segment' as const };
  let spool = await Spool.open(opts, log);
  for (let i = 0; i < 10; i++) await spool.append(payload(i));
  assert.deepEqual(await spool.read(9), payload(9));
  await spool.sync();
  await spool.sync(); // nothing new: a no-op
  await spool.append(payload(10));
  await spool.close(); // syncs the unsynced tail
  spool = await Spool.open(opts, log);
  assert.deepEqual(
    await drainAll(spool),
    Array.from({ length: 11 }, (_, i) => payload(i)),
  );
  await spool.close();
});

test('appendMany writes records of several parts, across segments, as if appended one by one', async () => {
  const dir = freshDir();
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 300 }, log);
  const records = Array.from({ length: 7 }, (_, i) => [payload(i, 30), payload(i + 100, 40 + i)]);
  await spool.appendMany(records);
  assert.equal(spool.records, 7);
  assert.equal(spool.stats.appendedRecords, 7);
  assert.equal((await segments(dir)).length, 3, 'three segments of up to 300 bytes');
  await spool.close();
  const reopened = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 300 }, log);
  assert.deepEqual(
    await drainAll(reopened),
    records.map((parts) => Buffer.concat(parts)),
    'CRCs cover every part',
  );
  await reopened.close();
});
