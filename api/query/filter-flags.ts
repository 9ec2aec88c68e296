// Builds the whitelist/blacklist FlowFilters from `observe` filter flags the way hubble does.
// Each list is a pair of filters, "left OR right": flags without a side (--pod, --ip, --label,
// --port, …) put the source form in the left filter and the destination form in the right;
// sided and neutral flags go into both. Equal halves collapse into one filter. `--not` sends
// only the next filter flag to the blacklist.
import { isIP } from 'node:net';
import type { EventTypeFilter, FlowFilter, TCPFlags, Workload } from '../../proto/index.js';
import { enums, enumValue, IPVersion, TrafficDirection } from '../../proto/index.js';
import { MESSAGE_TYPE_NAMES, reservedIdentityByName, reservedIdentityNames, traceObservationPointCode } from '../../proto/monitor-api.js';
import { UsageError } from './usage-error.js';
import { TCP_FLAG_BITS, type TCPFlagName } from '../../proto/tcp-flags.js';
import { normalizeKernelDropReason } from '../../filters/kernel-drop-reason.js';
import { compileFlowFilters } from '../../filters/index.js';
import { FilterError } from '../../filters/errors.js';

/** One filter flag occurrence, in command-line order; `not` has no value. */
export interface FilterFlag {
  flag: string;
  value?: string;
}

/** Every filter flag name hubble's observe knows (long form). */
export const FILTER_FLAGS = [
  'not',
  'uuid',
  'node-name',
  'node-label',
  'from-cluster',
  'cluster',
  'to-cluster',
  'protocol',
  'tcp-flags',
  'type',
  'verdict',
  'drop-reason-desc',
  'http-status',
  'http-method',
  'http-path',
  'http-url',
  'http-header',
  'trace-id',
  'ip-trace-id',
  'from-fqdn',
  'fqdn',
  'to-fqdn',
  'from-ip',
  'snat-ip',
  'ip',
  'to-ip',
  'ipv4',
  'ipv6',
  'ip-version',
  'from-pod',
  'pod',
  'to-pod',
  'from-namespace',
  'namespace',
  'to-namespace',
  'from-all-namespaces',
  'all-namespaces',
  'to-all-namespaces',
  'from-label',
  'label',
  'to-label',
  'from-service',
  'service',
  'to-service',
  'from-port',
  'port',
  'to-port',
  'from-workload',
  'workload',
  'to-workload',
  'from-identity',
  'identity',
  'to-identity',
  'traffic-direction',
  'cel-expression',
  'interface',
  'encrypted',
  'unencrypted',
  'kernel-drop-reason',
] as const;

export type FilterFlagName = (typeof FILTER_FLAGS)[number];

/**
 * What each filter selects (hubble's help texts, shortened): `observe --help` and the HTTP API's
 * OpenAPI parameters read this one table, so a new filter is documented in both at once.
 */
