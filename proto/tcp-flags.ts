// TCP flags, the one home of their names, bits and orders: flow.TCPFlags field names in the
// order of the TCP header's flag bits (bit i = 1 << i; NS is bit 8, from the data-offset byte),
// and the order in which Hubble joins set flags in a summary.
import type { TCPFlags } from './types.js';

export type TCPFlagName = keyof TCPFlags;

/** Flag names in header bit order: FIN = 0x01, SYN = 0x02, … CWR = 0x80, NS = 0x100. */
export const TCP_FLAG_BITS: readonly TCPFlagName[] = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

/** Hubble's summary order: "TCP Flags: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS". */
export const HUBBLE_TCP_FLAG_ORDER: readonly TCPFlagName[] = ['SYN', 'ACK', 'RST', 'FIN', 'PSH', 'URG', 'ECE', 'CWR', 'NS'];

/** The header bit of a flag name. */
export function tcpFlagBit(name: TCPFlagName): number {
  return 1 << TCP_FLAG_BITS.indexOf(name);
}

/** The header flag bits of a TCPFlags message (the `tcp_flags` column holds them). */
export function tcpFlagsMask(f: TCPFlags | undefined): number {
  let m = 0;
  if (f) for (let i = 0; i < TCP_FLAG_BITS.length; i++) if (f[TCP_FLAG_BITS[i]]) m |= 1 << i;
  return m;
}
