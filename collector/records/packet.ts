// Packet builders: each layer takes its payload and returns the bytes with its header in front,
// checksums included, so tests and the synthetic source produce packets a real stack would accept.
import { ipv4Bytes, ipv6Bytes, macBytes } from './addr.js';

export const ETH_IPV4 = 0x0800,
  ETH_IPV6 = 0x86dd;
export const PROTO_ICMP = 1,
  PROTO_TCP = 6,
  PROTO_UDP = 17,
  PROTO_ICMPV6 = 58,
  PROTO_SCTP = 132;

/** TCP flag bits as on the wire. */
export const FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80;

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, (v >>> 16) & 0xffff);
  put16(b, o + 2, v & 0xffff);
}

function sum16(b: Uint8Array, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (b.length & 1) acc += b[b.length - 1] << 8;
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/** Pseudo-header checksum over an L4 segment; the IPv4 and IPv6 pseudo-headers sum the same fields. */
function l4Checksum(src: Uint8Array, dst: Uint8Array, proto: number, seg: Uint8Array): number {
  const acc = sum16(src) + sum16(dst) + proto + seg.length;
  return fold(sum16(seg, acc));
}

export function ethernet(src: string, dst: string, etherType: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(14);
  h.set(macBytes(dst), 0);
  h.set(macBytes(src), 6);
  put16(h, 12, etherType);
  return concat(h, payload);
}

export interface IPv4Opts {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  moreFragments?: boolean;
  fragOffset?: number;
  dontFragment?: boolean;
}

export function ipv4(o: IPv4Opts, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = 0x45;
  put16(h, 2, 20 + payload.length);
  put16(h, 4, o.id ?? 0);
  put16(h, 6, ((o.dontFragment ?? true) && !o.moreFragments ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff));
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.set(ipv4Bytes(o.src), 12);
  h.set(ipv4Bytes(o.dst), 16);
  put16(h, 10, fold(sum16(h)));
  return concat(h, payload);
}

/** An IPv6 extension header to insert between the fixed header and the payload. */
export interface IPv6Ext {
  type: 0 | 43 | 44 | 60 | 51;
  fragOffset?: number;
}

export interface IPv6Opts {
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit?: number;
  ext?: IPv6Ext[];
}

export function ipv6(o: IPv6Opts, payload: Uint8Array): Uint8Array {
  const exts = o.ext ?? [];
  const extBytes: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1].type : o.nextHeader;
    const e = exts[i];
    if (e.type === 44) {
      const b = new Uint8Array(8);
      b[0] = next;
      put16(b, 2, ((e.fragOffset ?? 0) << 3) & 0xfff8);
      put32(b, 4, 0x1234);
      extBytes.push(b);
    } else if (e.type === 51) {
      const b = new Uint8Array(12);
      b[0] = next;
      b[1] = 1; // (1 + 2) * 4 = 12 bytes
      extBytes.push(b);
    } else {
      const b = new Uint8Array(8);
      b[0] = next;
      b[1] = 0;
      b[2] = 1;
      b[3] = 4; // PadN option filling 8 bytes
      extBytes.push(b);
    }
  }
  const body = concat(...extBytes, payload);
  const h = new Uint8Array(40);
  h[0] = 0x60;
  put16(h, 4, body.length);
  h[6] = exts.length > 0 ? exts[0].type : o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  h.set(ipv6Bytes(o.src), 8);
  h.set(ipv6Bytes(o.dst), 24);
  return concat(h, body);
}

export interface TCPOpts {
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
  window?: number;
  ns?: boolean;
}

/** TCP segment; pass src/dst to compute the checksum. */
export function tcp(o: TCPOpts, payload: Uint8Array = new Uint8Array(0), src?: string, dst?: string): Uint8Array {
  const h = new Uint8Array(20);
  put16(h, 0, o.sport);
  put16(h, 2, o.dport);
  put32(h, 4, o.seq ?? 0);
  put32(h, 8, o.ack ?? 0);
  h[12] = (5 << 4) | (o.ns ? 1 : 0);
  h[13] = o.flags & 0xff;
  put16(h, 14, o.window ?? 64240);
  const seg = concat(h, payload);
  if (src && dst) put16(seg, 16, l4Checksum(addr(src), addr(dst), PROTO_TCP, seg));
  return seg;
}

export function udp(sport: number, dport: number, payload: Uint8Array, src?: string, dst?: string): Uint8Array {
  const h = new Uint8Array(8);
  put16(h, 0, sport);
  put16(h, 2, dport);
  put16(h, 4, 8 + payload.length);
  const seg = concat(h, payload);
  if (src && dst) put16(seg, 6, l4Checksum(addr(src), addr(dst), PROTO_UDP, seg) || 0xffff);
  return seg;
}

export function sctp(sport: number, dport: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new Uint8Array(12);
  put16(h, 0, sport);
  put16(h, 2, dport);
  put32(h, 4, 0xcafe);
  return concat(h, payload);
}

export function icmpv4(type: number, code: number, id = 0, seq = 0, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = type;
  h[1] = code;
  put16(h, 4, id);
  put16(h, 6, seq);
  const m = concat(h, payload);
  put16(m, 2, fold(sum16(m)));
  return m;
}

export function icmpv6(type: number, code: number, id = 0, seq = 0, payload: Uint8Array = new Uint8Array(0), src?: string, dst?: string): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = type;
  h[1] = code;
  put16(h, 4, id);
  put16(h, 6, seq);
  const m = concat(h, payload);
  if (src && dst) put16(m, 2, l4Checksum(ipv6Bytes(src), ipv6Bytes(dst), PROTO_ICMPV6, m));
  return m;
}

/** VXLAN header (I flag set) in front of an inner Ethernet frame. */
export function vxlan(vni: number, innerFrame: Uint8Array): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = 0x08;
  h[4] = (vni >> 16) & 0xff;
  h[5] = (vni >> 8) & 0xff;
  h[6] = vni & 0xff;
  return concat(h, innerFrame);
}

/** Geneve header (no options unless given) carrying an inner Ethernet frame (protocol 0x6558). */
export function geneve(vni: number, innerFrame: Uint8Array, options: Uint8Array = new Uint8Array(0), protocol = 0x6558): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = (options.length / 4) & 0x3f;
  put16(h, 2, protocol);
  h[4] = (vni >> 16) & 0xff;
  h[5] = (vni >> 8) & 0xff;
  h[6] = vni & 0xff;
  return concat(h, options, innerFrame);
}

function addr(s: string): Uint8Array {
  return s.includes(':') ? ipv6Bytes(s) : ipv4Bytes(s);
}

export { concat };
