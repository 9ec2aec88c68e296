// One chDB data directory for this file (one per process: docs/storage.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openClient } from '../../storage/client.js';
import { NativeBlockWriter } from './writer.js';
import { readNativeBlock, readNativeBlocks } from './read.js';
import { validateNativeBlock } from './validate.js';
import { chdbNativeInserter } from '../../storage/native/insert.js';
import {
  ALL_TYPES,
  randomRows,
  blockOf,
  writeRows,
  expectedColumns,
  expectedRows,
  createTableSQL,
  selectSQL,
  rowFromJSON,
} from '../../testing/native-test-rows.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-native-writer-'));
const client = openClient({ kind: 'chdb', path: path.join(dir, 'db') });
after(async () => {
  await client.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function selectAll(table: string): Promise<unknown[][]> {
  const rs = await client.query({ query: selectSQL(table), format: 'JSONCompactEachRow' });
  return (await rs.json<unknown[]>()).map(rowFromJSON);
}

async function insertInto(table: string, blocks: Buffer[]): Promise<void> {
  await client.command({ query: createTableSQL(table) });
  const ins = await chdbNativeInserter(client, { table, columns: ALL_TYPES });
  try {
    await ins.insert(blocks);
  } finally {
    await ins.close();
  }
}

/** The index width code of the first granule of a LowCardinality column (not in an array). */
function lcIndexWidthCode(block: Buffer, name: string): number {
  const header = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from([22]), Buffer.from('LowCardinality(String)')]);
  const at = block.indexOf(header);
  assert.ok(at > 0, `column ${name} found`);
  return block[at + header.length + 8]; // after the keys-serialisation version
}

test('readNativeBlock returns what was written, for every supported type', () => {
  const rows = randomRows(800, 1);
  const block = readNativeBlock(blockOf(rows));
  assert.equal(block.rows, rows.length);
  assert.deepStrictEqual(
    block.columns.map((c) => ({ name: c.name, type: c.type })),
    ALL_TYPES,
  );
  const want = expectedColumns(rows);
  block.columns.forEach((c, i) => assert.deepStrictEqual(c.values, want[i], `column ${c.name}`));
});

test('chDB stores exactly what was written: every type, two blocks in one insert', async () => {
  const a = randomRows(600, 2),
    b = randomRows(400, 3).map((x) => ({ ...x, i: x.i + 600 }));
  await insertInto('all_types', [blockOf(a), blockOf(b)]);
  const got = await selectAll('all_types');
  const want = expectedRows([...a, ...b]);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.deepStrictEqual(got[i], want[i], `row ${i}`);
});

test('dictionary index width switches at exactly 256 / 257 and 65,536 / 65,537 keys', async () => {
  const cols = [
    { name: 'i', type: 'UInt32' },
    { name: 'lc', type: 'LowCardinality(String)' },
    { name: 'a', type: 'Array(LowCardinality(String))' },
  ];
  await client.command({
    query: 'CREATE TABLE dict_sizes (k UInt32, i UInt32, lc LowCardinality(String), a Array(LowCardinality(String))) ENGINE = MergeTree ORDER BY (k, i)',
  });
  const ins = await chdbNativeInserter(client, { table: 'dict_sizes', columns: cols });
  const w = new NativeBlockWriter(cols);
  const cases: [number, number][] = [
    [1, 0],
    [256, 0],
    [257, 1],
    [65_536, 1],
    [65_537, 2],
  ];
  try {
    for (const [size, code] of cases) {
      // `size` distinct values in `lc`; the array column's dictionary has size + 1 (one extra key).
      const lc = Array.from({ length: size + 7 }, (_, i) => `k${(i * 7919) % size}`);
      const arrays = lc.map((v, i) => (i % 3 === 0 ? [] : i === 1 ? [v, 'extra'] : [v]));
      lc.forEach((v, i) => {
        w.u32(0, i);
        w.str(1, v);
        w.strArray(2, arrays[i]);
        w.endRow();
      });
      const block = w.finish();
      assert.equal(lcIndexWidthCode(block, 'lc'), code, `${size} keys`);
      const read = readNativeBlock(block);
      assert.deepStrictEqual(read.columns[1].values, lc);
      assert.deepStrictEqual(read.columns[2].values, arrays);
      await ins.insert([block]);
      const rs = await client.query({ query: `SELECT lc, a FROM dict_sizes WHERE k = 0 ORDER BY i`, format: 'JSONCompactEachRow' });
      assert.deepStrictEqual(
        await rs.json(),
        lc.map((v, i) => [v, arrays[i]]),
        `${size} keys through chDB`,
      );
      await client.command({ query: 'TRUNCATE TABLE dict_sizes' });
    }
  } finally {
    await ins.close();
  }
});

