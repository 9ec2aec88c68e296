// Kernel drop reasons (enum skb_drop_reason, named from the running kernel's BTF because the
// numbers change between kernels) → the nearest Hubble DropReason. Only reasons with a clear
// counterpart are mapped; every other drop keeps DROP_REASON_UNKNOWN and its kernel name in
// KernelFlowInfo. See docs/kernel-probe.md for the reasoning per row.
import { enums, enumValue } from '../../proto/index.js';

const TO_HUBBLE: Record<string, string> = {
  NETFILTER_DROP: 'POLICY_DENIED', // an nftables/iptables rule denied it: host firewall policy
  BPF_CGROUP_EGRESS: 'POLICY_DENIED', // a cgroup BPF program (network policy agents) denied egress
  SECURITY_HOOK: 'POLICY_DENIED', // an LSM denied it
  XFRM_POLICY: 'POLICY_DENIED', // IPsec policy check failed
  NO_SOCKET: 'SOCKET_LOOKUP_FAILED', // nothing listening on the destination port
  IP_CSUM: 'INVALID_PACKET_DROPPED',
  TCP_CSUM: 'INVALID_PACKET_DROPPED',
  UDP_CSUM: 'INVALID_PACKET_DROPPED',
  ICMP_CSUM: 'INVALID_PACKET_DROPPED',
  SKB_CSUM: 'INVALID_PACKET_DROPPED',
  PKT_TOO_SMALL: 'INVALID_PACKET_DROPPED',
  IP_INHDR: 'INVALID_PACKET_DROPPED',
  HDR_TRUNC: 'INVALID_PACKET_DROPPED',
  INVALID_PROTO: 'INVALID_PACKET_DROPPED',
  IP_INVALID_SOURCE: 'INVALID_SOURCE_IP',
  IP_LOCAL_SOURCE: 'INVALID_SOURCE_IP',
  IP_RPFILTER: 'INVALID_SOURCE_IP',
  IP_NOPROTO: 'UNKNOWN_L4_PROTOCOL', // no handler for the IP protocol number
  UNHANDLED_PROTO: 'UNSUPPORTED_L3_PROTOCOL',
  IPV6DISABLED: 'UNSUPPORTED_L3_PROTOCOL',
  IPV6_BAD_EXTHDR: 'INVALID_IPV6_EXTENSION_HEADER',
  IP_OUTNOROUTES: 'FIB_LOOKUP_FAILED',
  IP_INNOROUTES: 'FIB_LOOKUP_FAILED',
  NEIGH_FAILED: 'UNKNOWN_L3_TARGET_ADDRESS',
  NEIGH_CREATEFAIL: 'UNKNOWN_L3_TARGET_ADDRESS',
  NEIGH_DEAD: 'UNKNOWN_L3_TARGET_ADDRESS',
  QDISC_OVERLIMIT: 'DROP_RATE_LIMITED',
};

/** The Hubble DropReason number for a kernel reason name (without prefix); 0 when none fits. */
export function hubbleDropReason(kernelName: string): number {
  const h = TO_HUBBLE[kernelName];
  return h === undefined ? 0 : (enumValue(enums.DropReason, h) ?? 0);
}

export const KERNEL_TO_HUBBLE_DROP_REASON: Readonly<Record<string, string>> = Object.freeze({ ...TO_HUBBLE });

/**
 * Reason names by number from `enum skb_drop_reason` as [name, value] pairs (BTF order), with the
 * SKB_DROP_REASON_ prefix removed ("SKB_CONSUMED" and "SKB_NOT_DROPPED_YET" keep theirs).
 */
export function dropReasonNames(pairs: ReadonlyArray<readonly [string, number]>): string[] {
  const names: string[] = [];
  for (const [name, value] of pairs) {
    if (value >= 0 && value < 4096) names[value] = name.startsWith('SKB_DROP_REASON_') ? name.slice(16) : name;
  }
  return names;
}