export const FILTER_HELP: Readonly<Record<FilterFlagName, string>> = {
  not: 'Reverses the next filter to be blacklist i.e. --not --from-ip 2.2.2.2',
  uuid: 'Show the only flow matching this unique flow identifier, if any',
  'node-name': 'Show all flows which match the given node names (e.g. "k8s*", "test-cluster/*.company.com")',
  'node-label': 'Show only flows observed on nodes matching the given label filter (e.g. "key1=value1")',
  'from-cluster': 'Show all flows originating from endpoints known to be in the given cluster name',
  cluster: 'Show all flows which match the cluster names (e.g. "test-cluster", "prod-*")',
  'to-cluster': 'Show all flows destined to endpoints known to be in the given cluster name',
  protocol: 'Show only flows which match the given L4/L7 protocol (e.g. "udp", "http")',
  'tcp-flags': 'Show only flows which match the given TCP flags (e.g. "syn", "ack", "fin")',
  type: 'Filter by event types TYPE[:SUBTYPE] (e.g. "drop", "trace:to-endpoint", "l7")',
  verdict: 'Show only flows with this verdict [FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED]',
  'drop-reason-desc': 'Show only flows which match this drop reason (e.g. "POLICY_DENIED", "UNSUPPORTED_L3_PROTOCOL")',
  'http-status': 'Show only flows which match this HTTP status code prefix (e.g. "404", "5+")',
  'http-method': 'Show only flows which match this HTTP method (e.g. "get", "post")',
  'http-path': 'Show only flows which match this HTTP path regular expressions (e.g. "/page/\\d+")',
  'http-url': 'Show only flows which match this HTTP URL regular expressions (e.g. "http://.*cilium\\.io/page/\\d+")',
  'http-header': 'Show only flows which match this HTTP header key:value pairs (e.g. "foo:bar")',
  'trace-id': 'Show only flows which match this trace ID',
  'ip-trace-id': 'Show only flows which match this IP trace ID',
  'from-fqdn': 'Show all flows originating at the given fully qualified domain name (e.g. "*.cilium.io")',
  fqdn: 'Show all flows related to the given fully qualified domain name (e.g. "*.cilium.io")',
  'to-fqdn': 'Show all flows destined to the given fully qualified domain name (e.g. "*.cilium.io")',
  'from-ip': 'Show all flows originating at the given IP address or CIDR',
  'snat-ip': 'Show all flows SNATed with the given IP address or CIDR',
  ip: 'Show all flows related to the given IP address or CIDR',
  'to-ip': 'Show all flows terminating at the given IP address or CIDR',
  ipv4: 'Show only IPv4 flows',
  ipv6: 'Show only IPv6 flows',
  'ip-version': 'Show only IPv4, IPv6 flows or non IP flows (e.g. ARP packets) (ie: "none", "v4", "v6")',
  'from-pod': 'Show all flows originating in the given pod name prefix ([namespace/]<pod-name>)',
  pod: 'Show all flows related to the given pod name prefix ([namespace/]<pod-name>)',
  'to-pod': 'Show all flows destined to the given pod name prefix ([namespace/]<pod-name>)',
  'from-namespace': 'Show all flows originating in the given Kubernetes namespace',
  namespace: 'Show all flows related to the given Kubernetes namespace',
  'to-namespace': 'Show all flows destined to the given Kubernetes namespace',
  'from-all-namespaces': 'Show flows originating in any Kubernetes namespace',
  'all-namespaces': 'Show all flows in any Kubernetes namespace',
  'to-all-namespaces': 'Show flows destined to any Kubernetes namespace',
  'from-label': 'Show only flows originating in an endpoint with the given labels (e.g. "key1=value1", "reserved:world")',
  label: 'Show only flows related to an endpoint with the given labels (e.g. "key1=value1", "reserved:world")',
  'to-label': 'Show only flows terminating in an endpoint with given labels (e.g. "key1=value1", "reserved:world")',
  'from-service': 'Show all flows originating in the given service ([namespace/]<svc-name>)',
  service: 'Show all flows related to the given service ([namespace/]<svc-name>)',
  'to-service': 'Show all flows destined to the given service ([namespace/]<svc-name>)',
  'from-port': 'Show only flows with the given source port (e.g. 8080)',
  port: 'Show only flows with given port in either source or destination (e.g. 8080)',
  'to-port': 'Show only flows with the given destination port (e.g. 8080)',
  'from-workload': 'Show all flows originating at an endpoint with the given workload ([kind/]<name>)',
  workload: 'Show all flows related to an endpoint with the given workload ([kind/]<name>)',
  'to-workload': 'Show all flows terminating at an endpoint with the given workload ([kind/]<name>)',
  'from-identity': 'Show all flows originating at an endpoint with the given security identity',
  identity: 'Show all flows related to an endpoint with the given security identity',
  'to-identity': 'Show all flows ending at an endpoint with the given security identity',
  'traffic-direction': 'Show all flows in the given traffic direction (either ingress or egress)',
  'cel-expression': 'Filter flows using the given CEL expression',
  interface: 'Show all flows observed at the given interface name (e.g. eth0)',
  encrypted: 'Show only encrypted flows',
  unencrypted: 'Show only unencrypted flows',
  'kernel-drop-reason': 'Show only kernel-probe drops with this kernel drop reason (e.g. NO_SOCKET, NETFILTER_DROP)',
};

