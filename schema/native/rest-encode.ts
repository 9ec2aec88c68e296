// The `rest` column of a flow the columns hold but for a few top-level fields (plain-row.ts,
// PlainWithRest): those fields as an encoded Flow. A decoder's such flows carry `tunnel` (the
// outer headers of an overlay packet) and `file` (a drop's source location) and nothing else, so
// these two are written here straight into a scratch buffer, with the bytes protobufjs writes
// (fields in number order, a present field written even when zero, null and undefined skipped).
// Any other field or value shape goes to protobufjs: rest-encode.test.ts compares the two.
import { types } from '../../proto/index.js';
import type { FileInfo, IP, Tunnel } from '../../proto/types.js';
import { varuintSize, writeVaruint } from './writer.js';

// Flow.file = 38, Flow.tunnel = 39; wire type 2 (length-delimited) unless noted.
const TAG_FILE = (38 << 3) | 2;
const TAG_TUNNEL = (39 << 3) | 2;

const U32_MAX = 0xffff_ffff;

function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

/** An enum or int32 field protobufjs writes as a plain varint: 0 ≤ v < 2^31. */
function isEnum(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fff_ffff;
}

/** Sizes fields as they are about to be written; a value this writer does not take clears `ok`
 * (the caller then uses protobufjs). Strings must be ASCII: protobufjs and Buffer differ on
 * unpaired surrogates, and no address or file name has anything else. */
class Sizer {
  ok = true;
  reset(): this {
    this.ok = true;
    return this;
  }
  str(s: unknown): number {
    if (s == null) return 0;
    if (typeof s !== 'string' || Buffer.byteLength(s, 'utf8') !== s.length) return this.fail();
    return 1 + varuintSize(s.length) + s.length;
  }
  u32(s: unknown): number {
    if (s == null) return 0;
    return isU32(s) ? 1 + varuintSize(s) : this.fail();
  }
  enum(s: unknown): number {
    if (s == null) return 0;
    return isEnum(s) ? 1 + varuintSize(s) : this.fail();
  }
  bool(s: unknown): number {
    if (s == null) return 0;
    return typeof s === 'boolean' ? 2 : this.fail();
  }
  /** A nested message of `body` bytes (tag < 16), or nothing when absent. */
  msg(present: boolean, body: number): number {
    return present ? 1 + varuintSize(body) + body : 0;
  }
  fail(): number {
    this.ok = false;
    return 0;
  }
}

const IP_KEYS = new Set(['source', 'destination', 'ipVersion', 'encrypted', 'source_xlated']);
const TUNNEL_KEYS = new Set(['protocol', 'IP', 'l4', 'vni']);
const FILE_KEYS = new Set(['name', 'line']);
const UDP_ONLY = new Set(['UDP']);
const PORT_KEYS = new Set(['source_port', 'destination_port']);

/** A plain object (an own-fields literal) whose keys are all in `keys`. */
function onlyKeys(o: object, keys: ReadonlySet<string>): boolean {
  if (typeof o !== 'object' || o === null || Object.getPrototypeOf(o) !== Object.prototype) return false;
  for (const k in o) if (!keys.has(k)) return false;
  return true;
}

/** Writes fields into `out` from `p` on. */
class Writer {
  p = 0;
  private out: Buffer = Buffer.alloc(0);
  reset(out: Buffer): this {
    this.out = out;
    this.p = 0;
    return this;
  }
  varint(v: number): void {
    this.p = writeVaruint(this.out, this.p, v);
  }
  str(tag: number, s: string | undefined | null): void {
    if (s == null) return;
    this.varint(tag);
    this.varint(s.length);
    this.p += this.out.write(s, this.p, s.length, 'latin1');
  }
  u32(tag: number, v: number | undefined | null): void {
    if (v == null) return;
    this.varint(tag);
    this.varint(v);
  }
  bool(tag: number, v: boolean | undefined | null): void {
    if (v == null) return;
    this.out[this.p++] = tag;
    this.out[this.p++] = v ? 1 : 0;
  }
  head(tag: number, len: number): void {
    this.varint(tag);
    this.varint(len);
  }
}

