// Checks a received Native block against the schema before it is stored: the header matches
// the expected columns exactly, and every column's data has exactly the length its values
// declare, ending at the end of the buffer. Runs on the relay for every block, so it walks the
// bytes once, compares names and types as bytes and skips string payloads without decoding.
import { Cursor } from './cursor.js';
import { NativeBlockError } from './error.js';
import { readKeysVersion, readGranuleFlags, readIndexCount } from './lowcard.js';
import { Kind, FIXED_WIDTH, kindOf, type NativeColumn } from './types.js';
import { varuintSize, writeVaruint } from './writer.js';

export { NativeBlockError, type NativeBlockReason } from './error.js';

export interface NativeBlockLimits {
  maxRows: number;
  maxBytes: number;
}

interface Plan {
  headers: Buffer[];
  kinds: Kind[];
  names: string[];
}

// Compiled once per expected column list (normally the one constant flows schema).
const plans = new WeakMap<readonly NativeColumn[], Plan>();

function planFor(expected: readonly NativeColumn[]): Plan {
  let plan = plans.get(expected);
  if (plan) return plan;
  plan = { headers: [], kinds: [], names: [] };
  for (const c of expected) {
    const kind = kindOf(c.type);
    if (kind === undefined) throw new NativeBlockError('header', `expected column ${c.name} has unsupported type ${c.type}`);
    plan.headers.push(Buffer.concat([lengthPrefixed(c.name), lengthPrefixed(c.type)]));
    plan.kinds.push(kind);
    plan.names.push(c.name);
  }
  plans.set(expected, plan);
  return plan;
}

function lengthPrefixed(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(varuintSize(b.length) + b.length);
  b.copy(out, writeVaruint(out, 0, b.length));
  return out;
}

/**
 * Validates one Native block holding `expected`'s columns in order; returns its row count.
 * Throws only NativeBlockError.
 */
export function validateNativeBlock(buf: Buffer, expected: readonly NativeColumn[], limits: NativeBlockLimits): { rows: number } {
  // A Uint8Array that is not a Buffer (no readUInt32LE) is viewed as one, without copying.
  if (!Buffer.isBuffer(buf)) buf = Buffer.from((buf as Uint8Array).buffer, (buf as Uint8Array).byteOffset, (buf as Uint8Array).byteLength);
  if (buf.length > limits.maxBytes) throw new NativeBlockError('too-large', `${buf.length} bytes, limit ${limits.maxBytes}`);
  const plan = planFor(expected);
  const cur = new Cursor(buf);
  const cols = cur.varuint('column count');
  if (cols !== plan.kinds.length) throw new NativeBlockError('columns', `${cols} columns, want ${plan.kinds.length}`);
  const rows = cur.varuint('row count');
  if (rows === 0 || rows > limits.maxRows) throw new NativeBlockError('rows', `${rows} rows, want 1..${limits.maxRows}`);
  for (let i = 0; i < plan.kinds.length; i++) {
    checkHeader(cur, plan.headers[i], i, expected[i]);
    checkColumn(cur, plan.kinds[i], rows, plan.names[i]);
  }
  if (cur.left !== 0) throw new NativeBlockError('trailing', `${cur.left} bytes after the last column`);
  return { rows };
}

function checkHeader(cur: Cursor, want: Buffer, i: number, col: NativeColumn): void {
  const { buf, pos } = cur;
  if (pos + want.length <= buf.length && want.compare(buf, pos, pos + want.length) === 0) {
    cur.pos += want.length;
    return;
  }
  // Mismatch: decode what is there for the message (the error path may allocate).
  const name = cur.bytes(`column ${i} name`).toString('utf8');
  const type = cur.bytes(`column ${i} type`).toString('utf8');
  throw new NativeBlockError('header', `column ${i} is ${JSON.stringify(name)} ${JSON.stringify(type)}, want ${col.name} ${col.type}`);
}