/** Filter flags that take no value. */
export const BOOLEAN_FILTERS: ReadonlySet<string> = new Set([
  'not',
  'ipv4',
  'ipv6',
  'all-namespaces',
  'from-all-namespaces',
  'to-all-namespaces',
  'encrypted',
  'unencrypted',
]);

// Flags that may not be combined within one list (hubble's conflict groups).
const CONFLICTS: string[][] = [
  ['from-fqdn', 'from-ip', 'ip', 'fqdn', 'from-namespace', 'namespace', 'from-all-namespaces', 'all-namespaces'],
  ['from-fqdn', 'from-ip', 'ip', 'fqdn', 'from-pod', 'pod'],
  ['to-fqdn', 'to-ip', 'ip', 'fqdn', 'to-namespace', 'namespace', 'to-all-namespaces', 'all-namespaces'],
  ['to-fqdn', 'to-ip', 'ip', 'fqdn', 'to-pod', 'pod'],
  ['to-pod', 'namespace', 'all-namespaces'],
  ['from-pod', 'namespace', 'all-namespaces'],
  ['to-service', 'namespace', 'all-namespaces'],
  ['from-service', 'namespace', 'all-namespaces'],
  ['label', 'from-label'],
  ['label', 'to-label'],
  ['service', 'from-service'],
  ['service', 'to-service'],
  ['port', 'to-port'],
  ['port', 'from-port'],
  ['identity', 'to-identity'],
  ['identity', 'from-identity'],
  ['workload', 'to-workload'],
  ['workload', 'from-workload'],
  ['encrypted', 'unencrypted'],
];

function push<K extends keyof FlowFilter>(f: FlowFilter, key: K, v: NonNullable<FlowFilter[K]> extends Array<infer E> ? E : never): void {
  const rec = f as Record<string, unknown>;
  const arr = (rec[key] as unknown[] | undefined) ?? [];
  arr.push(v);
  rec[key] = arr;
}

/** One side of the request (whitelist or blacklist) while flags are applied. */
class FilterTracker {
  left?: FlowFilter;
  right?: FlowFilter;
  ns: string[] = [];
  srcNs: string[] = [];
  dstNs: string[] = [];
  changed: string[] = [];

  both(update: (f: FlowFilter) => void): void {
    this.leftSide(update);
    this.rightSide(update);
  }
  leftSide(update: (f: FlowFilter) => void): void {
    update((this.left ??= {}));
  }
  rightSide(update: (f: FlowFilter) => void): void {
    update((this.right ??= {}));
  }

  track(flag: string): void {
    if (!this.changed.includes(flag)) this.changed.push(flag);
    for (const group of CONFLICTS) {
      if (!group.includes(flag)) continue;
      const other = group.find((g) => g !== flag && this.changed.includes(g));
      if (other) {
        // hubble reports the pair in group order.
        const [a, b] = group.indexOf(flag) < group.indexOf(other) ? [flag, other] : [other, flag];
        throw new UsageError(`filters --${a} and --${b} cannot be combined`);
      }
    }
  }

  /** The materialised filters: namespaces are folded into pod/service names here. */
  flowFilters(): FlowFilter[] | undefined {
    if (!this.left && !this.right && this.ns.length === 0 && this.srcNs.length === 0 && this.dstNs.length === 0) return undefined;
    const left = structuredClone(this.left ?? {});
    const right = structuredClone(this.right ?? {});
    if (this.dstNs.length > 0) {
      applyDest(left, this.dstNs);
      applyDest(right, this.dstNs);
    }
    if (this.srcNs.length > 0) {
      applySrc(left, this.srcNs);
      applySrc(right, this.srcNs);
    }
    if (this.ns.length > 0) {
      applySrc(left, this.ns);
      applyDest(right, this.ns);
    }
    return filtersEqual(left, right) ? [left] : [left, right];
  }

