// A growable buffer that writes ClickHouse's RowBinary encoding: the insert format the engine
// parses fastest after Native, and one we can produce straight from a Flow without building
// intermediate strings (docs/storage.md has the measurements).

const DEFAULT_CAPACITY = 1 << 16;

// Flow strings repeat (namespaces, pods, labels, node names): their encoded bytes are cached,
// bounded, so the hot path copies bytes instead of running the UTF-8 encoder every time.
const CACHE_MAX_ENTRIES = 8192;
const CACHE_MAX_LEN = 96;

/** Encoded bytes (varint length + UTF-8) of short strings, by string. */
export type StringCache = Map<string, Buffer>;

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

export class RowBinaryWriter implements RowSink {
  buf: Buffer;
  pos = 0;
  private readonly cache: StringCache;

  /** `cache` may be shared by several writers (a Native block keeps one writer per column). */
  constructor(capacity = DEFAULT_CAPACITY, cache: StringCache = new Map()) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 64));
    this.cache = cache;
  }

  /** Bytes written so far (a view, valid until the next write). */
  bytes(): Buffer { return this.buf.subarray(0, this.pos); }

  reset(): void { this.pos = 0; }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16LE(v & 0xffff, this.pos); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v | 0, this.pos); this.pos += 4; }

  /** UInt64 from a non-negative safe integer (larger values are clamped by the caller). */
  u64(v: number): void {
    this.ensure(8);
    const lo = v % 0x1_0000_0000;
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(Math.floor(v / 0x1_0000_0000) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** Int64 nanoseconds since the epoch from (seconds, nanos) without BigInt, exact over the
   * whole DateTime64(9) range (0 ≤ seconds < 2^34): seconds = hi·2^16 + lo, so every partial
   * product stays below 2^53; ns = (hi·1e9)·2^16 + lo·1e9 + nanos. */
  timeNs(seconds: number, nanos: number): void {
    this.ensure(8);
    const sHi = Math.floor(seconds / 0x1_0000), sLo = seconds - sHi * 0x1_0000;
    const x = sHi * 1e9; // < 2^48
    const xHi = Math.floor(x / 0x1_0000);
    const t = (x - xHi * 0x1_0000) * 0x1_0000 + sLo * 1e9 + nanos; // < 2^47
    const carry = Math.floor(t / 0x1_0000_0000);
    this.buf.writeUInt32LE(t - carry * 0x1_0000_0000, this.pos);
    this.buf.writeUInt32LE((xHi + carry) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  private varint(n: number): void {
    while (n >= 0x80) { this.buf[this.pos++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
    this.buf[this.pos++] = n;
  }

  /** String: varint length + UTF-8 bytes. Short strings are written in place (no byteLength pass). */
  str(s: string): void {
    const n = s.length;
    if (n === 0) { this.ensure(1); this.buf[this.pos++] = 0; return; }
    if (n <= CACHE_MAX_LEN) {
      let enc = this.cache.get(s);
      if (enc === undefined) {
        if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
        const bytes = Buffer.from(s, 'utf8');
        enc = Buffer.allocUnsafeSlow(bytes.length + 2);
        let o = 0, len = bytes.length;
        while (len >= 0x80) { enc[o++] = (len & 0x7f) | 0x80; len >>>= 7; }
        enc[o++] = len;
        bytes.copy(enc, o);
        enc = enc.subarray(0, o + bytes.length);
        this.cache.set(s, enc);
      }
      const m = enc.length;
      this.ensure(m);
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < m; i++) b[p++] = enc[i];
      this.pos = p;
      return;
    }
    if (n <= 42) {
      // At most 126 UTF-8 bytes: the length fits one varint byte, written after the string.
      this.ensure(1 + 3 * n);
      const written = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = written;
      this.pos += 1 + written;
      return;
    }
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
