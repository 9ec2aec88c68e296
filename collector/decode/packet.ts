// Packet layers after a monitor header, decoded the way Hubble's gopacket DecodingLayerParser
// does it (layers Ethernet, IPv4, IPv6, ICMPv4, ICMPv6, TCP, UDP, SCTP, VRRPv2, IGMPv1/2;
// unsupported layers end the walk without error; a supported layer that is too short is an
// error and the whole event is rejected). One extension over Hubble: IPv6 extension headers
// (routing, fragment, destination options, AH) are skipped so their L4 is still reported;
// gopacket itself only skips hop-by-hop. The decoder object is reused: no per-packet state
// is allocated beyond the Flow sub-objects it returns.
import type { Ethernet, ICMP, IP, Layer4, TCPFlags, Tunnel } from '../../proto/types.js';
import { ipv4At, ipv6At, macAt, u16be } from './format.js';
import { icmpv4Summary, icmpv6Summary } from './icmp.js';
import { TCP_SUMMARY } from './tables.js';

const enum L {
  NONE,
  ETH,
  IPV4,
  IPV6,
  TCP,
  UDP,
  SCTP,
  ICMP4,
  ICMP6,
  VRRP,
  IGMP,
}

/** Overlay kind from the monitor flags. */
export const OVERLAY_NONE = 0,
  OVERLAY_VXLAN = 1,
  OVERLAY_GENEVE = 2;

// TCP flag objects are shared and frozen: 512 combinations, no allocation per packet.
export const TCP_FLAGS: readonly TCPFlags[] = Array.from({ length: 512 }, (_, m) => {
  const f: TCPFlags = {};
  if (m & 0x01) f.FIN = true;
  if (m & 0x02) f.SYN = true;
  if (m & 0x04) f.RST = true;
  if (m & 0x08) f.PSH = true;
  if (m & 0x10) f.ACK = true;
  if (m & 0x20) f.URG = true;
  if (m & 0x40) f.ECE = true;
  if (m & 0x80) f.CWR = true;
  if (m & 0x100) f.NS = true;
  return Object.freeze(f);
});

function vrrpTypeName(t: number): string {
  return t === 1 ? 'VRRPv2 Advertisement' : '';
}
function igmpTypeName(t: number): string {
  switch (t) {
    case 0x11:
      return 'IGMP Membership Query';
    case 0x12:
      return 'IGMPv1 Membership Report';
    case 0x16:
      return 'IGMPv2 Membership Report';
    case 0x17:
      return 'Leave Group';
    case 0x22:
      return 'IGMPv3 Membership Report';
    default:
      return '';
  }
}

function nextForProto(p: number): L {
  switch (p) {
    case 6:
      return L.TCP;
    case 17:
      return L.UDP;
    case 1:
      return L.ICMP4;
    case 58:
      return L.ICMP6;
    case 132:
      return L.SCTP;
    case 4:
      return L.IPV4;
    case 41:
      return L.IPV6;
    case 112:
      return L.VRRP;
    case 2:
      return L.IGMP;
    default:
      return L.NONE;
  }
}

/** An ICMP header's type and code as protobuf holds them: a zero is absent (proto3 gives them no
 * presence, so a zero is not on the wire and hubble's JSON omits it). An explicit `code: 0` on
 * every echo also made the flow one the columns cannot hold, and storing it took the general path. */
function icmpHeader(type: number, code: number): ICMP {
  if (code !== 0) return type !== 0 ? { type, code } : { code };
  return type !== 0 ? { type } : {};
}

export class PacketDecoder {
  ethernet: Ethernet | undefined;
  ip: IP | undefined;
  l4: Layer4 | undefined;
  tunnel: Tunnel | undefined;
  /** Hubble Summary; '' when no layer was decoded. */
  summary = '';
  /** 6 TCP, 17 UDP, else 0: tells the caller whether payloadStart/End hold an L4 payload. */
  l4proto = 0;
  sport = 0;
  dport = 0;
  payloadStart = 0;
  payloadEnd = 0;
  // Outer UDP payload bounds, for the overlay step.
  private udpStart = -1;
  private udpEnd = -1;