  checkNamespaceConflicts(): void {
    for (const f of [this.left, this.right]) {
      if (!f) continue;
      nsConflicts(this.ns, f.source_pod);
      nsConflicts(this.ns, f.source_service);
      nsConflicts(this.ns, f.destination_pod);
      nsConflicts(this.ns, f.destination_service);
      nsConflicts(this.srcNs, f.source_pod);
      nsConflicts(this.srcNs, f.source_service);
      nsConflicts(this.dstNs, f.destination_pod);
      nsConflicts(this.dstNs, f.destination_service);
      inconsistentNamespaces(f.source_pod, f.source_service);
      inconsistentNamespaces(f.destination_pod, f.destination_service);
    }
  }
}

function namespaceOf(name: string): string {
  const parts = name.split('/');
  return parts.length > 1 ? parts[0] : '';
}

function nsConflicts(namespaces: string[], names: string[] | undefined): void {
  for (const ns of namespaces) {
    for (const name of names ?? []) {
      const nn = namespaceOf(name);
      if (nn !== '' && nn !== ns) throw new UsageError(`namespace conflict: ${JSON.stringify(ns)} does not contain ${JSON.stringify(name)}`);
    }
  }
}

function inconsistentNamespaces(pods: string[] | undefined, services: string[] | undefined): void {
  for (const pod of pods ?? []) {
    const podNs = namespaceOf(pod);
    if (podNs === '') continue;
    for (const svc of services ?? []) {
      if (namespaceOf(svc) !== podNs) throw new UsageError(`namespace of service ${JSON.stringify(svc)} conflict with pod ${JSON.stringify(podNs)}`);
    }
  }
}

// "pod" without a namespace gets every requested namespace; "ns/pod" stays as written.
function addNamespaces(names: string[] | undefined, ns: string[]): string[] | undefined {
  if (!names || names.length === 0 || ns.length === 0) return names;
  const out: string[] = [];
  for (const n of names) {
    if (n.includes('/')) out.push(n);
    else for (const x of ns) out.push(`${x}/${n}`);
  }
  return out;
}

// A namespace alone means "any pod in it": an empty pod name prefix that gets the namespace.
function applySrc(f: FlowFilter, ns: string[]): void {
  if (!f.source_pod?.length && !f.source_service?.length) f.source_pod = [''];
  const pods = addNamespaces(f.source_pod, ns);
  if (pods) f.source_pod = pods;
  const svc = addNamespaces(f.source_service, ns);
  if (svc) f.source_service = svc;
}

function applyDest(f: FlowFilter, ns: string[]): void {
  if (!f.destination_pod?.length && !f.destination_service?.length) f.destination_pod = [''];
  const pods = addNamespaces(f.destination_pod, ns);
  if (pods) f.destination_pod = pods;
  const svc = addNamespaces(f.destination_service, ns);
  if (svc) f.destination_service = svc;
}

function filtersEqual(a: FlowFilter, b: FlowFilter): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

// Proto equality ignores empty repeated fields and key order.
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || (Array.isArray(x) && x.length === 0)) continue;
      out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

function parseTCPFlags(val: string): TCPFlags {
  const flags: TCPFlags = {};
  for (const part of val.split(',')) {
    const name = part.toUpperCase();
    if (!(TCP_FLAG_BITS as readonly string[]).includes(name)) throw new UsageError(`unknown tcp flag: ${part}`);
    flags[name as TCPFlagName] = true;
  }
  return flags;
}

function ipVersion(v: string): number {
  switch (v.toLowerCase()) {
    case '4':
    case 'v4':
    case 'ipv4':
    case 'ip4':
      return IPVersion.IPv4;
    case '6':
    case 'v6':
    case 'ipv6':
    case 'ip6':
      return IPVersion.IPv6;
  }
  return IPVersion.IP_NOT_USED;
}

function parseWorkload(s: string): Workload {
  if (s === '') return {};
  const i = s.indexOf('/');
  if (i < 0) return { name: s };
  const w: Workload = {};
  if (s.slice(0, i) !== '') w.kind = s.slice(0, i);
  if (s.slice(i + 1) !== '') w.name = s.slice(i + 1);
  return w;
}

