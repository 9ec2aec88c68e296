// Small lookup tables from pkg/monitor/api: BPF source file ids (files.go) and TCP flag summaries.

const FILES: Record<number, string> = {
  1: 'bpf_host.c', 2: 'bpf_lxc.c', 3: 'bpf_overlay.c', 4: 'bpf_xdp.c', 5: 'bpf_sock.c', 6: 'bpf_network.c',
  7: 'bpf_wireguard.c',
  101: 'drop.h', 102: 'srv6.h', 103: 'icmp6.h', 104: 'nodeport.h', 105: 'lb.h', 106: 'mcast.h', 107: 'ipv4.h',
  108: 'conntrack.h', 109: 'local_delivery.h', 110: 'trace.h', 111: 'encap.h', 112: 'host_firewall.h',
  113: 'nodeport_egress.h', 114: 'ipv6.h', 115: 'classifiers.h',
};

const FILE_NAMES: string[] = Array.from({ length: 256 }, (_, id) => FILES[id] ?? `unknown(${id})`);

/** monitorAPI.BPFFileName: file id → name, `unknown(<id>)` when the id is not in the table. */
export function bpfFileName(id: number): string {
  return FILE_NAMES[id & 0xff];
}

/** TCP flag bits in the order of the TCP header's flag byte plus NS (bit 8 = data offset byte bit 0). */
export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20,
  TCP_ECE = 0x40, TCP_CWR = 0x80, TCP_NS = 0x100;

// Hubble joins set flags in this order: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS.
const ORDER: [number, string][] = [
  [TCP_SYN, 'SYN'], [TCP_ACK, 'ACK'], [TCP_RST, 'RST'], [TCP_FIN, 'FIN'], [TCP_PSH, 'PSH'],
  [TCP_URG, 'URG'], [TCP_ECE, 'ECE'], [TCP_CWR, 'CWR'], [TCP_NS, 'NS'],
];

/** "TCP Flags: SYN, ACK" for each of the 512 flag combinations (index = header flag bits | NS<<8). */
export const TCP_SUMMARY: string[] = Array.from({ length: 512 }, (_, m) =>
  'TCP Flags: ' + ORDER.filter(([bit]) => (m & bit) !== 0).map(([, n]) => n).join(', '));

/** Trace observation point names as `cilium monitor` / hubble print them (index = datapath code). */
export const OBS_POINT_NAMES = [
  'to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint', 'from-proxy', 'from-host',
  'from-stack', 'from-overlay', 'from-network', 'to-network', 'from-crypto', 'to-crypto',
];
