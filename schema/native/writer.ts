// Builds ClickHouse Native blocks column by column, so a block is serialised once where the
// values are produced and every later hop (relay, insert) forwards bytes.
//
// Layout of a block (NativeWriter without a client revision, i.e. the `Native` format):
//   varuint columns, varuint rows, then per column: name and type (varuint length + bytes each)
//   followed by the column's data in its bulk serialisation:
//   - fixed-width numbers, DateTime64(9) (Int64 ticks), IPv6 (16 bytes, network order): little-endian values back to back;
//   - String: varuint length + bytes per value;
//   - Array(T): the row offsets (cumulative UInt64), then all elements as a column of T;
//   - LowCardinality(String): UInt64 keys-serialisation version (1) as the state prefix, then
//     one granule: UInt64 flags (index width | has-additional-keys | need-update-dictionary),
//     UInt64 dictionary size + the dictionary as a String column, UInt64 row count + the indexes
//     in the smallest unsigned width that fits. It is what ClickHouse itself writes for Native
//     (no global dictionary). In Array(LowCardinality(String)) the version precedes the
//     offsets, and a block whose arrays are all empty has no granule at all.
// LowCardinality columns are sent as dictionaries, not as plain strings the engine would have to
// convert: measured cheaper for the engine and smaller (docs/storage.md, "Native blocks").
import { RowBinaryWriter } from '../rowbinary.js';
import { Kind, kindOf, supportedTypes, type NativeColumn } from './types.js';

/** KeysSerializationVersion::SharedDictionariesWithAdditionalKeys. */
export const LC_KEYS_VERSION = 1;
/** Granule flags: the low byte is the index width (0: UInt8 … 3: UInt64). */
export const LC_NEED_GLOBAL_DICTIONARY = 1 << 8;
export const LC_HAS_ADDITIONAL_KEYS = 1 << 9;
export const LC_NEED_UPDATE_DICTIONARY = 1 << 10;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Whole seconds of the last DateTime64(9) instant, 2262-04-11 23:47:16.854775807 (< 2^63 ns). */
const MAX_DT64_SECONDS = 9_223_372_035;

/** No LowCardinality value yet (equal to no value, not even undefined). */
const NO_KEY = Symbol('no key');

/**
 * One column's buffers; every field exists for every kind so all columns share one shape.
 * The appenders do not check that a value suits the column's kind: {@link NativeBlockWriter}
 * checks per value, a row stage (row-stage.ts) checks when a value is staged.
 */
export class ColumnBuffer {
  /** Values (rows) appended to this block. */
  count = 0;
  /** Array elements appended (array columns). */
  nested = 0;
  /** Fixed-width values, strings, or an array's elements (all kinds but the LowCardinality ones). */
  readonly data: RowBinaryWriter;
  /** Cumulative UInt64 element counts, one per row (array columns). */
  readonly offsets: RowBinaryWriter | null;
  /** LowCardinality: the block's dictionary (string → index) and its encoded keys in index order. */
  readonly dict: Map<string, number> | null;
  readonly keys: RowBinaryWriter | null;
  /** LowCardinality: one dictionary index per value. */
  idx: Uint32Array;
  idxCount = 0;
  /** LowCardinality: the last value and its index. Neighbouring rows mostly repeat a value (one
   * node, one cluster, a pod's many flows), and comparing a string with itself costs less than
   * a dictionary lookup. */
  private lastKey: string | symbol = NO_KEY;
  private lastIdx = 0;

  constructor(
    readonly name: string,
    readonly type: string,
    readonly kind: Kind,
    readonly header: Buffer,
  ) {
    const lc = kind === Kind.LowCardinality || kind === Kind.ArrayLowCardinality;
    const array = kind === Kind.ArrayString || kind === Kind.ArrayLowCardinality || kind === Kind.ArrayU64;
    this.data = new RowBinaryWriter(lc ? 64 : 4096);
    this.offsets = array ? new RowBinaryWriter(4096) : null;
    this.dict = lc ? new Map() : null;
    this.keys = lc ? new RowBinaryWriter(1024) : null;
    this.idx = new Uint32Array(lc ? 1024 : 0);
  }

  reset(): void {
    this.count = 0;
    this.nested = 0;
    this.idxCount = 0;
    this.lastKey = NO_KEY;
    this.data.reset();
    this.offsets?.reset();
    this.keys?.reset();
    this.dict?.clear();
  }