const UINT32_MAX = 0xffffffff;

function parseUint(s: string, max: number): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

function parseIdentity(val: string): number {
  const reserved = reservedIdentityByName(val);
  if (reserved !== undefined) return reserved;
  const n = parseUint(val, UINT32_MAX);
  if (n === undefined) throw new UsageError(`invalid security identity, expected one of [${reservedIdentityNames().join(' ')}] or a numeric value`);
  return n;
}

// Stricter than hubble, which leaves these to the server: reject bad IPs/CIDRs and ports early.
function checkIP(flag: string, val: string): void {
  if (val.includes('/')) {
    const [addr, bits, ...rest] = val.split('/');
    const v = isIP(addr);
    const b = /^(0|[1-9]\d*)$/.test(bits) ? Number(bits) : NaN;
    if (rest.length > 0 || v === 0 || !(b <= (v === 4 ? 32 : 128)))
      throw new UsageError(`invalid --${flag} value ${JSON.stringify(val)}: not an IP address or CIDR`);
  } else if (isIP(val) === 0) {
    throw new UsageError(`invalid --${flag} value ${JSON.stringify(val)}: not an IP address or CIDR`);
  }
}

function checkPort(flag: string, val: string): void {
  if (parseUint(val, 65535) === undefined) throw new UsageError(`invalid --${flag} value ${JSON.stringify(val)}: not a port number (0-65535)`);
}

function parseEventType(val: string): EventTypeFilter {
  const colon = val.indexOf(':');
  const typeName = colon < 0 ? val : val.slice(0, colon);
  const subName = colon < 0 ? undefined : val.slice(colon + 1);
  let type = MESSAGE_TYPE_NAMES[typeName];
  if (!Object.prototype.hasOwnProperty.call(MESSAGE_TYPE_NAMES, typeName)) {
    const n = parseUint(typeName, UINT32_MAX);
    // hubble stores the number as int32.
    if (n === undefined) throw new UsageError(`unable to parse type '${typeName}', not a known type name and unable to parse as numeric value`);
    type = n | 0;
  }
  const filter: EventTypeFilter = {};
  if (type !== 0) filter.type = type;
  if (subName !== undefined) {
    let sub: number | undefined;
    if (typeName === 'trace') sub = traceObservationPointCode(subName);
    else if (typeName === 'agent') sub = AGENT_SUBTYPES[subName];
    if (sub === undefined) {
      const n = parseUint(subName, UINT32_MAX);
      if (n === undefined) throw new UsageError(`unable to parse event sub-type '${subName}', not a known sub-type name and unable to parse as numeric value`);
      sub = n | 0;
    }
    filter.match_sub_type = true;
    if (sub !== 0) filter.sub_type = sub;
  }
  return filter;
}

const AGENT_SUBTYPES: Record<string, number> = {
  unspecified: 0,
  message: 1,
  'agent-started': 2,
  'endpoint-regenerate-success': 3,
  'endpoint-regenerate-failure': 4,
  'policy-updated': 5,
  'policy-deleted': 6,
  'endpoint-created': 7,
  'endpoint-deleted': 8,
  'ipcache-upserted': 9,
  'ipcache-deleted': 10,
};

