// One chDB data directory for this file (one per process: docs/storage.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openClient } from '../../storage/client.js';
import { rng, genFlows } from '../../testing/gen-flows.js';
import { NativeBlockWriter, LC_HAS_ADDITIONAL_KEYS, LC_NEED_GLOBAL_DICTIONARY } from './writer.js';
import { validateNativeBlock, NativeBlockError, type NativeBlockReason } from './validate.js';
import { readNativeBlock } from './read.js';
import { chdbNativeInserter } from '../../storage/native/insert.js';
import { FlowBlockWriter, encodeFlowBlock } from './flow-block.js';
import { FLOW_NATIVE_COLUMNS, type NativeColumn } from './types.js';
import { ALL_TYPES, randomRows, blockOf, createTableSQL } from '../../testing/native-test-rows.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-native-validate-'));
const client = openClient({ kind: 'chdb', path: path.join(dir, 'db') });
after(async () => {
  await client.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const LIMITS = { maxRows: 100_000, maxBytes: 64 << 20 };

function rejects(buf: Buffer, expected: readonly NativeColumn[], reason: NativeBlockReason, limits = LIMITS, why: string = reason): void {
  assert.throws(
    () => validateNativeBlock(buf, expected, limits),
    (e: unknown) => {
      assert.ok(e instanceof NativeBlockError, `${why}: a NativeBlockError, got ${String(e)}`);
      assert.equal(e.reason, reason, `${why}: ${e.message}`);
      return true;
    },
  );
}

/** A block of one column built with the writer. */
function oneColumn(type: string, write: (w: NativeBlockWriter) => void): { block: Buffer; cols: NativeColumn[]; data: number } {
  const cols = [{ name: 'c', type }];
  const w = new NativeBlockWriter(cols);
  write(w);
  const block = w.finish();
  return { block, cols, data: 2 + 2 + 1 + type.length }; // counts, name, type: where the data starts
}

function flowsBlock(n: number, seed: number): Buffer {
  return encodeFlowBlock(new FlowBlockWriter(), genFlows(n, seed), [{ session: 's', node: 'n', seq: seed }], Date.now(), seed);
}

test('accepts what the writer builds', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const rows = randomRows(50 * seed, seed);
    assert.deepStrictEqual(validateNativeBlock(blockOf(rows), ALL_TYPES, LIMITS), { rows: rows.length });
  }
  assert.deepStrictEqual(validateNativeBlock(flowsBlock(300, 1), FLOW_NATIVE_COLUMNS, LIMITS), { rows: 300 });
  const block = blockOf(randomRows(10, 1));
  const plain = new Uint8Array(block.length + 3).subarray(3);
  plain.set(block);
  assert.deepStrictEqual(validateNativeBlock(plain as Buffer, ALL_TYPES, LIMITS), { rows: 10 }, 'a Uint8Array view');
});

test('limits, header and row count', () => {
  const block = blockOf(randomRows(20, 11));
  rejects(block, ALL_TYPES, 'too-large', { maxRows: 100, maxBytes: block.length - 1 });
  validateNativeBlock(block, ALL_TYPES, { maxRows: 20, maxBytes: block.length });
  rejects(block, ALL_TYPES, 'rows', { maxRows: 19, maxBytes: 1 << 20 });
  rejects(Buffer.from([1, 0, 1, 0x63, 5, ...Buffer.from('UInt8')]), [{ name: 'c', type: 'UInt8' }], 'rows', LIMITS, 'zero rows');
  rejects(block, ALL_TYPES.slice(1), 'columns');
  rejects(block, [...ALL_TYPES, { name: 'z', type: 'UInt8' }], 'columns');
  rejects(
    block,
    ALL_TYPES.map((c) => (c.name === 'u16' ? { ...c, name: 'u17' } : c)),
    'header',
    LIMITS,
    'renamed column',
  );
  rejects(
    block,
    ALL_TYPES.map((c) => (c.name === 'u16' ? { ...c, type: 'UInt32' } : c)),
    'header',
    LIMITS,
    'other type',
  );
  rejects(
    block,
    ALL_TYPES.map((c) => (c.name === 'lc' ? { ...c, type: 'String' } : c)),
    'header',
    LIMITS,
    'String for LowCardinality',
  );
  assert.throws(() => validateNativeBlock(block, [...ALL_TYPES.slice(0, -1), { name: 'a_none', type: 'Float64' }], LIMITS), /unsupported type Float64/);
  const tooLongVarint = Buffer.concat([Buffer.alloc(10, 0x80), Buffer.from([1])]);
  rejects(tooLongVarint, ALL_TYPES, 'varint');
});

