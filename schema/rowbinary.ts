// A growable buffer that writes ClickHouse's RowBinary encoding: the insert format the engine
// parses fastest after Native, and one we can produce straight from a Flow without building
// intermediate strings (docs/storage.md has the measurements).

const DEFAULT_CAPACITY = 1 << 16;

/** What a row encoder (schema/flow-row.ts writeFlowRow) writes to, one value per column in
 * insert order: RowBinary rows, or a Native block's columns (storage/native/flow-block.ts). */
export interface RowSink {
  u8(v: number): void;
  u16(v: number): void;
  u32(v: number): void;
  i32(v: number): void;
  u64(v: number): void;
  timeNs(seconds: number, nanos: number): void;
  str(s: string): void;
  bytesField(b: Uint8Array): void;
  strArray(a: readonly string[]): void;
  u64Array(a: readonly number[]): void;
  ipv6(ip: Uint8Array): void;
}

/** Two little-endian bytes of v & 0xffff at b[q] (room ensured by the caller). */
function put16(b: Buffer, q: number, v: number): void {
  const x = v & 0xffff;
  b[q] = x;
  b[q + 1] = x >>> 8;
}

/** Four little-endian bytes of a 32-bit integer at b[q] (room ensured by the caller). */
function put32(b: Buffer, q: number, v: number): void {
  b[q] = v;
  b[q + 1] = v >>> 8;
  b[q + 2] = v >>> 16;
  b[q + 3] = v >>> 24;
}

/** Eight little-endian bytes of a UInt64 from a non-negative safe integer at b[q]. */
function put64(b: Buffer, q: number, v: number): void {
  if (v >= 0 && v < 0x1_0000_0000) {
    // Nearly every value (array offsets, counters): the same bytes without the float modulo,
    // which V8 runs as a call.
    put32(b, q, v >>> 0);
    put32(b, q + 4, 0);
    return;
  }
  put32(b, q, (v % 0x1_0000_0000) >>> 0);
  put32(b, q + 4, Math.floor(v / 0x1_0000_0000) >>> 0);
}

export class RowBinaryWriter implements RowSink {
  buf: Buffer;
  pos = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 64));
  }

  /** Bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // Numbers are stored byte by byte: the same bytes as Buffer's writeUInt32LE & co. after the
  // same truncation, without their range checks and calls (several per row and column).
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    put16(this.buf, this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    put32(this.buf, this.pos, v >>> 0);
    this.pos += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    put32(this.buf, this.pos, v | 0);
    this.pos += 4;
  }
  /** UInt64 from a non-negative safe integer (larger values are clamped by the caller). */
  u64(v: number): void {
    this.ensure(8);
    put64(this.buf, this.pos, v);
    this.pos += 8;
  }

  // Runs of `n` values from src[at], src[at + stride], … (a column of a row-major stage,
  // schema/native/row-stage.ts): one bounds check for the run, the bytes of the writers above.
  u8s(src: Float64Array, at: number, stride: number, n: number): void {
    this.ensure(n);
    const b = this.buf;
    let q = this.pos;
    for (let p = at, end = at + n * stride; p < end; p += stride) b[q++] = src[p];
    this.pos = q;
  }
  u16s(src: Float64Array, at: number, stride: number, n: number): void {
    this.ensure(2 * n);
    const b = this.buf;
    let q = this.pos;
    for (let p = at, end = at + n * stride; p < end; p += stride, q += 2) put16(b, q, src[p]);
    this.pos = q;
  }
  u32s(src: Float64Array, at: number, stride: number, n: number): void {
    this.ensure(4 * n);
    const b = this.buf;
    let q = this.pos;
    for (let p = at, end = at + n * stride; p < end; p += stride, q += 4) put32(b, q, src[p] >>> 0);
    this.pos = q;
  }
  i32s(src: Float64Array, at: number, stride: number, n: number): void {
    this.ensure(4 * n);
    const b = this.buf;
    let q = this.pos;
    for (let p = at, end = at + n * stride; p < end; p += stride, q += 4) put32(b, q, src[p] | 0);
    this.pos = q;
  }
  /** Running sums (array offsets): `base` plus the values so far, after each value; returns the last sum. */
  u64Sums(src: Float64Array, at: number, stride: number, n: number, base: number): number {
    this.ensure(8 * n);
    const b = this.buf;
    let q = this.pos,
      sum = base;
    for (let p = at, end = at + n * stride; p < end; p += stride, q += 8) {
      sum += src[p];
      if (sum < 0x1_0000_0000) {
        put32(b, q, sum);
        put32(b, q + 4, 0);
      } else put64(b, q, sum); // put64's usual case, inline
    }
    this.pos = q;
    return sum;
  }
  u64s(src: Float64Array, at: number, stride: number, n: number): void {
    this.ensure(8 * n);
    const b = this.buf;
    let q = this.pos;
    for (let p = at, end = at + n * stride; p < end; p += stride, q += 8) put64(b, q, src[p]);
    this.pos = q;
  }

  /** Int64 nanoseconds since the epoch from (seconds, nanos) without BigInt, exact over the
   * whole DateTime64(9) range (0 ≤ seconds < 2^34): seconds = hi·2^16 + lo, so every partial
   * product stays below 2^53; ns = (hi·1e9)·2^16 + lo·1e9 + nanos. */
  timeNs(seconds: number, nanos: number): void {
    this.ensure(8);
    const sHi = Math.floor(seconds / 0x1_0000),
      sLo = seconds - sHi * 0x1_0000;
    const x = sHi * 1e9; // < 2^48
    const xHi = Math.floor(x / 0x1_0000);
    const t = (x - xHi * 0x1_0000) * 0x1_0000 + sLo * 1e9 + nanos; // < 2^47
    const carry = Math.floor(t / 0x1_0000_0000);
    put32(this.buf, this.pos, t - carry * 0x1_0000_0000);
    put32(this.buf, this.pos + 4, (xHi + carry) >>> 0);
    this.pos += 8;
  }

  private varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** String: varint length + UTF-8 bytes. Short ASCII strings (names, labels, uuids: nearly all
   * of a flow's) are copied char by char, with no lookup, no allocation and no call into the
   * UTF-8 encoder (a cache of encoded bytes, here before, missed on every uuid and allocated);
   * anything else takes the encoder. */
  str(s: string): void {
    const n = s.length;
    if (n < 0x80) {
      this.ensure(1 + n);
      const b = this.buf,
        start = this.pos;
      let p = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.utf8(s);
          return;
        } // nothing is committed until pos moves
        b[p++] = c;
      }
      b[start] = n; // one varint byte: n < 128
      this.pos = p;
      return;
    }
    this.utf8(s);
  }

  private utf8(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + len);
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** String column from raw bytes. */
  bytesField(b: Uint8Array): void {
    this.ensure(5 + b.length);
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  strArray(a: readonly string[]): void {
    this.ensure(5);
    this.varint(a.length);
    for (let i = 0; i < a.length; i++) this.str(a[i]);
  }

  u64Array(a: readonly number[]): void {
    this.ensure(5);
    this.varint(a.length);
    for (let i = 0; i < a.length; i++) this.u64(a[i]);
  }

  /** Bytes as they are (e.g. addresses back to back). */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** IPv6 column: the 16 bytes in network order. */
  ipv6(ip: Uint8Array): void {
    this.ensure(16);
    this.buf.set(ip, this.pos);
    this.pos += 16;
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
}