  /**
   * Decodes `d[off:end]`. Returns false when a supported layer is malformed (Hubble rejects the
   * event); true otherwise, with the fields above set (all undefined for an empty packet).
   */
  decode(d: Uint8Array, off: number, end: number, l3Device: boolean, ipv6: boolean, overlay: number): boolean {
    this.ethernet = undefined;
    this.ip = undefined;
    this.l4 = undefined;
    this.tunnel = undefined;
    this.summary = '';
    this.l4proto = 0;
    this.sport = 0;
    this.dport = 0;
    this.payloadStart = 0;
    this.payloadEnd = 0;
    this.udpStart = -1;
    this.udpEnd = -1;
    if (end <= off) return true;
    const first = !l3Device ? L.ETH : ipv6 ? L.IPV6 : L.IPV4;
    if (!this.walk(d, off, end, first)) return false;
    if (overlay === OVERLAY_NONE || this.udpStart < 0) return true;
    return this.decodeOverlay(d, overlay);
  }

  private decodeOverlay(d: Uint8Array, overlay: number): boolean {
    const s = this.udpStart,
      e = this.udpEnd;
    if (e - s < 8) return false;
    let vni: number, inner: L, innerOff: number;
    if (overlay === OVERLAY_VXLAN) {
      vni = (d[s + 4] << 16) | (d[s + 5] << 8) | d[s + 6];
      inner = L.ETH;
      innerOff = s + 8;
    } else {
      const optLen = (d[s] & 0x3f) * 4;
      if (e - s < 8 + optLen) return false;
      vni = (d[s + 4] << 16) | (d[s + 5] << 8) | d[s + 6];
      const proto = u16be(d, s + 2);
      inner = proto === 0x6558 ? L.ETH : proto === 0x0800 ? L.IPV4 : proto === 0x86dd ? L.IPV6 : L.NONE;
      innerOff = s + 8 + optLen;
    }
    this.tunnel = { protocol: overlay, IP: this.ip, l4: this.l4, vni };
    this.ethernet = undefined;
    this.ip = undefined;
    this.l4 = undefined;
    this.summary = '';
    this.l4proto = 0;
    this.sport = 0;
    this.dport = 0;
    this.payloadStart = 0;
    this.payloadEnd = 0;
    if (inner === L.NONE || innerOff >= e) return true;
    return this.walk(d, innerOff, e, inner);
  }