test('every truncation is "truncated"; anything after the block is "trailing"', () => {
  for (const block of [blockOf(randomRows(6, 12)), flowsBlock(3, 2)]) {
    const cols = block.length > 5000 || block.includes('batch_id') ? FLOW_NATIVE_COLUMNS : ALL_TYPES;
    for (let k = 0; k < block.length; k++) rejects(block.subarray(0, k), cols, 'truncated', LIMITS, `first ${k} of ${block.length} bytes`);
    rejects(Buffer.concat([block, Buffer.from([0])]), cols, 'trailing');
    rejects(Buffer.concat([block, block]), cols, 'trailing', LIMITS, 'two blocks');
  }
});

test('array offsets must not decrease', () => {
  const { block, cols, data } = oneColumn('Array(String)', (w) => {
    w.strArray(0, ['a', 'b']);
    w.endRow();
    w.strArray(0, ['c']);
    w.endRow();
  });
  assert.deepStrictEqual(validateNativeBlock(block, cols, LIMITS), { rows: 2 });
  const down = Buffer.from(block);
  down.writeUInt32LE(4, data); // offsets 4, 3
  rejects(down, cols, 'offsets');
  const huge = Buffer.from(block);
  huge.writeUInt32LE(1, data + 4); // the first offset ≥ 2^32
  rejects(huge, cols, 'offsets', LIMITS, 'offset beyond 2^32');
  const past = Buffer.from(block);
  past.writeUInt32LE(200, data + 8); // more elements than bytes
  rejects(past, cols, 'truncated', LIMITS, 'elements past the end');
  const fewer = Buffer.from(block);
  fewer.writeUInt32LE(2, data + 8); // 2 elements declared, 3 present
  rejects(fewer, cols, 'trailing');
});

test('LowCardinality: version, flags, dictionary and index values', () => {
  const { block, cols, data } = oneColumn('LowCardinality(String)', (w) => {
    for (const s of ['x', 'y', 'x']) {
      w.str(0, s);
      w.endRow();
    }
  });
  // version u64 | flags u64 | 2 keys u64, 'x', 'y' | 3 indexes u64 | 0 1 0
  assert.deepStrictEqual(validateNativeBlock(block, cols, LIMITS), { rows: 3 });
  const flags = data + 8,
    keys = data + 16,
    count = data + 28,
    idx = data + 36;
  const edit = (at: number, v: number): Buffer => {
    const b = Buffer.from(block);
    b.writeUInt32LE(v, at);
    return b;
  };
  rejects(edit(data, 2), cols, 'dictionary', LIMITS, 'keys version');
  rejects(edit(flags, LC_HAS_ADDITIONAL_KEYS | LC_NEED_GLOBAL_DICTIONARY), cols, 'dictionary', LIMITS, 'global dictionary');
  rejects(edit(flags, LC_HAS_ADDITIONAL_KEYS | 4), cols, 'dictionary', LIMITS, 'index type 4');
  rejects(edit(flags, 0), cols, 'dictionary', LIMITS, 'no keys');
  rejects(edit(flags, LC_HAS_ADDITIONAL_KEYS | (1 << 12)), cols, 'dictionary', LIMITS, 'unknown flag');
  rejects(edit(keys, 1), cols, 'dictionary', LIMITS, 'index 1 in a dictionary of 1');
  rejects(edit(count, 4), cols, 'dictionary', LIMITS, 'more indexes than rows');
  rejects(edit(count, 0), cols, 'dictionary', LIMITS, 'empty granule');
  const bad = Buffer.from(block);
  bad[idx + 1] = 2;
  rejects(bad, cols, 'dictionary', LIMITS, 'index past the dictionary');
  rejects(edit(keys, 1_000_000), cols, 'truncated', LIMITS, 'dictionary past the end');
});

/** LowCardinality bytes as ClickHouse may also write them: several granules, wide indexes. */
function twoGranules(): Buffer {
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(v);
    return b;
  };
  const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
  return Buffer.concat([
    Buffer.from([1, 3]),
    str('c'),
    str('LowCardinality(String)'),
    u64(1),
    u64(LC_HAS_ADDITIONAL_KEYS | 0),
    u64(2),
    str('p'),
    str('q'),
    u64(2),
    Buffer.from([1, 0]),
    u64(LC_HAS_ADDITIONAL_KEYS | 3),
    u64(1),
    str('r'),
    u64(1),
    u64(0),
  ]);
}

