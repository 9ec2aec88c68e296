import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitBatch } from './reader.js';

function framed(records: Array<[number, number[]]>): Buffer {
  const parts: Buffer[] = [];
  for (const [cpu, data] of records) {
    const b = Buffer.alloc(8 + Math.ceil(data.length / 8) * 8);
    b.writeUInt32LE(data.length, 0);
    b.writeUInt32LE(cpu, 4);
    b.set(data, 8);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

test('splitBatch slices the addon framing into records without copying', () => {
  const buf = framed([
    [0, [1, 2, 3]],
    [1, [4, 5, 6, 7, 8, 9, 10, 11, 12]],
    [1, []],
  ]);
  const recs = splitBatch(buf, 3, 42);
  assert.deepEqual(
    recs.map((r) => [r.cpu, [...r.data], r.timeNs]),
    [
      [0, [1, 2, 3], 42],
      [1, [4, 5, 6, 7, 8, 9, 10, 11, 12], 42],
      [1, [], 42],
    ],
  );
  assert.equal(recs[0].data.buffer, buf.buffer);
});

test('splitBatch stops at a record that would run past the buffer', () => {
  const buf = framed([[0, [1, 2, 3]]]);
  buf.writeUInt32LE(100, 0);
  assert.deepEqual(splitBatch(buf, 1, 0), []);
});