  // One value each. Fixed-width kinds: integers outside the column's range wrap, as in the
  // RowBinary writer.
  u8(v: number): void {
    this.count++;
    this.data.u8(v);
  }
  u16(v: number): void {
    this.count++;
    this.data.u16(v);
  }
  u32(v: number): void {
    this.count++;
    this.data.u32(v);
  }
  i32(v: number): void {
    this.count++;
    this.data.i32(v);
  }
  /** UInt64 from a non-negative safe integer (the caller checks). */
  u64(v: number): void {
    this.count++;
    this.data.u64(v);
  }
  /** DateTime64(9) within the type's range (the caller checks). */
  timeNs(seconds: number, nanos: number): void {
    this.count++;
    this.data.timeNs(seconds, nanos);
  }
  /** IPv6: 16 bytes (the caller checks the length). */
  ipv6(ip: Uint8Array): void {
    this.count++;
    this.data.ipv6(ip);
  }
  /** String column from raw bytes. */
  bytes(b: Uint8Array): void {
    this.count++;
    this.data.bytesField(b);
  }

  /** String or LowCardinality(String). */
  str(s: string): void {
    this.count++;
    if (this.dict === null) this.data.str(s);
    else this.lc(s);
  }

  /** Array(String) or Array(LowCardinality(String)). */
  strArray(a: readonly string[]): void {
    this.count++;
    this.nested += a.length;
    this.offsets!.u64(this.nested);
    if (this.dict === null) for (let i = 0; i < a.length; i++) this.data.str(a[i]);
    else for (let i = 0; i < a.length; i++) this.lc(a[i]);
  }

  /** Array(UInt64) of non-negative safe integers (the caller checks). */
  u64Array(a: readonly number[]): void {
    this.count++;
    this.nested += a.length;
    this.offsets!.u64(this.nested);
    for (let i = 0; i < a.length; i++) this.data.u64(a[i]);
  }

  // `n` values at once from a row-major stage (row-stage.ts): value r at src[at + r * stride].
  // A column at a time, the column's buffers stay in cache and each loop has one kind.

  /** UInt8, UInt16, UInt32, Int32 or UInt64 (non-negative safe integers: the stage checks). */
  numbers(src: Float64Array, at: number, stride: number, n: number): void {
    const d = this.data;
    switch (this.kind) {
      case Kind.U8:
        d.u8s(src, at, stride, n);
        break;
      case Kind.U16:
        d.u16s(src, at, stride, n);
        break;
      case Kind.U32:
        d.u32s(src, at, stride, n);
        break;
      case Kind.I32:
        d.i32s(src, at, stride, n);
        break;
      case Kind.U64:
        d.u64s(src, at, stride, n);
        break;
      default:
        throw new TypeError(`numbers(): column ${this.name} is ${this.type}`);
    }
    this.count += n;
  }

  /** DateTime64(9): seconds at src[p], nanoseconds at src[p + 1] (within the type: the stage checks). */
  times(src: Float64Array, at: number, stride: number, n: number): void {
    const d = this.data,
      end = at + n * stride;
    for (let p = at; p < end; p += stride) d.timeNs(src[p], src[p + 1]);
    this.count += n;
  }

  /** IPv6: addresses of 16 bytes back to back. */
  addresses(src: Uint8Array): void {
    this.data.raw(src);
    this.count += src.length / 16;
  }

  /** String (strings, or raw bytes as a Uint8Array) or LowCardinality(String) (strings). */
  strings(src: readonly unknown[], at: number, stride: number, n: number): void {
    if (this.dict !== null) {
      this.lcRun(src, at, stride, n);
      return;
    }
    const d = this.data,
      end = at + n * stride;
    for (let p = at; p < end; p += stride) {
      const v = src[p];
      if (typeof v === 'string') d.str(v);
      else d.bytesField(v as Uint8Array);
    }
    this.count += n;
  }

  /** {@link lc} for a run of values, with the room for their indexes made once. */
  private lcRun(src: readonly unknown[], at: number, stride: number, n: number): void {
    if (this.idxCount + n > this.idx.length) this.growIdx(this.idxCount + n);
    const idx = this.idx,
      end = at + n * stride;
    let last = this.lastKey,
      lastIdx = this.lastIdx,
      k = this.idxCount;
    for (let p = at; p < end; p += stride) {
      const s = src[p] as string;
      if (s !== last) {
        lastIdx = this.keyIndex(s);
        last = s;
      }
      idx[k++] = lastIdx;
    }
    this.idxCount = k;
    this.lastKey = last;
    this.lastIdx = lastIdx;
    this.count += n;
  }