function checkColumn(cur: Cursor, kind: Kind, rows: number, name: string): void {
  switch (kind) {
    case Kind.String:
      cur.skipStrings(rows, name);
      return;
    case Kind.LowCardinality:
      readKeysVersion(cur, name);
      checkGranules(cur, rows, name);
      return;
    case Kind.ArrayString:
      cur.skipStrings(checkOffsets(cur, rows, name), name);
      return;
    case Kind.ArrayU64: {
      const n = checkOffsets(cur, rows, name);
      cur.skip(n * 8, name);
      return;
    }
    case Kind.ArrayLowCardinality: {
      readKeysVersion(cur, name);
      const n = checkOffsets(cur, rows, name);
      if (n > 0) checkGranules(cur, n, name); // no granule at all when every array is empty
      return;
    }
    default:
      cur.skip(rows * FIXED_WIDTH[kind], name);
  }
}

/** Zeros to compare a column of empty arrays with (grown to the largest block seen). */
let zeros = Buffer.alloc(0);

/** Whether `n` bytes at `p` are all zero (a native compare: most array columns are empty in most rows). */
function allZero(b: Buffer, p: number, n: number): boolean {
  if (zeros.length < n) zeros = Buffer.alloc(Math.max(n, 2 * zeros.length));
  return b.compare(zeros, 0, n, p, p + n) === 0;
}

/** Array offsets: non-decreasing; returns the last, the number of elements. */
function checkOffsets(cur: Cursor, rows: number, name: string): number {
  cur.need(rows * 8, `${name} offsets`);
  const b = cur.buf;
  let p = cur.pos,
    prev = 0;
  // Every array empty: the offsets are all zero.
  if (allZero(b, p + rows * 8 - 8, 8) && allZero(b, p, rows * 8)) {
    cur.pos = p + rows * 8;
    return 0;
  }
  // Byte reads, not readUInt32LE: this loop runs for every row of every array column.
  for (let i = 0; i < rows; i++, p += 8) {
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    // Each element takes at least a byte, so no valid offset reaches 2^32 (Buffers are smaller).
    if ((b[p + 4] | b[p + 5] | b[p + 6] | b[p + 7]) !== 0 || lo < prev) {
      throw new NativeBlockError('offsets', `${name}: offset ${i} is ${b.readUInt32LE(p + 4) * 0x1_0000_0000 + lo} after ${prev}`);
    }
    prev = lo;
  }
  cur.pos = p;
  if (prev > cur.left) throw new NativeBlockError('truncated', `${name}: ${prev} array elements cannot fit in the ${cur.left} bytes left`);
  return prev;
}

/** LowCardinality data of `n` values: granules of (flags, dictionary, indexes < dictionary size). */
function checkGranules(cur: Cursor, n: number, name: string): void {
  for (let left = n; left > 0;) {
    const width = readGranuleFlags(cur, name);
    const keys = cur.u64(`${name} dictionary size`);
    cur.skipStrings(keys, `${name} dictionary`);
    const count = readIndexCount(cur, left, name);
    cur.need(count * width, `${name} indexes`);
    checkIndexes(cur.buf, cur.pos, count, width, keys, name);
    cur.pos += count * width;
    left -= count;
  }
}

function checkIndexes(b: Buffer, p: number, count: number, width: number, keys: number, name: string): void {
  let max = 0;
  if (width === 1) {
    if (keys >= 0x100) return;
    for (let i = 0; i < count; i++) if (b[p + i] > max) max = b[p + i];
  } else if (width === 2) {
    if (keys >= 0x1_0000) return;
    for (let i = 0, q = p; i < count; i++, q += 2) {
      const v = b[q] | (b[q + 1] << 8);
      if (v > max) max = v;
    }
  } else if (width === 4) {
    for (let i = 0, q = p; i < count; i++, q += 4) {
      const v = (b[q] | (b[q + 1] << 8) | (b[q + 2] << 16) | (b[q + 3] << 24)) >>> 0;
      if (v > max) max = v;
    }
  } else {
    for (let i = 0, q = p; i < count; i++, q += 8) {
      if (b.readUInt32LE(q + 4) !== 0) {
        max = Infinity;
        break;
      }
      const v = b.readUInt32LE(q);
      if (v > max) max = v;
    }
  }
  if (max >= keys) throw new NativeBlockError('dictionary', `${name}: index ${max} in a dictionary of ${keys}`);
}
