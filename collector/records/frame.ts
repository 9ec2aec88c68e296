// One-call packet construction for the common cases: Ethernet (or bare IP) + IPv4/IPv6 + one L4.
import {
  ETH_IPV4,
  ETH_IPV6,
  ethernet,
  icmpv4,
  icmpv6,
  ipv4,
  ipv6,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_SCTP,
  PROTO_TCP,
  PROTO_UDP,
  sctp,
  tcp,
  udp,
  type IPv6Ext,
} from './packet.js';

export interface FrameSpec {
  src: string;
  dst: string;
  srcMac?: string;
  dstMac?: string;
  /** No Ethernet header (L3 device). */
  l3Only?: boolean;
  tcp?: { sport: number; dport: number; flags: number; seq?: number; ack?: number; payload?: Uint8Array };
  udp?: { sport: number; dport: number; payload?: Uint8Array };
  icmp?: { type: number; code?: number; id?: number; seq?: number };
  sctp?: { sport: number; dport: number };
  ipv6Ext?: IPv6Ext[];
  ttl?: number;
}

export const DEFAULT_SRC_MAC = '0a:58:0a:f4:01:05';
export const DEFAULT_DST_MAC = '0a:58:0a:f4:01:01';

export function frame(s: FrameSpec): Uint8Array {
  const v6 = s.src.includes(':');
  let proto: number;
  let l4: Uint8Array;
  if (s.tcp) {
    proto = PROTO_TCP;
    l4 = tcp(s.tcp, s.tcp.payload, s.src, s.dst);
  } else if (s.udp) {
    proto = PROTO_UDP;
    l4 = udp(s.udp.sport, s.udp.dport, s.udp.payload ?? new Uint8Array(0), s.src, s.dst);
  } else if (s.icmp) {
    proto = v6 ? PROTO_ICMPV6 : PROTO_ICMP;
    l4 = v6
      ? icmpv6(s.icmp.type, s.icmp.code ?? 0, s.icmp.id, s.icmp.seq, undefined, s.src, s.dst)
      : icmpv4(s.icmp.type, s.icmp.code ?? 0, s.icmp.id, s.icmp.seq);
  } else if (s.sctp) {
    proto = PROTO_SCTP;
    l4 = sctp(s.sctp.sport, s.sctp.dport);
  } else throw new Error('frame: one of tcp, udp, icmp, sctp is required');
  const ip = v6
    ? ipv6({ src: s.src, dst: s.dst, nextHeader: proto, hopLimit: s.ttl, ext: s.ipv6Ext }, l4)
    : ipv4({ src: s.src, dst: s.dst, proto, ttl: s.ttl }, l4);
  if (s.l3Only) return ip;
  return ethernet(s.srcMac ?? DEFAULT_SRC_MAC, s.dstMac ?? DEFAULT_DST_MAC, v6 ? ETH_IPV6 : ETH_IPV4, ip);
}