  /** Arrays: the element count at src[p], the index of the first element in `elems` at
   * src[p + 1] (strings; non-negative safe integers for Array(UInt64)). */
  lists(src: Float64Array, at: number, stride: number, elems: readonly unknown[], n: number): void {
    const first = this.nested;
    this.nested = this.offsets!.u64Sums(src, at, stride, n, first);
    if (this.nested === first) {
      this.count += n;
      return;
    } // all empty, as most are
    if (this.dict !== null) {
      this.lcLists(src, at, stride, elems, n);
      return;
    }
    const d = this.data,
      end = at + n * stride;
    for (let p = at; p < end; p += stride) {
      const from = src[p + 1],
        to = from + src[p];
      if (this.kind === Kind.ArrayU64) for (let e = from; e < to; e++) d.u64(elems[e] as number);
      else for (let e = from; e < to; e++) d.str(elems[e] as string);
    }
    this.count += n;
  }

  /** Array(LowCardinality(String)) elements: an element equal to the one at its position in the
   * previous row's array takes that one's index. Label sets repeat from row to row (a pod's
   * flows) and differ along the array, where the one-value memo of {@link lc} would miss. */
  private lcLists(src: Float64Array, at: number, stride: number, elems: readonly unknown[], n: number): void {
    const end = at + n * stride;
    let prevFrom = 0,
      prevLen = 0;
    for (let p = at; p < end; p += stride) {
      const from = src[p + 1],
        len = src[p];
      if (this.idxCount + len > this.idx.length) this.growIdx(this.idxCount + len);
      const idx = this.idx;
      let k = this.idxCount;
      for (let i = 0; i < len; i++, k++) {
        const s = elems[from + i] as string;
        if (i < prevLen && s === elems[prevFrom + i]) idx[k] = idx[k - prevLen];
        else {
          if (s !== this.lastKey) {
            this.lastIdx = this.keyIndex(s);
            this.lastKey = s;
          }
          idx[k] = this.lastIdx;
        }
      }
      this.idxCount = k;
      if (len > 0) {
        prevFrom = from;
        prevLen = len;
      }
    }
    this.count += n;
  }

  /** Appends a string's dictionary index, adding the string to the dictionary when new. */
  private lc(s: string): void {
    if (s !== this.lastKey) {
      this.lastIdx = this.keyIndex(s);
      this.lastKey = s;
    }
    if (this.idxCount === this.idx.length) this.growIdx(this.idxCount + 1);
    this.idx[this.idxCount++] = this.lastIdx;
  }

  /** The dictionary index of `s`, added when new. */
  private keyIndex(s: string): number {
    const dict = this.dict!;
    let i = dict.get(s);
    if (i === undefined) {
      i = dict.size;
      dict.set(s, i);
      this.keys!.str(s);
    }
    return i;
  }

  private growIdx(min: number): void {
    const next = new Uint32Array(Math.max(this.idx.length * 2, min));
    next.set(this.idx.subarray(0, this.idxCount));
    this.idx = next;
  }

  /** Bytes of this column's data in the block (header excluded). */
  dataSize(): number {
    switch (this.kind) {
      case Kind.LowCardinality:
        return 8 + lcGranuleSize(this);
      case Kind.ArrayLowCardinality:
        return 8 + this.offsets!.pos + (this.idxCount > 0 ? lcGranuleSize(this) : 0);
      case Kind.ArrayString:
      case Kind.ArrayU64:
        return this.offsets!.pos + this.data.pos;
      default:
        return this.data.pos;
    }
  }

  /** Writes header and data at `p`; returns the position after them. */
  write(out: Buffer, p: number): number {
    p += this.header.copy(out, p);
    switch (this.kind) {
      case Kind.LowCardinality:
        p = writeU64(out, p, LC_KEYS_VERSION);
        return writeLcGranule(out, p, this);
      case Kind.ArrayLowCardinality:
        p = writeU64(out, p, LC_KEYS_VERSION);
        p += this.offsets!.bytes().copy(out, p);
        return this.idxCount > 0 ? writeLcGranule(out, p, this) : p;
      case Kind.ArrayString:
      case Kind.ArrayU64:
        p += this.offsets!.bytes().copy(out, p);
        return p + this.data.bytes().copy(out, p);
      default:
        return p + this.data.bytes().copy(out, p);
    }
  }
}

/** Throws unless (seconds, nanos) is an instant of DateTime64(9): the appenders' precondition. */
export function checkDateTime64ns(seconds: number, nanos: number): void {
  if (!(seconds >= 0 && seconds <= MAX_DT64_SECONDS && nanos >= 0 && nanos < 1e9) || !Number.isInteger(seconds) || !Number.isInteger(nanos)) {
    throw new RangeError(`dateTime64ns(): ${seconds} s ${nanos} ns is outside DateTime64(9)`);
  }
}