function applyFlag(t: FilterTracker, flag: string, val: string): void {
  t.track(flag);
  const src = (key: keyof FlowFilter, v: unknown): void => t.leftSide((f) => push(f, key, v as never));
  const dst = (key: keyof FlowFilter, v: unknown): void => t.rightSide((f) => push(f, key, v as never));
  const all = (key: keyof FlowFilter, v: unknown): void => t.both((f) => push(f, key, v as never));
  switch (flag) {
    case 'uuid':
      all('uuid', val);
      break;
    case 'fqdn':
      src('source_fqdn', val);
      dst('destination_fqdn', val);
      break;
    case 'from-fqdn':
      all('source_fqdn', val);
      break;
    case 'to-fqdn':
      all('destination_fqdn', val);
      break;
    case 'pod':
      src('source_pod', val);
      dst('destination_pod', val);
      break;
    case 'from-pod':
      all('source_pod', val);
      break;
    case 'to-pod':
      all('destination_pod', val);
      break;
    case 'ip':
      checkIP(flag, val);
      src('source_ip', val);
      dst('destination_ip', val);
      break;
    case 'from-ip':
      checkIP(flag, val);
      all('source_ip', val);
      break;
    case 'to-ip':
      checkIP(flag, val);
      all('destination_ip', val);
      break;
    case 'snat-ip':
      checkIP(flag, val);
      all('source_ip_xlated', val);
      break;
    case 'ipv4':
      all('ip_version', IPVersion.IPv4);
      break;
    case 'ipv6':
      all('ip_version', IPVersion.IPv6);
      break;
    case 'ip-version':
      all('ip_version', ipVersion(val));
      break;
    case 'label':
      src('source_label', val);
      dst('destination_label', val);
      break;
    case 'from-label':
      all('source_label', val);
      break;
    case 'to-label':
      all('destination_label', val);
      break;
    case 'namespace':
      t.ns.push(val);
      break;
    case 'from-namespace':
      t.srcNs.push(val);
      break;
    case 'to-namespace':
      t.dstNs.push(val);
      break;
    case 'all-namespaces':
      t.ns.push('');
      break;
    case 'from-all-namespaces':
      t.srcNs.push('');
      break;
    case 'to-all-namespaces':
      t.dstNs.push('');
      break;
    case 'service':
      src('source_service', val);
      dst('destination_service', val);
      break;
    case 'from-service':
      all('source_service', val);
      break;
    case 'to-service':
      all('destination_service', val);
      break;
    case 'port':
      checkPort(flag, val);
      src('source_port', val);
      dst('destination_port', val);
      break;
    case 'from-port':
      checkPort(flag, val);
      all('source_port', val);
      break;
    case 'to-port':
      checkPort(flag, val);
      all('destination_port', val);
      break;
    case 'trace-id':
      all('trace_id', val);
      break;
    case 'ip-trace-id': {
      if (val === '0') throw new UsageError('invalid --ip-trace-id value; must be greater than 0');
      const n = /^\d+$/.test(val) ? Number(val) : NaN;
      if (!Number.isSafeInteger(n)) throw new UsageError(`invalid --ip-trace-id value: ${JSON.stringify(val)}`);
      all('ip_trace_id', n);
      break;
    }
    case 'verdict': {
      const v = enumValue(enums.Verdict, val);
      if (v === undefined) throw new UsageError(`invalid --verdict value: ${val}`);
      all('verdict', v);
      break;
    }
    case 'drop-reason-desc': {
      if (val === '') throw new UsageError('empty --drop-reason-desc value');
      const v = enumValue(enums.DropReason, val);
      if (v === undefined) throw new UsageError(`invalid --drop-reason-desc value: ${val}`);
      all('drop_reason_desc', v);
      break;
    }
    case 'http-status':
      all('http_status_code', val);
      break;
    case 'http-method':
      all('http_method', val);
      break;
    case 'http-path':
      all('http_path', val);
      break;
    case 'http-url':
      all('http_url', val);
      break;
    case 'http-header': {
      const i = val.indexOf(':');
      if (i < 0) throw new UsageError(`invalid http-header value ${JSON.stringify(val)}, expected name:value`);
      const header: { key?: string; value?: string } = {};
      if (i > 0) header.key = val.slice(0, i);
      if (i + 1 < val.length) header.value = val.slice(i + 1);
      all('http_header', header);
      break;
    }
    case 'type':
      all('event_type', parseEventType(val));
      break;
    case 'protocol':
      all('protocol', val);
      break;
    case 'workload':
      src('source_workload', parseWorkload(val));
      dst('destination_workload', parseWorkload(val));
      break;
    case 'from-workload':
      all('source_workload', parseWorkload(val));
      break;
    case 'to-workload':
      all('destination_workload', parseWorkload(val));
      break;
    case 'identity': {
      const id = parseIdentity(val);
      src('source_identity', id);
      dst('destination_identity', id);
      break;
    }
    case 'from-identity':
      all('source_identity', parseIdentity(val));
      break;
    case 'to-identity':
      all('destination_identity', parseIdentity(val));
      break;
    case 'node-name':
      all('node_name', val);
      break;
    case 'kernel-drop-reason': {
      // flowscope extension: the kernel probe's own drop reason (NO_SOCKET, NETFILTER_DROP, ...).
      try {
        all('kernel_drop_reason', normalizeKernelDropReason(val));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      break;
    }
    case 'node-label':
      all('node_labels', val);
      break;
    case 'cluster':
      src('source_cluster_name', val);
      dst('destination_cluster_name', val);
      break;
    case 'from-cluster':
      all('source_cluster_name', val);
      break;
    case 'to-cluster':
      all('destination_cluster_name', val);
      break;
    case 'tcp-flags':
      all('tcp_flags', parseTCPFlags(val));
      break;
    case 'traffic-direction': {
      const td = val.toLowerCase();
      if (td === 'ingress') all('traffic_direction', TrafficDirection.INGRESS);
      else if (td === 'egress') all('traffic_direction', TrafficDirection.EGRESS);
      else throw new UsageError(`${td}: invalid traffic direction, expected ingress or egress`);
      break;
    }
    case 'cel-expression':
      t.both((f) => {
        f.experimental ??= {};
        (f.experimental.cel_expression ??= []).push(val);
      });
      break;
    case 'interface':
      all('interface', { name: val });
      break;
    case 'encrypted':
      all('encrypted', true);
      break;
    case 'unencrypted':
      all('encrypted', false);
      break;
    default:
      throw new UsageError(`unknown filter flag --${flag}`);
  }
  t.checkNamespaceConflicts();
}

/**
 * Which flag a server's refusal of the filters comes from: the first one whose filter, compiled
 * alone as the server compiles it, is refused (a label selector that does not parse, a bad
 * CIDR, …), as a usage error naming it; null when none is refused alone. The server's message
 * can only name the FlowFilter field; an HTTP client needs the parameter.
 */
export function blameFilterFlag(flags: readonly FilterFlag[]): UsageError | null {
  for (const { flag, value = '' } of flags) {
    if (flag === 'not') continue;
    const t = new FilterTracker();
    try {
      applyFlag(t, flag, value);
      compileFlowFilters(t.flowFilters() ?? []);
    } catch (err) {
      if (err instanceof FilterError || err instanceof UsageError)
        return flagError(flag, value, err instanceof FilterError ? new UsageError(err.message) : err) as UsageError;
      throw err;
    }
  }
  return null;
}

/** pflag's wording for a value its Set refused, as hubble prints it, unless the message names the flag already. */
function flagError(flag: string, value: string, err: unknown): unknown {
  if (!(err instanceof UsageError) || err.message.includes(`--${flag}`)) return err;
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  return new UsageError(`invalid argument ${JSON.stringify(shown)} for "--${flag}" flag: ${err.message}`);
}

/** Applies filter flags in order; returns hubble's whitelist and blacklist. */
export function buildFilters(flags: readonly FilterFlag[]): { whitelist: FlowFilter[]; blacklist: FlowFilter[] } {
  const white = new FilterTracker();
  const black = new FilterTracker();
  let negateNext = false;
  for (const { flag, value } of flags) {
    if (flag === 'not') {
      if (negateNext) throw new UsageError('consecutive --not statements');
      negateNext = true;
      continue;
    }
    try {
      applyFlag(negateNext ? black : white, flag, value ?? '');
    } catch (err) {
      throw flagError(flag, value ?? '', err);
    }
    negateNext = false;
  }
  if (negateNext) throw new UsageError('trailing --not found in the arguments');
  return { whitelist: white.flowFilters() ?? [], blacklist: black.flowFilters() ?? [] };
}
