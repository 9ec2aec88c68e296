// Records of flowscope's own kernel probe (collector/bpf/flowscope.h) → Hubble Flows. Drops carry
// the packet from its IP header and are decoded by the same PacketDecoder as Cilium records;
// TCP connection events carry the 5-tuple from the socket. Every flow carries a KernelFlowInfo
// extension with the kernel's own drop reason name, bytes, packets and event kind.
import type { CiliumEventType, Emitter, Flow, IP } from '../../proto/types.js';
import { FlowType, TrafficDirection, Verdict } from '../../proto/types.js';
import { packKernelInfo, type KernelFlowInfo } from '../../proto/kernel.js';
import type { RawRecord } from '../source.js';
import { ipv4At, ipv6At, u16le, u32le, u64le } from './format.js';
import { OVERLAY_NONE, PacketDecoder, TCP_FLAGS } from './packet.js';
import { newDecodeStats, type DecodeStats } from './stats.js';
import { newFlow } from './plain-objects.js';
import { TCP_SUMMARY } from './tables.js';
import { parseDNS } from './dns.js';
import { fastUUID } from './uuid.js';
import { FLOWSCOPE_VERSION } from './decoder.js';
import { hubbleDropReason } from './kernel-reasons.js';

export const FS_MSG_KERNEL = 0xf0;
export const FS_KIND_DROP = 1,
  FS_KIND_TCP_OPEN = 2,
  FS_KIND_TCP_CLOSE = 3,
  FS_KIND_UDP = 4;
export const FS_F_IPV6 = 0x01,
  FS_F_INGRESS = 0x02,
  FS_F_EGRESS = 0x04,
  FS_F_PACKET = 0x08;
export const FS_HDR_LEN = 88;

const KIND_NAMES = ['', 'drop', 'tcp_open', 'tcp_close', 'udp'];
const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
];
// Socket-level events are observed where the stack hands packets to/from sockets: egress
// (local process sent) = from-stack, ingress (towards a local socket) = to-stack.
const OBS_FROM_STACK = 8,
  OBS_TO_STACK = 3;
const EVENT_TYPES: CiliumEventType[] = Array.from({ length: 256 }, (_, i) => Object.freeze(i === 0 ? { type: 1 } : { type: 1, sub_type: i }));
const TRACE_FROM_STACK: CiliumEventType = Object.freeze({ type: 4, sub_type: OBS_FROM_STACK });
const TRACE_TO_STACK: CiliumEventType = Object.freeze({ type: 4, sub_type: OBS_TO_STACK });
const TRACE_UNKNOWN: CiliumEventType = Object.freeze({ type: 4 });

export interface KernelDecoderOptions {
  nodeName: string;
  clusterName?: string;
  emitterVersion?: string;
  /** skb_drop_reason names by number on this kernel (kernel-reasons.ts dropReasonNames). */
  dropReasonNames: readonly string[];
  /** Attach DNS parsed from port-53 payloads as l7.dns (as MonitorDecoder's option). */
  l7Dns?: boolean;
  /** CLOCK_MONOTONIC ns → Unix epoch ns offset; measured at construction when absent. */
  monotonicToEpochNs?: number;
  uuid?: () => string;
}

export class KernelDecoder {
  readonly stats: DecodeStats = newDecodeStats();
  private readonly nodeName: string;
  private readonly emitter: Emitter;
  private readonly pkt = new PacketDecoder();
  private readonly names: readonly string[];
  private readonly offsetNs: number;
  private readonly l7Dns: boolean;
  private readonly uuid: () => string;

  constructor(opts: KernelDecoderOptions) {
    this.nodeName = opts.clusterName && opts.clusterName !== 'default' ? `${opts.clusterName}/${opts.nodeName}` : opts.nodeName;
    this.emitter = Object.freeze({ name: 'flowscope', version: opts.emitterVersion ?? FLOWSCOPE_VERSION });
    this.names = opts.dropReasonNames;
    this.offsetNs = opts.monotonicToEpochNs ?? monotonicToEpochOffsetNs();
    this.l7Dns = opts.l7Dns ?? true;
    this.uuid = opts.uuid ?? fastUUID;
  }