/** Throws unless `v` is a non-negative safe integer (a UInt64 value the appenders take). */
export function checkU64(v: number): void {
  if (!(v >= 0 && v <= MAX_SAFE)) throw new RangeError(`u64(): ${v} is not a non-negative safe integer`);
}

/** Throws unless every value is a non-negative safe integer (Array(UInt64) elements). */
export function checkU64s(a: readonly number[]): void {
  for (let i = 0; i < a.length; i++) if (!(a[i] >= 0 && a[i] <= MAX_SAFE)) throw new RangeError(`u64Array(): ${a[i]} is not a non-negative safe integer`);
}

/** Index width code (0: UInt8, 1: UInt16, 2: UInt32) for a dictionary of `size` keys. */
function indexWidthCode(size: number): number {
  return size <= 0x100 ? 0 : size <= 0x1_0000 ? 1 : 2;
}

function lcGranuleSize(c: ColumnBuffer): number {
  return 8 + 8 + c.keys!.pos + 8 + c.idxCount * (1 << indexWidthCode(c.dict!.size));
}

function writeLcGranule(out: Buffer, p: number, c: ColumnBuffer): number {
  const code = indexWidthCode(c.dict!.size);
  p = writeU64(out, p, code | LC_HAS_ADDITIONAL_KEYS | LC_NEED_UPDATE_DICTIONARY);
  p = writeU64(out, p, c.dict!.size);
  p += c.keys!.bytes().copy(out, p);
  p = writeU64(out, p, c.idxCount);
  const idx = c.idx,
    n = c.idxCount;
  if (code === 0) {
    for (let i = 0; i < n; i++) out[p++] = idx[i];
  } else if (code === 1) {
    for (let i = 0; i < n; i++) {
      const v = idx[i];
      out[p++] = v & 0xff;
      out[p++] = v >>> 8;
    }
  } else {
    for (let i = 0; i < n; i++) {
      out.writeUInt32LE(idx[i], p);
      p += 4;
    }
  }
  return p;
}

function writeU64(out: Buffer, p: number, v: number): number {
  out.writeUInt32LE(v % 0x1_0000_0000, p);
  out.writeUInt32LE(Math.floor(v / 0x1_0000_0000), p + 4);
  return p + 8;
}

export function varuintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export function writeVaruint(out: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    out[p++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[p++] = n;
  return p;
}

/** varuint length + UTF-8 bytes of a header string. */
function headerString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(varuintSize(bytes.length) + bytes.length);
  bytes.copy(out, writeVaruint(out, 0, bytes.length));
  return out;
}

const APPENDER_KINDS: Record<string, string> = {
  u8: 'UInt8',
  u16: 'UInt16',
  u32: 'UInt32',
  i32: 'Int32',
  u64: 'UInt64',
  dateTime64ns: 'DateTime64(9)',
  ipv6: 'IPv6',
  str: 'String or LowCardinality(String)',
  bytes: 'String',
  strArray: 'Array(String) or Array(LowCardinality(String))',
  u64Array: 'Array(UInt64)',
};

/**
 * Column-wise builder of Native blocks. Columns are addressed by index (see {@link index});
 * each appender takes the column index and one value, and {@link endRow} closes a row once
 * every column has its value. Buffers are kept and reused from block to block.
 */
export class NativeBlockWriter {
  readonly columns: readonly NativeColumn[];
  private readonly cols: ColumnBuffer[];
  private readonly byName = new Map<string, number>();
  private nRows = 0;

  constructor(columns: readonly NativeColumn[]) {
    if (columns.length === 0) throw new Error('a Native block needs at least one column');
    this.columns = columns.map((c) => ({ name: c.name, type: c.type }));
    this.cols = columns.map((c) => {
      const kind = kindOf(c.type);
      if (kind === undefined) throw new Error(`column ${c.name}: type ${c.type} is not supported in Native blocks (supported: ${supportedTypes().join(', ')})`);
      if (this.byName.has(c.name)) throw new Error(`column ${c.name} appears twice`);
      this.byName.set(c.name, this.byName.size);
      return new ColumnBuffer(c.name, c.type, kind, Buffer.concat([headerString(c.name), headerString(c.type)]));
    });
  }