test('several granules and wide indexes are valid, and chDB reads them the same', async () => {
  const cols = [{ name: 'c', type: 'LowCardinality(String)' }];
  const block = twoGranules();
  assert.deepStrictEqual(validateNativeBlock(block, cols, LIMITS), { rows: 3 });
  assert.deepStrictEqual(readNativeBlock(block).columns[0].values, ['q', 'p', 'r']);
  await client.command({ query: 'CREATE TABLE granules (c LowCardinality(String)) ENGINE = Log' });
  const ins = await chdbNativeInserter(client, { table: 'granules', columns: cols });
  try {
    await ins.insert([block]);
  } finally {
    await ins.close();
  }
  const rs = await client.query({ query: 'SELECT c FROM granules', format: 'JSONCompactEachRow' });
  assert.deepStrictEqual(await rs.json(), [['q'], ['p'], ['r']]);
});

const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0xffff_ffff];

/** A seeded mutation of a valid block: byte edits, truncation, insertion, deletion, duplication. */
function mutate(src: Buffer, r: () => number): Buffer {
  const int = (n: number) => Math.floor(r() * n);
  const at = int(src.length);
  switch (int(6)) {
    case 0: {
      const b = Buffer.from(src);
      for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256);
      return b;
    }
    case 1:
      return src.subarray(0, at);
    case 2:
      return Buffer.concat([src.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), src.subarray(at)]);
    case 3:
      return Buffer.concat([src.subarray(0, at), src.subarray(Math.min(src.length, at + 1 + int(16)))]);
    case 4:
      return Buffer.concat([src.subarray(0, at), src.subarray(at, at + 1 + int(32)), src.subarray(at)]);
    default: {
      const b = Buffer.from(src);
      const p = Math.min(at, b.length - 8);
      b.writeUInt32LE(INTERESTING[int(INTERESTING.length)], p);
      b.writeUInt32LE(r() < 0.8 ? 0 : INTERESTING[int(INTERESTING.length)], p + 4);
      return b;
    }
  }
}

test('fuzz: 20,000 mutated blocks end in a NativeBlockError or are valid (and then readable and insertable)', { timeout: 120_000 }, async () => {
  const sources: [Buffer, readonly NativeColumn[]][] = [
    [blockOf(randomRows(8, 21)), ALL_TYPES],
    [blockOf(randomRows(25, 22)), ALL_TYPES],
    [flowsBlock(4, 3), FLOW_NATIVE_COLUMNS],
  ];
  const r = rng(20240601);
  const accepted: [Buffer, readonly NativeColumn[]][] = [];
  const reasons = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const [src, cols] = sources[i % sources.length];
    const m = mutate(src, r);
    try {
      validateNativeBlock(m, cols, LIMITS);
    } catch (e) {
      if (!(e instanceof NativeBlockError)) assert.fail(`mutation ${i}: ${String(e)}`);
      reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
      continue;
    }
    assert.doesNotThrow(() => readNativeBlock(m), `mutation ${i} is valid, so readable`);
    if (!m.equals(src)) accepted.push([m, cols]);
  }
  // Every corruption class occurs, and some mutations (string payloads, values) stay valid.
  for (const reason of ['truncated', 'header', 'columns', 'rows', 'offsets', 'dictionary', 'trailing'])
    assert.ok((reasons.get(reason) ?? 0) > 0, `${reason}: ${JSON.stringify([...reasons])}`);
  assert.ok(accepted.length > 200, `${accepted.length} valid mutations`);

  // What the validator accepts, ClickHouse takes: a sample of the valid mutations, one insert each.
  await client.command({ query: createTableSQL('fuzz_all') });
  await client.command({
    query: `CREATE TABLE fuzz_flows (${FLOW_NATIVE_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`,
  });
  const all = await chdbNativeInserter(client, { table: 'fuzz_all', columns: ALL_TYPES });
  const flows = await chdbNativeInserter(client, { table: 'fuzz_flows' });
  try {
    const sample = accepted.filter((_, i) => i % Math.ceil(accepted.length / 150) === 0);
    for (const [m, cols] of sample) {
      await (cols === ALL_TYPES ? all : flows).insert([m]).catch((e: Error) => assert.fail(`valid block refused by chDB: ${e.message}\n${m.toString('hex')}`));
    }
  } finally {
    await all.close();
    await flows.close();
  }
});
