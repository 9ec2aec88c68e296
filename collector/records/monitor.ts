// Byte-exact Cilium monitor records (bpf/lib/{drop,trace,policy_log,notify}.h layouts, little-endian
// host order), one encoder per struct and version. The packet is appended after the header the
// way ctx_event_output does: at most `capLen` bytes (TRACE_PAYLOAD_LEN = 128 by default), with
// len_orig = full packet length; `perfPad` adds the perf ring's 8-byte alignment padding.
import { ipBytes, isIPv6 } from './addr.js';

export const TRACE_PAYLOAD_LEN = 128;

export interface CaptureOpts {
  /** Bytes of the packet to capture (default 128). */
  capLen?: number;
  /** Pad like a perf sample: (4 + length) rounded up to a multiple of 8. */
  perfPad?: boolean;
}

interface Common {
  source?: number;
  hash?: number;
}

function finish(hdr: Uint8Array, packet: Uint8Array, o: CaptureOpts): Uint8Array {
  const cap = Math.min(packet.length, o.capLen ?? TRACE_PAYLOAD_LEN);
  let len = hdr.length + cap;
  if (o.perfPad) len = Math.ceil((len + 4) / 8) * 8 - 4;
  const out = new Uint8Array(len);
  out.set(hdr, 0);
  out.set(packet.subarray(0, cap), hdr.length);
  const v = new DataView(out.buffer);
  v.setUint32(8, packet.length, true);
  v.setUint16(12, cap, true);
  return out;
}

function header(len: number, type: number, subtype: number, c: Common): [Uint8Array, DataView] {
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  b[0] = type;
  b[1] = subtype;
  v.setUint16(2, c.source ?? 0, true);
  v.setUint32(4, c.hash ?? 0, true);
  return [b, v];
}

function setU64(v: DataView, o: number, n: number): void {
  v.setUint32(o, n % 0x100000000, true);
  v.setUint32(o + 4, Math.floor(n / 0x100000000), true);
}

/** Flag bits of DropNotify v2+ and TraceNotify. */
export const FLAG_IPV6 = 0x01,
  FLAG_L3_DEVICE = 0x02,
  FLAG_VXLAN = 0x04,
  FLAG_GENEVE = 0x08;

export interface DropOpts extends Common, CaptureOpts {
  version?: 0 | 1 | 2 | 3;
  /** Positive drop code (e.g. 133). */
  reason: number;
  srcLabel?: number;
  dstLabel?: number;
  dstId?: number;
  line?: number;
  file?: number;
  extError?: number;
  ifindex?: number;
  flags?: number;
  ipTraceId?: number;
}

export function encodeDrop(o: DropOpts, packet: Uint8Array): Uint8Array {
  const ver = o.version ?? 3;
  const len = ver < 2 ? 36 : ver === 2 ? 40 : 48;
  const [b, v] = header(len, 1, o.reason, o);
  b[14] = ver;
  v.setUint32(16, o.srcLabel ?? 0, true);
  v.setUint32(20, o.dstLabel ?? 0, true);
  v.setUint32(24, o.dstId ?? 0, true);
  v.setUint16(28, o.line ?? 0, true);
  b[30] = o.file ?? 0;
  v.setInt8(31, o.extError ?? 0);
  v.setUint32(32, o.ifindex ?? 0, true);
  if (ver >= 2) b[36] = o.flags ?? 0;
  if (ver >= 3) setU64(v, 40, o.ipTraceId ?? 0);
  return finish(b, packet, o);
}

export interface TraceOpts extends Common, CaptureOpts {
  version?: 0 | 1 | 2;
  /** Observation point (datapath code: 0 to-endpoint, 5 from-endpoint, 3 to-stack …). */
  obsPoint: number;
  srcLabel?: number;
  dstLabel?: number;
  dstId?: number;
  /** Datapath trace reason (0 new, 1 established, 2 reply, …), optionally | 0x80 (encrypted). */
  reason?: number;
  flags?: number;
  ifindex?: number;
  /** Pre-SNAT source address (v1+). */
  origIp?: string;
  ipTraceId?: number;
}

export function encodeTrace(o: TraceOpts, packet: Uint8Array): Uint8Array {
  const ver = o.version ?? 2;
  const len = ver === 0 ? 32 : ver === 1 ? 48 : 56;
  const [b, v] = header(len, 4, o.obsPoint, o);
  b[14] = ver;
  v.setUint32(16, o.srcLabel ?? 0, true);
  v.setUint32(20, o.dstLabel ?? 0, true);
  v.setUint16(24, o.dstId ?? 0, true);
  b[26] = o.reason ?? 0;
  b[27] = o.flags ?? 0;
  v.setUint32(28, o.ifindex ?? 0, true);
  if (ver >= 1 && o.origIp) b.set(ipBytes(o.origIp), 32);
  if (ver >= 2) setU64(v, 48, o.ipTraceId ?? 0);
  return finish(b, packet, o);
}

export interface PolicyVerdictOpts extends Common, CaptureOpts {
  /** 'current' = 40-byte header with cookie, 'old' = 32-byte header. */
  layout?: 'current' | 'old';
  subType?: number;
  remoteLabel: number;
  /** 0 allowed, > 0 proxy port (redirect), < 0 minus the drop code. */
  verdict: number;
  dstPort?: number;
  proto?: number;
  ingress: boolean;
  ipv6?: boolean;
  matchType?: number;
  audited?: boolean;
  l3Device?: boolean;
  authType?: number;
  cookie?: number;
}

export function encodePolicyVerdict(o: PolicyVerdictOpts, packet: Uint8Array): Uint8Array {
  const len = o.layout === 'old' ? 32 : 40;
  const [b, v] = header(len, 5, o.subType ?? 0, o);
  v.setUint32(16, o.remoteLabel, true);
  v.setInt32(20, o.verdict, true);
  v.setUint16(24, o.dstPort ?? 0, true);
  b[26] = o.proto ?? 0;
  b[27] = (o.ingress ? 1 : 2) | (o.ipv6 ? 0x04 : 0) | (((o.matchType ?? 0) & 7) << 3) | (o.audited ? 0x40 : 0) | (o.l3Device ? 0x80 : 0);
  b[28] = o.authType ?? 0;
  if (len === 40) v.setUint32(32, o.cookie ?? 0, true);
  return finish(b, packet, o);
}

export interface DebugCaptureOpts extends Common, CaptureOpts {
  point: number;
  arg1?: number;
  arg2?: number;
}

export function encodeDebugCapture(o: DebugCaptureOpts, packet: Uint8Array): Uint8Array {
  const [b, v] = header(24, 3, o.point, o);
  v.setUint32(16, o.arg1 ?? 0, true);
  v.setUint32(20, o.arg2 ?? 0, true);
  return finish(b, packet, o);
}

export interface TraceSockOpts {
  point: number;
  dstIp: string;
  dstPort: number;
  cookie?: number;
  cgroupId?: number;
  proto: 0 | 1 | 2;
}

/** trace_sock_notify: packed 38 bytes, no packet. */
export function encodeTraceSock(o: TraceSockOpts): Uint8Array {
  const b = new Uint8Array(38);
  const v = new DataView(b.buffer);
  b[0] = 7;
  b[1] = o.point;
  b.set(ipBytes(o.dstIp), 2);
  v.setUint16(18, o.dstPort, true);
  setU64(v, 20, o.cookie ?? 0);
  setU64(v, 28, o.cgroupId ?? 0);
  b[36] = o.proto;
  b[37] = isIPv6(o.dstIp) ? 1 : 0;
  return b;
}