  /** Index of a column by name, for appenders (look it up once, not per row). */
  index(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`no column ${name} in this block`);
    return i;
  }

  /** Rows completed with {@link endRow} since the last finish/reset. */
  get rows(): number {
    return this.nRows;
  }

  /** The column buffers in column order, for a writer that checks its values itself and appends
   * whole rows at once through them (row-stage.ts), then calls {@link endRows}. */
  buffers(): readonly ColumnBuffer[] {
    return this.cols;
  }

  private col(col: number, kind: Kind, appender: string): ColumnBuffer {
    const c = this.cols[col];
    if (c === undefined || c.kind !== kind) throw this.misuse(col, appender);
    return c;
  }

  private misuse(col: number, appender: string): Error {
    const c = this.cols[col];
    return new TypeError(c === undefined ? `no column #${col}` : `${appender}() writes ${APPENDER_KINDS[appender]}, column ${c.name} is ${c.type}`);
  }

  // Integers outside the column's range wrap, as in the RowBinary writer.
  u8(col: number, v: number): void {
    this.col(col, Kind.U8, 'u8').u8(v);
  }
  u16(col: number, v: number): void {
    this.col(col, Kind.U16, 'u16').u16(v);
  }
  u32(col: number, v: number): void {
    this.col(col, Kind.U32, 'u32').u32(v);
  }
  i32(col: number, v: number): void {
    this.col(col, Kind.I32, 'i32').i32(v);
  }

  /** UInt64 from a non-negative safe integer. */
  u64(col: number, v: number): void {
    checkU64(v);
    this.col(col, Kind.U64, 'u64').u64(v);
  }

  /** DateTime64(9) from whole seconds since the epoch and nanoseconds (0 ≤ nanos < 1e9), up to
   * the type's end in 2262. */
  dateTime64ns(col: number, seconds: number, nanos: number): void {
    checkDateTime64ns(seconds, nanos);
    this.col(col, Kind.DateTime64, 'dateTime64ns').timeNs(seconds, nanos);
  }

  /** IPv6: 16 bytes in network order (IPv4 as ::ffff:a.b.c.d). */
  ipv6(col: number, ip: Uint8Array): void {
    if (ip.length !== 16) throw new RangeError(`ipv6(): ${ip.length} bytes, want 16`);
    this.col(col, Kind.IPv6, 'ipv6').ipv6(ip);
  }

  /** String or LowCardinality(String). */
  str(col: number, s: string): void {
    const c = this.cols[col];
    if (c === undefined || (c.kind !== Kind.String && c.kind !== Kind.LowCardinality)) throw this.misuse(col, 'str');
    c.str(s);
  }

  /** String column from raw bytes (e.g. protobuf). */
  bytes(col: number, b: Uint8Array): void {
    this.col(col, Kind.String, 'bytes').bytes(b);
  }

  /** Array(String) or Array(LowCardinality(String)). */
  strArray(col: number, a: readonly string[]): void {
    const c = this.cols[col];
    if (c === undefined || (c.kind !== Kind.ArrayString && c.kind !== Kind.ArrayLowCardinality)) throw this.misuse(col, 'strArray');
    c.strArray(a);
  }

  /** Array(UInt64) from non-negative safe integers. */
  u64Array(col: number, a: readonly number[]): void {
    checkU64s(a);
    this.col(col, Kind.ArrayU64, 'u64Array').u64Array(a);
  }

  /** Closes the current row. Column counts are checked once per block, in {@link finish}. */
  endRow(): void {
    this.nRows++;
  }

  /** Closes `n` rows whose values were appended column by column (through {@link buffers}). */
  endRows(n: number): void {
    this.nRows += n;
  }

  /** The block of all rows so far, as a new Buffer; the writer then starts an empty block.
   * `headroom`: bytes left free before the block (it starts there), for a message's framing.
   * `alloc(n)`: where the n bytes go (a reused buffer: collector/block-pool.ts); default new. */
  finish(headroom = 0, alloc?: (n: number) => Buffer): Buffer {
    const rows = this.nRows;
    if (rows === 0) throw new Error('finish(): the block has no rows');
    let size = varuintSize(this.cols.length) + varuintSize(rows);
    for (const c of this.cols) {
      if (c.count !== rows) throw new Error(`finish(): column ${c.name} has ${c.count} values for ${rows} rows`);
      size += c.header.length + c.dataSize();
    }
    const out = alloc === undefined ? Buffer.allocUnsafe(headroom + size) : alloc(headroom + size);
    if (out.length !== headroom + size) throw new Error(`finish(): alloc gave ${out.length} bytes for ${headroom + size}`);
    let p = writeVaruint(out, headroom, this.cols.length);
    p = writeVaruint(out, p, rows);
    for (const c of this.cols) p = c.write(out, p);
    if (p !== headroom + size) throw new Error(`finish(): wrote ${p - headroom} of ${size} bytes`); // a bug here, never bad input
    this.reset();
    return out;
  }

  /** Drops the rows of the current block (e.g. after a row failed half-way). */
  reset(): void {
    this.nRows = 0;
    for (const c of this.cols) c.reset();
  }
}
