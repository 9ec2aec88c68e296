import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowBinaryWriter } from './rowbinary.js';

const bytes = (f: (w: RowBinaryWriter) => void): Buffer => {
  const w = new RowBinaryWriter(64);
  f(w);
  return Buffer.from(w.bytes());
};

const NUMBERS = [
  0,
  1,
  -1,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 5,
  2 ** 40 + 7,
  Number.MAX_SAFE_INTEGER,
  -5,
  1.5,
  -1.5,
  0.999,
  -0,
  NaN,
  Infinity,
  -Infinity,
];

test("numbers are the bytes of Buffer's writers after the same truncation", () => {
  for (const v of NUMBERS) {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(v & 0xffff);
    assert.deepEqual(
      bytes((w) => w.u16(v)),
      b.subarray(0, 2),
      `u16 ${v}`,
    );
    b.writeUInt32LE(v >>> 0);
    assert.deepEqual(
      bytes((w) => w.u32(v)),
      b.subarray(0, 4),
      `u32 ${v}`,
    );
    b.writeInt32LE(v | 0);
    assert.deepEqual(
      bytes((w) => w.i32(v)),
      b.subarray(0, 4),
      `i32 ${v}`,
    );
    b.writeUInt32LE((v % 0x1_0000_0000) >>> 0);
    b.writeUInt32LE(Math.floor(v / 0x1_0000_0000) >>> 0, 4);
    assert.deepEqual(
      bytes((w) => w.u64(v)),
      b,
      `u64 ${v}`,
    );
  }
});

test('runs of numbers from a strided source are the bytes of the single-value writers', () => {
  const stride = 3,
    src = new Float64Array(NUMBERS.length * stride);
  NUMBERS.forEach((v, i) => {
    src[i * stride + 1] = v;
  });
  const n = NUMBERS.length;
  assert.deepEqual(
    bytes((w) => w.u8s(src, 1, stride, n)),
    bytes((w) => NUMBERS.forEach((v) => w.u8(v))),
  );
  assert.deepEqual(
    bytes((w) => w.u16s(src, 1, stride, n)),
    bytes((w) => NUMBERS.forEach((v) => w.u16(v))),
  );
  assert.deepEqual(
    bytes((w) => w.u32s(src, 1, stride, n)),
    bytes((w) => NUMBERS.forEach((v) => w.u32(v))),
  );
  assert.deepEqual(
    bytes((w) => w.i32s(src, 1, stride, n)),
    bytes((w) => NUMBERS.forEach((v) => w.i32(v))),
  );
  const safe = NUMBERS.filter((v) => v >= 0 && v <= Number.MAX_SAFE_INTEGER);
  const s = Float64Array.from(safe);
  assert.deepEqual(
    bytes((w) => w.u64s(s, 0, 1, safe.length)),
    bytes((w) => safe.forEach((v) => w.u64(v))),
  );
  let sum = 10;
  const sums = bytes((w) =>
    safe.forEach((v) => {
      sum += v;
      w.u64(sum);
    }),
  );
  assert.deepEqual(
    bytes((w) => assert.equal(w.u64Sums(s, 0, 1, safe.length, 10), sum)),
    sums,
  );
});

test('strings are varint length + UTF-8, whatever their length and characters', () => {
  const strings = [
    '',
    'a',
    'x'.repeat(42),
    'x'.repeat(127),
    'x'.repeat(128),
    'x'.repeat(300),
    'ü',
    'ü'.repeat(42),
    'ü'.repeat(64),
    'é'.repeat(200),
    '𝄞 emoji 😀',
    'abc\u0080',
    'lone \ud800 surrogate',
    'nul\0byte',
    'ascii then ✓'.repeat(20),
  ];
  for (const s of strings) {
    const utf8 = Buffer.from(s, 'utf8');
    const len: number[] = [];
    for (let n = utf8.length; ; n = Math.floor(n / 128)) {
      if (n < 0x80) {
        len.push(n);
        break;
      }
      len.push((n & 0x7f) | 0x80);
    }
    assert.deepEqual(
      bytes((w) => w.str(s)),
      Buffer.concat([Buffer.from(len), utf8]),
      JSON.stringify(s.slice(0, 20)),
    );
  }
});
