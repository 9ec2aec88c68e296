// Cilium's monitor API (pkg/monitor/api), the one home of its codes and names: message types,
// drop reason texts (drop.go, keyed by the drop code carried in event_type.sub_type), trace
// observation points, policy match types, BPF source files and reserved security identity
// names. The decoder reads records with them; the printer and the CLI's filters name them.

/** Monitor message types (the first byte of every record). */
export const MSG_DROP = 1,
  MSG_DEBUG = 2,
  MSG_CAPTURE = 3,
  MSG_TRACE = 4,
  MSG_POLICY_VERDICT = 5,
  MSG_RECORDER = 6,
  MSG_TRACE_SOCK = 7,
  MSG_ACCESS_LOG = 129,
  MSG_AGENT = 130;

const DROP_REASONS: Record<number, string> = {
  0: 'Success',
  2: 'Invalid packet',
  3: 'Interface',
  4: 'Interface Decrypted',
  5: 'LB, sock cgroup: No backend slot entry found',
  6: 'LB, sock cgroup: No backend entry found',
  7: 'LB, sock cgroup: Reverse entry update failed',
  8: 'LB, sock cgroup: Reverse entry stale',
  9: 'Fragmented packet',
  10: 'Fragmented packet entry update failed',
  11: 'Missed tail call to custom program',
  12: 'Interface Decrypting',
  13: 'Interface Encrypting',
  14: 'LB: sock cgroup: Reverse entry delete succeeded',
  15: 'MTU error message',
  130: 'Invalid source mac',
  131: 'Invalid destination mac',
  132: 'Invalid source ip',
  133: 'Policy denied',
  134: 'Invalid packet',
  135: 'CT: Truncated or invalid header',
  136: 'Fragmentation needed',
  137: 'CT: Unknown L4 protocol',
  138: "CT: Can't create entry from packet",
  139: 'Unsupported L3 protocol',
  140: 'Missed tail call',
  141: 'Error writing to packet',
  142: 'Unknown L4 protocol',
  143: 'Unknown ICMPv4 code',
  144: 'Unknown ICMPv4 type',
  145: 'Unknown ICMPv6 code',
  146: 'Unknown ICMPv6 type',
  147: 'Error retrieving tunnel key',
  148: 'Error retrieving tunnel options',
  149: 'Invalid Geneve option',
  150: 'Unknown L3 target address',
  151: 'Stale or unroutable IP',
  152: 'No matching local container found',
  153: 'Error while correcting L3 checksum',
  154: 'Error while correcting L4 checksum',
  155: 'CT: Map insertion failed',
  156: 'Invalid IPv6 extension header',
  157: 'IP fragmentation not supported',
  158: 'Service backend not found',
  160: 'No tunnel/encapsulation endpoint (datapath BUG!)',
  161: 'NAT 46/64 not enabled',
  162: 'Reached EDT rate-limiting drop horizon',
  163: 'Unknown connection tracking state',
  164: 'Local host is unreachable',
  165: 'No configuration available to perform policy decision',
  166: 'Unsupported L2 protocol',
  167: 'No mapping for NAT masquerade',
  168: 'Unsupported protocol for NAT masquerade',
  169: 'FIB lookup failed',
  170: 'Encapsulation traffic is prohibited',
  171: 'Invalid identity',
  172: 'Unknown sender',
  173: 'NAT not needed',
  174: 'Is a ClusterIP',
  175: 'First logical datagram fragment not found',
  176: 'Forbidden ICMPv6 message',
  177: 'Denied by LB src range check',
  178: 'Socket lookup failed',
  179: 'Socket assign failed',
  180: 'Proxy redirection not supported for protocol',
  181: 'Policy denied by denylist',
  182: 'VLAN traffic disallowed by VLAN filter',
  183: 'Incorrect VNI from VTEP',
  184: 'Failed to update or lookup TC buffer',
  185: 'No SID was found for the IP address',
  186: 'SRv6 state was removed during tail call',
  187: 'L3 translation from IPv4 to IPv6 failed (NAT46)',
  188: 'L3 translation from IPv6 to IPv4 failed (NAT64)',
  189: 'Authentication required',
  190: 'No conntrack map found',
  191: 'No nat map found',
  192: 'Invalid ClusterID',
  193: 'Unsupported packet protocol for DSR encapsulation',
  194: 'No egress gateway found',
  195: 'Traffic is unencrypted',
  196: 'TTL exceeded',
  197: 'No node ID found',
  198: 'Rate limited',
  199: 'IGMP handled',
  200: 'IGMP subscribed',
  201: 'Multicast handled',
  202: 'Host datapath not ready',
  203: 'Endpoint policy program not available',
  204: 'No Egress IP configured',
  205: 'Punt to proxy',
};