// One of each, reused: a call runs to completion before the next.
const sizer = new Sizer();
const writer = new Writer();

/**
 * The encoded Flow { file, tunnel } (either may be undefined), or null when one of them holds
 * what this writer does not take: other fields, a Layer4 other than UDP, a non-ASCII string,
 * a number out of its field's range.
 */
export function encodeFileTunnel(file: FileInfo | undefined, tunnel: Tunnel | undefined): Uint8Array | null {
  const s = sizer.reset();
  let fileBody = 0,
    tunnelBody = 0,
    ipBody = 0,
    l4Body = 0,
    udpBody = 0;
  if (file != null) {
    if (!onlyKeys(file, FILE_KEYS)) return null;
    fileBody = s.str(file.name) + s.u32(file.line);
  }
  const ip: IP | null | undefined = tunnel?.IP;
  const udp = tunnel?.l4?.UDP;
  if (tunnel != null) {
    if (!onlyKeys(tunnel, TUNNEL_KEYS)) return null;
    if (ip != null) {
      if (!onlyKeys(ip, IP_KEYS)) return null;
      ipBody = s.str(ip.source) + s.str(ip.destination) + s.enum(ip.ipVersion) + s.bool(ip.encrypted) + s.str(ip.source_xlated);
    }
    if (tunnel.l4 != null) {
      if (!onlyKeys(tunnel.l4, UDP_ONLY)) return null;
      if (udp != null) {
        if (!onlyKeys(udp, PORT_KEYS)) return null;
        udpBody = s.u32(udp.source_port) + s.u32(udp.destination_port);
      }
      l4Body = s.msg(udp != null, udpBody);
    }
    tunnelBody = s.enum(tunnel.protocol) + s.msg(ip != null, ipBody) + s.msg(tunnel.l4 != null, l4Body) + s.u32(tunnel.vni);
  }
  if (!s.ok) return null;
  // Flow.file and Flow.tunnel have two-byte tags.
  const size = (file != null ? 1 + s.msg(true, fileBody) : 0) + (tunnel != null ? 1 + s.msg(true, tunnelBody) : 0);
  const out = Buffer.allocUnsafe(size);
  const w = writer.reset(out);
  if (file != null) {
    w.head(TAG_FILE, fileBody);
    w.str(10, file.name);
    w.u32(16, file.line);
  }
  if (tunnel != null) {
    w.head(TAG_TUNNEL, tunnelBody);
    w.u32(8, tunnel.protocol);
    if (ip != null) {
      w.head(18, ipBody);
      w.str(10, ip.source);
      w.str(18, ip.destination);
      w.u32(24, ip.ipVersion);
      w.bool(32, ip.encrypted);
      w.str(42, ip.source_xlated);
    }
    if (tunnel.l4 != null) {
      w.head(26, l4Body);
      if (udp != null) {
        w.head(18, udpBody);
        w.u32(8, udp.source_port);
        w.u32(16, udp.destination_port);
      }
    }
    w.u32(32, tunnel.vni);
  }
  if (w.p !== size) throw new Error(`encodeFileTunnel(): wrote ${w.p} of ${size} bytes`); // a bug here, never bad input
  return out;
}

/** The encoded Flow of `f`'s first `count` keys in `keys` (own fields only). */
export function encodeRest(f: Record<string, unknown>, keys: readonly string[], count: number): Uint8Array {
  let file: unknown, tunnel: unknown;
  let fast = true;
  for (let i = 0; i < count && fast; i++) {
    const k = keys[i];
    if (!Object.hasOwn(f, k)) continue;
    if (k === 'file') file = f[k];
    else if (k === 'tunnel') tunnel = f[k];
    else fast = false;
  }
  if (fast) {
    const b = encodeFileTunnel(file as FileInfo | undefined, tunnel as Tunnel | undefined);
    if (b !== null) return b;
  }
  const rest: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const k = keys[i];
    if (Object.hasOwn(f, k)) rest[k] = f[k];
  }
  return types.Flow.encode(rest).finish();
}
