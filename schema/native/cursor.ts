// Bounds-checked reading of an untrusted block: every read checks the remaining length first,
// so a corrupt buffer ends in a NativeBlockError, never in a RangeError or a huge allocation.
import { NativeBlockError } from './error.js';

const TWO_32 = 0x1_0000_0000;

export class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  /** Throws unless `n` more bytes exist. */
  need(n: number, what: string): void {
    if (n > this.buf.length - this.pos)
      throw new NativeBlockError('truncated', `${what} needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A varuint (ClickHouse reads at most ten bytes); values above 2^53 lose precision, which
   * only matters for lengths and counts that no buffer can satisfy anyway. */
  varuint(what: string): number {
    const b = this.buf,
      end = b.length;
    let p = this.pos,
      v = 0,
      mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw new NativeBlockError('truncated', `${what}: varuint runs past the end at offset ${p}`);
      const x = b[p++];
      v += (x & 0x7f) * mul;
      if (x < 0x80) {
        this.pos = p;
        return v;
      }
      mul *= 128;
    }
    throw new NativeBlockError('varint', `${what}: varuint longer than ten bytes at offset ${this.pos}`);
  }

  /** A little-endian UInt64 as a number (exact below 2^53). */
  u64(what: string): number {
    this.need(8, what);
    const lo = this.buf.readUInt32LE(this.pos),
      hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** Skips `n` String values (varuint length + bytes) without decoding them. */
  skipStrings(n: number, what: string): void {
    // Each value takes at least one byte: a count beyond the remaining bytes cannot fit.
    if (n > this.left) throw new NativeBlockError('truncated', `${what}: ${n} strings cannot fit in ${this.left} bytes`);
    const b = this.buf,
      end = b.length;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      if (p < end && b[p] < 0x80) {
        p += 1 + b[p]; // the common case: a one-byte length
      } else {
        this.pos = p;
        const len = this.varuint(what);
        p = this.pos + len;
      }
      if (p > end) throw new NativeBlockError('truncated', `${what}: string ${i} runs past the end of the block`);
    }
    this.pos = p;
  }

  /** Reads a String value's bytes (a view into the buffer). */
  bytes(what: string): Buffer {
    const n = this.varuint(what);
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