/** api.DropReason(code): the monitor text, or "<code>, 0" for a code it does not know. */
export function dropReasonText(code: number): string {
  const c = code & 0xff; // hubble converts sub_type with uint8(...)
  return DROP_REASONS[c] ?? `${c}, 0`;
}

/** Trace observation point names as `cilium monitor` / hubble print them (index = datapath code). */
export const TRACE_POINTS: readonly string[] = [
  'to-endpoint',
  'to-proxy',
  'to-host',
  'to-stack',
  'to-overlay',
  'from-endpoint',
  'from-proxy',
  'from-host',
  'from-stack',
  'from-overlay',
  'from-network',
  'to-network',
  'from-crypto',
  'to-crypto',
];

/** api.TraceObservationPoint(subType): the monitor name, or the number. */
export function traceObservationPointText(subType: number): string {
  const c = subType & 0xff;
  return TRACE_POINTS[c] ?? String(c);
}

/** Monitor trace observation point names → their datapath code (for `--type trace:<name>`). */
export function traceObservationPointCode(name: string): number | undefined {
  const i = TRACE_POINTS.indexOf(name);
  return i < 0 ? undefined : i;
}

const POLICY_MATCH = ['none', 'L3-Only', 'L3-L4', 'L4-Only', 'all', 'L3-Proto', 'Proto-Only'];

/** api.PolicyMatchType(n).String(). */
export function policyMatchTypeText(n: number): string {
  return POLICY_MATCH[n] ?? 'unknown';
}

const RESERVED_IDENTITIES: Record<number, string> = {
  0: 'unknown',
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
  9: 'world-ipv4',
  10: 'world-ipv6',
};

/** Reserved identity name (identity.NumericIdentity.String for reserved ids), else undefined. */
export function reservedIdentityName(id: number): string | undefined {
  return RESERVED_IDENTITIES[id];
}

// GetReservedID also knows the encrypted-overlay identity, which has no printable name.
const RESERVED_BY_NAME: Record<string, number> = {
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  'remote-node': 6,
  'kube-apiserver': 7,
  ingress: 8,
  'world-ipv4': 9,
  'world-ipv6': 10,
  'overlay-to-encrypt': 11,
};

/** identity.GetReservedID(name), or undefined when name is not reserved. */
export function reservedIdentityByName(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(RESERVED_BY_NAME, name) ? RESERVED_BY_NAME[name] : undefined;
}

/** Reserved identity names in ascending id order (hubble's reservedIdentitiesNames). */
export function reservedIdentityNames(): string[] {
  return Object.entries(RESERVED_BY_NAME)
    .sort((a, b) => a[1] - b[1])
    .map(([, id]) => RESERVED_IDENTITIES[id] ?? String(id));
}

/** Monitor message type codes by the CLI name used in `--type`. */
export const MESSAGE_TYPE_NAMES: Record<string, number> = {
  drop: MSG_DROP,
  debug: MSG_DEBUG,
  capture: MSG_CAPTURE,
  trace: MSG_TRACE,
  'policy-verdict': MSG_POLICY_VERDICT,
  'trace-sock': MSG_TRACE_SOCK,
  l7: MSG_ACCESS_LOG,
  agent: MSG_AGENT,
};

const FILES: Record<number, string> = {
  1: 'bpf_host.c',
  2: 'bpf_lxc.c',
  3: 'bpf_overlay.c',
  4: 'bpf_xdp.c',
  5: 'bpf_sock.c',
  6: 'bpf_network.c',
  7: 'bpf_wireguard.c',
  101: 'drop.h',
  102: 'srv6.h',
  103: 'icmp6.h',
  104: 'nodeport.h',
  105: 'lb.h',
  106: 'mcast.h',
  107: 'ipv4.h',
  108: 'conntrack.h',
  109: 'local_delivery.h',
  110: 'trace.h',
  111: 'encap.h',
  112: 'host_firewall.h',
  113: 'nodeport_egress.h',
  114: 'ipv6.h',
  115: 'classifiers.h',
};

const FILE_NAMES: string[] = Array.from({ length: 256 }, (_, id) => FILES[id] ?? `unknown(${id})`);

/** BPFFileName (files.go): file id → name, `unknown(<id>)` when the id is not in the table. */
export function bpfFileName(id: number): string {
  return FILE_NAMES[id & 0xff];
}
