// Decodes Native blocks into plain values, for tests and debugging (allocates per value; the
// hot path is validate.ts). Reads the column types from the block's own header.
import { Cursor } from './cursor.js';
import { NativeBlockError } from './error.js';
import { readKeysVersion, readGranuleFlags, readIndexCount } from './lowcard.js';
import { Kind, kindOf } from './types.js';

/** UInt64 is a number when it is a safe integer, else a bigint; DateTime64(9) is a bigint of
 * nanoseconds; IPv6 a 16-byte Buffer; String a string (a Buffer with `bytes: true`). */
export type NativeScalar = number | bigint | string | Buffer;
export type NativeValue = NativeScalar | NativeScalar[];

export interface NativeColumnValues {
  name: string;
  type: string;
  values: NativeValue[];
}
export interface NativeBlockValues {
  rows: number;
  columns: NativeColumnValues[];
}
export interface ReadOptions {
  /** String columns as raw bytes (e.g. protobuf in `rest`). */ bytes?: boolean;
  /** Only these String columns as raw bytes (the others as strings). */ bytesColumns?: ReadonlySet<string>;
}

/** The single block that fills `buf`. */
export function readNativeBlock(buf: Buffer, opts: ReadOptions = {}): NativeBlockValues {
  const cur = new Cursor(buf);
  const block = readBlock(cur, opts);
  if (cur.left !== 0) throw new NativeBlockError('trailing', `${cur.left} bytes after the last column`);
  return block;
}

/** Consecutive blocks, as in a file written for `file(…, 'Native')`. */
export function readNativeBlocks(buf: Buffer, opts: ReadOptions = {}): NativeBlockValues[] {
  const cur = new Cursor(buf);
  const out: NativeBlockValues[] = [];
  while (cur.left > 0) out.push(readBlock(cur, opts));
  return out;
}

function readBlock(cur: Cursor, opts: ReadOptions): NativeBlockValues {
  const ncols = cur.varuint('column count');
  const rows = cur.varuint('row count');
  if (ncols > cur.left) throw new NativeBlockError('columns', `${ncols} columns cannot fit in ${cur.left} bytes`);
  const columns: NativeColumnValues[] = [];
  for (let i = 0; i < ncols; i++) {
    const name = cur.bytes(`column ${i} name`).toString('utf8');
    const type = cur.bytes(`column ${i} type`).toString('utf8');
    const kind = kindOf(type);
    if (kind === undefined) throw new NativeBlockError('header', `column ${name}: unsupported type ${type}`);
    columns.push({ name, type, values: readColumn(cur, kind, rows, name, opts) });
  }
  return { rows, columns };
}

function readColumn(cur: Cursor, kind: Kind, rows: number, name: string, opts: ReadOptions): NativeValue[] {
  const str = opts.bytes || opts.bytesColumns?.has(name) ? (b: Buffer) => Buffer.from(b) : (b: Buffer) => b.toString('utf8');
  switch (kind) {
    case Kind.String:
      return repeat(rows, () => str(cur.bytes(name)));
    case Kind.LowCardinality:
      readKeysVersion(cur, name);
      return readLowCardinality(cur, rows, name);
    case Kind.ArrayString: {
      const offsets = readOffsets(cur, rows, name);
      return split(
        offsets,
        repeat(lastOf(offsets), () => cur.bytes(name).toString('utf8')),
      );
    }
    case Kind.ArrayU64: {
      const offsets = readOffsets(cur, rows, name);
      return split(
        offsets,
        repeat(lastOf(offsets), () => u64(cur, name)),
      );
    }
    case Kind.ArrayLowCardinality: {
      readKeysVersion(cur, name);
      const offsets = readOffsets(cur, rows, name);
      const n = lastOf(offsets);
      return split(offsets, n === 0 ? [] : readLowCardinality(cur, n, name));
    }
    case Kind.U8:
      return repeat(rows, () => cur.buf.readUInt8(at(cur, 1, name)));
    case Kind.U16:
      return repeat(rows, () => cur.buf.readUInt16LE(at(cur, 2, name)));
    case Kind.U32:
      return repeat(rows, () => cur.buf.readUInt32LE(at(cur, 4, name)));
    case Kind.I32:
      return repeat(rows, () => cur.buf.readInt32LE(at(cur, 4, name)));
    case Kind.U64:
      return repeat(rows, () => u64(cur, name));
    case Kind.DateTime64:
      return repeat(rows, () => cur.buf.readBigInt64LE(at(cur, 8, name)));
    case Kind.IPv6:
      return repeat(rows, () => Buffer.from(fixed(cur, 16, name)));
  }
}

function lastOf(offsets: readonly number[]): number {
  return offsets.length === 0 ? 0 : offsets[offsets.length - 1];
}

function readOffsets(cur: Cursor, rows: number, name: string): number[] {
  const out = repeat(rows, () => u64(cur, name) as number);
  let prev = 0;
  for (const o of out) {
    if (typeof o !== 'number' || o < prev) throw new NativeBlockError('offsets', `${name}: offset ${o} after ${prev}`);
    prev = o;
  }
  if (prev > cur.left) throw new NativeBlockError('truncated', `${name}: ${prev} array elements cannot fit in ${cur.left} bytes`);
  return out;
}

function split<T>(offsets: readonly number[], values: T[]): T[][] {
  let start = 0;
  return offsets.map((end) => {
    const part = values.slice(start, end);
    start = end;
    return part;
  });
}

function readLowCardinality(cur: Cursor, n: number, name: string): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const width = readGranuleFlags(cur, name);
    const size = cur.u64(`${name} dictionary size`);
    if (size > cur.left) throw new NativeBlockError('truncated', `${name}: dictionary of ${size} cannot fit`);
    const keys = repeat(size, () => cur.bytes(name).toString('utf8'));
    const count = readIndexCount(cur, n - out.length, name);
    for (let i = 0; i < count; i++) {
      const b = fixed(cur, width, name);
      const k = width === 8 ? Number(b.readBigUInt64LE(0)) : b.readUIntLE(0, width);
      if (k >= size) throw new NativeBlockError('dictionary', `${name}: index ${k} in a dictionary of ${size}`);
      out.push(keys[k]);
    }
  }
  return out;
}

function fixed(cur: Cursor, n: number, name: string): Buffer {
  cur.need(n, name);
  const b = cur.buf.subarray(cur.pos, cur.pos + n);
  cur.pos += n;
  return b;
}

/** The position of the next `n` bytes, which the cursor then passes. */
function at(cur: Cursor, n: number, name: string): number {
  cur.need(n, name);
  const p = cur.pos;
  cur.pos += n;
  return p;
}

const TWO_32 = 2 ** 32;
const SAFE_HIGH = 2 ** 21; // high words below this keep the value a safe integer

function u64(cur: Cursor, name: string): number | bigint {
  const p = at(cur, 8, name);
  const buf = cur.buf;
  const high = buf.readUInt32LE(p + 4);
  if (high < SAFE_HIGH) return high * TWO_32 + buf.readUInt32LE(p);
  return buf.readBigUInt64LE(p);
}

function repeat<T>(n: number, f: () => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(f());
  return out;
}