test("ClickHouse's own Native output reads back the same, and the validator accepts it", async () => {
  const rows = randomRows(500, 7);
  await insertInto('from_engine', [blockOf(rows)]);
  const file = path.join(dir, 'engine.native');
  await client.command({ query: `INSERT INTO FUNCTION file('${file}', 'Native') SELECT * FROM from_engine ORDER BY i` });
  const bytes = await fs.readFile(file);
  const blocks = readNativeBlocks(bytes);
  assert.equal(blocks.length, 1, 'one block');
  assert.deepStrictEqual(
    blocks[0].columns.map((c) => c.values),
    expectedColumns(rows),
  );
  assert.deepStrictEqual(validateNativeBlock(bytes, ALL_TYPES, { maxRows: 1000, maxBytes: 1 << 24 }), { rows: 500 });
});

test('a writer is reused block after block: finish() starts an empty block', () => {
  const w = new NativeBlockWriter(ALL_TYPES);
  const a = randomRows(300, 8),
    b = randomRows(200, 9);
  writeRows(w, a);
  assert.ok(w.finish().equals(blockOf(a)));
  assert.equal(w.rows, 0);
  writeRows(w, b);
  assert.ok(w.finish().equals(blockOf(b)), 'no state of the first block is left in the second');
  writeRows(w, a);
  w.reset();
  writeRows(w, b);
  assert.ok(w.finish().equals(blockOf(b)), 'reset() drops the rows');
});

test('misuse is refused with a clear error', () => {
  assert.throws(() => new NativeBlockWriter([{ name: 'x', type: 'Float64' }]), /x: type Float64 is not supported/);
  assert.throws(() => new NativeBlockWriter([{ name: 't', type: 'DateTime64(9) CODEC(Delta, ZSTD(1))' }]), /not supported/);
  assert.throws(
    () =>
      new NativeBlockWriter([
        { name: 'x', type: 'UInt8' },
        { name: 'x', type: 'UInt8' },
      ]),
    /twice/,
  );
  const w = new NativeBlockWriter(ALL_TYPES);
  const lc = w.index('lc'),
    u32 = w.index('u32');
  assert.throws(() => w.index('nope'), /no column nope/);
  assert.throws(() => w.u32(lc, 1), /u32\(\) writes UInt32, column lc is LowCardinality\(String\)/);
  assert.throws(() => w.str(u32, 'x'), TypeError);
  assert.throws(() => w.u8(99, 1), /no column #99/);
  assert.throws(() => w.u64(w.index('u64'), -1), RangeError);
  assert.throws(() => w.u64(w.index('u64'), 2 ** 53), RangeError);
  assert.throws(() => w.u64Array(w.index('a_u64'), [1, 2 ** 60]), RangeError);
  assert.throws(() => w.ipv6(w.index('ip'), new Uint8Array(4)), RangeError);
  assert.throws(() => w.dateTime64ns(w.index('t'), -1, 0), RangeError);
  assert.throws(() => w.dateTime64ns(w.index('t'), 9_223_372_036, 0), RangeError);
  assert.throws(() => w.dateTime64ns(w.index('t'), 1, 1e9), RangeError);
  assert.throws(() => w.dateTime64ns(w.index('t'), 1.5, 0), RangeError);
  assert.throws(() => w.finish(), /no rows/);
  writeRows(w, randomRows(2, 10));
  w.u32(0, 5);
  w.endRow();
  assert.throws(() => w.finish(), /column u8 has 2 values for 3 rows/);
});