  decode(rec: RawRecord): Flow | null {
    const d = rec.data;
    if (d.length === 0) {
      this.stats.truncated++;
      return null;
    }
    if (d[0] !== FS_MSG_KERNEL) {
      this.stats.unknownType++;
      return null;
    }
    if (d.length < FS_HDR_LEN) {
      this.stats.truncated++;
      return null;
    }
    const kind = d[1];
    if (kind < FS_KIND_DROP || kind > FS_KIND_UDP) {
      this.stats.unknownVersion++;
      return null;
    }
    const flags = d[2];
    const v6 = (flags & FS_F_IPV6) !== 0;
    const capLen = u16le(d, 80);
    if ((flags & FS_F_PACKET) !== 0 && FS_HDR_LEN + capLen > d.length) {
      this.stats.badLength++;
      return null;
    }

    const f = newFlow();
    f.verdict = kind === FS_KIND_DROP ? Verdict.DROPPED : Verdict.FORWARDED;
    let packetOk = false;
    if ((flags & FS_F_PACKET) !== 0 && capLen > 0) {
      packetOk = this.pkt.decode(d, FS_HDR_LEN, FS_HDR_LEN + capLen, true, v6, OVERLAY_NONE) && this.pkt.ip !== undefined;
      if (packetOk) {
        f.IP = this.pkt.ip;
        if (this.pkt.l4 !== undefined) f.l4 = this.pkt.l4;
        if (this.pkt.summary !== '') f.Summary = this.pkt.summary;
      }
    }
    const l4proto = d[76];
    if (!packetOk && kind !== FS_KIND_DROP) this.fromTuple(f, d, v6, l4proto, d[3]);

    const reasonCode = u32le(d, 4);
    const info: KernelFlowInfo = { event: KIND_NAMES[kind], bytes: u64le(d, 16), packets: u64le(d, 24) };
    const netns = u32le(d, 36);
    if (netns !== 0) info.netns = netns;
    f.Type = FlowType.L3_L4;
    if (kind === FS_KIND_DROP) {
      const name = this.names[reasonCode] ?? `UNKNOWN_${reasonCode}`;
      info.drop_reason_name = name;
      info.drop_reason_code = reasonCode;
      const hubble = hubbleDropReason(name);
      if (hubble !== 0) {
        f.drop_reason = hubble;
        f.drop_reason_desc = hubble;
      }
      f.event_type = EVENT_TYPES[hubble & 0xff];
    } else {
      f.event_type = (flags & FS_F_EGRESS) !== 0 ? TRACE_FROM_STACK : (flags & FS_F_INGRESS) !== 0 ? TRACE_TO_STACK : TRACE_UNKNOWN;
      if (f.event_type.sub_type !== undefined) f.trace_observation_point = f.event_type.sub_type;
      if (kind === FS_KIND_TCP_OPEN) f.trace_reason = 1; // NEW
      if (kind === FS_KIND_TCP_OPEN || kind === FS_KIND_TCP_CLOSE) {
        info.tcp_old_state = TCP_STATES[d[77]] ?? String(d[77]);
        info.tcp_new_state = TCP_STATES[d[78]] ?? String(d[78]);
      }
    }
    f.traffic_direction =
      (flags & FS_F_EGRESS) !== 0
        ? TrafficDirection.EGRESS
        : (flags & FS_F_INGRESS) !== 0
          ? TrafficDirection.INGRESS
          : TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN;
    f.source = {};
    f.destination = {};
    const ifindex = u32le(d, 32);
    if (ifindex !== 0) f.interface = { index: ifindex };
    if (
      this.l7Dns &&
      packetOk &&
      (this.pkt.l4proto === 17 || this.pkt.l4proto === 6) &&
      (this.pkt.sport === 53 || this.pkt.dport === 53) &&
      this.pkt.payloadEnd > this.pkt.payloadStart
    ) {
      const r = parseDNS(d, this.pkt.payloadStart, this.pkt.payloadEnd, this.pkt.l4proto === 6);
      if (r !== null) f.l7 = { type: r.response ? 2 : 1, dns: r.dns };
    }
    f.extensions = packKernelInfo(info);
    const ns = u64le(d, 8) + this.offsetNs;
    const seconds = Math.floor(ns / 1e9);
    f.time = { seconds, nanos: Math.max(0, Math.min(999_999_999, Math.round(ns - seconds * 1e9))) };
    f.uuid = this.uuid();
    f.emitter = this.emitter;
    f.node_name = this.nodeName;
    this.stats.decoded++;
    return f;
  }

  private fromTuple(f: Flow, d: Uint8Array, v6: boolean, l4proto: number, tcpFlags: number): void {
    const ip: IP = v6
      ? { source: ipv6At(d, 40), destination: ipv6At(d, 56), ipVersion: 2 }
      : { source: ipv4At(d, 40), destination: ipv4At(d, 56), ipVersion: 1 };
    f.IP = ip;
    const sport = u16le(d, 72),
      dport = u16le(d, 74);
    if (l4proto === 6) {
      f.l4 = { TCP: { source_port: sport, destination_port: dport, flags: TCP_FLAGS[tcpFlags] } };
      f.Summary = TCP_SUMMARY[tcpFlags];
    } else if (l4proto === 17) {
      f.l4 = { UDP: { source_port: sport, destination_port: dport } };
      f.Summary = 'UDP';
    }
  }
}

/** Offset from CLOCK_MONOTONIC (bpf_ktime_get_ns, process.hrtime) to the Unix epoch, in ns. */
export function monotonicToEpochOffsetNs(): number {
  const mono = Number(process.hrtime.bigint());
  return Date.now() * 1e6 - mono;
}