  private walk(d: Uint8Array, o: number, end: number, layer: L): boolean {
    while (layer !== L.NONE) {
      const n = end - o;
      switch (layer) {
        case L.ETH: {
          if (n < 14) return false;
          this.ethernet = { source: macAt(d, o + 6), destination: macAt(d, o) };
          this.summary = 'Ethernet';
          const et = u16be(d, o + 12);
          o += 14;
          layer = et === 0x0800 ? L.IPV4 : et === 0x86dd ? L.IPV6 : L.NONE;
          break;
        }
        case L.IPV4: {
          if (n < 20) return false;
          const ihl = (d[o] & 0x0f) * 4;
          let len = u16be(d, o + 2);
          if (len === 0) len = n; // TSO/GSO frames carry 0 in the total length
          if (len < 20 || ihl < 20 || ihl > len) return false;
          if (ihl > n) return false;
          if (len < n) end = o + len;
          this.ip = { source: ipv4At(d, o + 12), destination: ipv4At(d, o + 16), ipVersion: 1 };
          this.summary = 'IPv4';
          const frag = u16be(d, o + 6);
          // gopacket hands any fragment (MF set or offset ≠ 0) to its Fragment layer: no L4.
          layer = (frag & 0x3fff) !== 0 ? L.NONE : nextForProto(d[o + 9]);
          o += ihl;
          break;
        }
        case L.IPV6: {
          if (n < 40) return false;
          const plen = u16be(d, o + 4);
          if (plen !== 0 && 40 + plen < n) end = o + 40 + plen;
          this.ip = { source: ipv6At(d, o + 8), destination: ipv6At(d, o + 24), ipVersion: 2 };
          this.summary = 'IPv6';
          let nh = d[o + 6];
          o += 40;
          // Extension headers: hop-by-hop 0, routing 43, fragment 44, destination options 60, AH 51.
          for (;;) {
            if (nh === 0 || nh === 43 || nh === 60) {
              if (end - o < 8) {
                nh = 59;
                break;
              }
              const next = d[o];
              o += (d[o + 1] + 1) * 8;
              nh = next;
            } else if (nh === 44) {
              if (end - o < 8) {
                nh = 59;
                break;
              }
              const next = d[o];
              // Only the first fragment carries the L4 header.
              if ((u16be(d, o + 2) & 0xfff8) !== 0) {
                nh = 59;
                break;
              }
              o += 8;
              nh = next;
            } else if (nh === 51) {
              if (end - o < 8) {
                nh = 59;
                break;
              }
              const next = d[o];
              o += (d[o + 1] + 2) * 4;
              nh = next;
            } else break;
          }
          layer = o > end ? L.NONE : nextForProto(nh);
          break;
        }
        case L.TCP: {
          if (n < 20) return false;
          const doff = (d[o + 12] >> 4) * 4;
          if (doff < 20) return false;
          const mask = d[o + 13] | ((d[o + 12] & 1) << 8);
          this.sport = u16be(d, o);
          this.dport = u16be(d, o + 2);
          this.l4 = { TCP: { source_port: this.sport, destination_port: this.dport, flags: TCP_FLAGS[mask] } };
          this.summary = TCP_SUMMARY[mask];
          this.l4proto = 6;
          this.payloadStart = doff > n ? end : o + doff;
          this.payloadEnd = end;
          layer = L.NONE;
          break;
        }
        case L.UDP: {
          if (n < 8) return false;
          const ulen = u16be(d, o + 4);
          if (ulen !== 0 && ulen < 8) return false;
          const pe = ulen === 0 || o + ulen > end ? end : o + ulen;
          this.sport = u16be(d, o);
          this.dport = u16be(d, o + 2);
          this.l4 = { UDP: { source_port: this.sport, destination_port: this.dport } };
          this.summary = 'UDP';
          this.l4proto = 17;
          this.payloadStart = o + 8;
          this.payloadEnd = pe;
          this.udpStart = o + 8;
          this.udpEnd = pe;
          layer = L.NONE;
          break;
        }
        case L.SCTP: {
          if (n < 12) return false;
          this.sport = u16be(d, o);
          this.dport = u16be(d, o + 2);
          this.l4 = { SCTP: { source_port: this.sport, destination_port: this.dport } };
          this.summary = 'SCTP';
          layer = L.NONE;
          break;
        }
        case L.ICMP4: {
          if (n < 8) return false;
          this.l4 = { ICMPv4: icmpHeader(d[o], d[o + 1]) };
          this.summary = icmpv4Summary(d[o], d[o + 1]);
          layer = L.NONE;
          break;
        }
        case L.ICMP6: {
          if (n < 4) return false;
          this.l4 = { ICMPv6: icmpHeader(d[o], d[o + 1]) };
          this.summary = icmpv6Summary(d[o], d[o + 1]);
          layer = L.NONE;
          break;
        }
        case L.VRRP: {
          if (n < 8) return false;
          const t = d[o] & 0x0f;
          this.l4 = { VRRP: { type: t, vrid: d[o + 1], priority: d[o + 2] } };
          this.summary = 'VRRP ' + vrrpTypeName(t);
          layer = L.NONE;
          break;
        }
        case L.IGMP: {
          if (n < 8) return false;
          this.l4 = { IGMP: { type: d[o], group_address: ipv4At(d, o + 4) } };
          this.summary = 'IGMP ' + igmpTypeName(d[o]);
          layer = L.NONE;
          break;
        }
        default:
          layer = L.NONE;
      }
    }
    return true;
  }
}
