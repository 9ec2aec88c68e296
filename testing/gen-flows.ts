// Seeded generator of varied, realistic-to-odd Flows for the storage and filter tests and the
// benchmarks (times default to the last hour: older rows would fall to the TTL): common shapes (TCP/UDP/ICMP, k8s endpoints, DNS, HTTP) plus the corners that
// lossless storage must survive (explicit zero values, empty strings, non-canonical and
// unparseable IPs, empty sub-messages, rarely-set fields).
import type { Flow, Endpoint, BoolValue, Timestamp } from '../proto/types.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const NAMESPACES = ['default', 'kube-system', 'shop', 'payments', 'monitoring'];
export const PODS = ['web-7d9f', 'api-5c8b', 'coredns-66bf', 'db-0', 'cart-55c', 'prometheus-0'];
export const NODES = ['k8s1', 'k8s2', 'prod/node-a.example', 'worker-3'];
export const LABELS = [
  'k8s:app=web',
  'k8s:app=api',
  'k8s:tier=3',
  'k8s:io.kubernetes.pod.namespace=shop',
  'reserved:host',
  'reserved:world',
  'app=db',
  'k8s:team=core',
];
export const IPS = [
  '10.0.0.1',
  '10.0.1.7',
  '10.1.2.3',
  '192.168.1.20',
  '8.8.8.8',
  '2001:db8::1',
  'fd00::a:1',
  '::ffff:10.0.0.9',
  '2001:DB8::2',
  'garbage',
  '010.0.0.1',
  '',
];
export const NAMES = ['www.example.com', 'api.example.com', 'example.org', 'db.internal', 'Mixed.Case.io'];
export const URLS = ['/api/v1/items', 'http://svc.shop/cart?x=1', '/p%20q', '/bad%zz', 'relative', 'https://h/a/b'];

export function genFlow(r: () => number, i: number, baseSeconds = Math.floor(Date.now() / 1000) - 3600): Flow {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const chance = (p: number) => r() < p;
  const f: Flow = {
    time: { seconds: baseSeconds + Math.floor(i / 10), nanos: Math.floor(r() * 1e9) },
    uuid: `u-${i}-${Math.floor(r() * 1e6)}`,
    verdict: pick([1, 1, 1, 2, 2, 3, 5, 0]),
    Type: pick([1, 1, 2]),
    node_name: pick(NODES),
    event_type: { type: pick([1, 4, 5, 129]), ...(chance(0.5) && { sub_type: pick([0, 3, 133]) }) },
    traffic_direction: pick([0, 1, 2]),
    Summary: chance(0.8) ? `TCP Flags: ${pick(['SYN', 'ACK', 'FIN'])}` : '',
  };
  if (f.verdict === 2) {
    f.drop_reason = 133;
    f.drop_reason_desc = pick([133, 181, 130]);
  }
  if (chance(0.95)) {
    f.IP = { source: pick(IPS), destination: pick(IPS), ipVersion: pick([1, 2, 0]) };
    if (chance(0.1)) f.IP.encrypted = chance(0.5);
    if (chance(0.05)) f.IP.source_xlated = pick(IPS);
  }
  const l4 = r();
  if (l4 < 0.55)
    f.l4 = {
      TCP: {
        source_port: Math.floor(r() * 65536),
        destination_port: pick([80, 443, 8080, 0]),
        ...(chance(0.9) && { flags: { SYN: chance(0.5), ACK: chance(0.6), ...(chance(0.2) && { FIN: true }), ...(chance(0.1) && { RST: true }) } }),
      },
    };
  else if (l4 < 0.8) f.l4 = { UDP: { source_port: Math.floor(r() * 65536), destination_port: pick([53, 8125]) } };
  else if (l4 < 0.88) f.l4 = { ICMPv4: { type: pick([0, 8]), code: 0 } };
  else if (l4 < 0.92) f.l4 = { ICMPv6: { type: 128 } };
  else if (l4 < 0.94) f.l4 = { SCTP: { source_port: 1, destination_port: 2 } };
  else if (l4 < 0.96) f.l4 = {};
  const ep = (): Endpoint => {
    const e: Endpoint = { identity: pick([0, 1, 2, 12345, 42]), namespace: pick(NAMESPACES), pod_name: pick(PODS) };
    if (chance(0.8)) e.labels = LABELS.filter(() => chance(0.3));
    if (e.labels?.length === 0) delete e.labels;
    if (chance(0.5)) e.ID = Math.floor(r() * 4000);
    if (chance(0.3)) e.cluster_name = pick(['c1', 'c2']);
    if (chance(0.3)) e.workloads = [{ name: pick(['web', 'api']), kind: pick(['Deployment', 'StatefulSet']) }];
    if (chance(0.05)) e.workloads = [{ name: '' }, { kind: 'Job' }];
    if (chance(0.05)) e.namespace = '';
    return e;
  };
  if (chance(0.9)) f.source = ep();
  if (chance(0.9)) f.destination = ep();
  if (chance(0.2)) f.source_names = NAMES.filter(() => chance(0.4));
  if (chance(0.3)) f.destination_names = [pick(NAMES)];
  if (chance(0.7)) f.is_reply = { value: chance(0.5) };
  else if (chance(0.1)) f.is_reply = {} as BoolValue;
  if (chance(0.2)) f.source_service = { namespace: pick(NAMESPACES), name: pick(['web', 'api']) };
  if (chance(0.3)) f.destination_service = { namespace: pick(NAMESPACES), name: pick(['web', 'api', 'kube-dns']) };
  if (chance(0.3)) f.trace_observation_point = pick([101, 3, 4]);
  if (chance(0.2)) f.trace_reason = pick([1, 2, 4]);
  if (chance(0.3)) f.interface = { index: pick([0, 3, 7]), name: pick(['eth0', 'lxc12ab', '']) };
  if (chance(0.1)) f.policy_match_type = pick([1, 2, 3]);
  if (chance(0.1)) f.proxy_port = 15001;
  if (chance(0.2)) f.ethernet = { source: '0a:58:0a:00:00:01', destination: chance(0.5) ? '0a:58:0a:00:00:02' : '' };
  if (chance(0.2)) f.node_labels = ['kubernetes.io/hostname=k8s1', 'zone=a'];
  const l7 = r();
  if (l7 < 0.12) {
    f.l7 = {
      type: pick([1, 2]),
      latency_ns: Math.floor(r() * 1e7),
      dns: {
        query: `${pick(NAMES)}.`,
        ...(chance(0.5) && { ips: ['10.0.0.1', '2001:db8::5'] }),
        ttl: pick([0, 30]),
        rcode: pick([0, 3]),
        qtypes: ['A'],
        ...(chance(0.3) && { rrtypes: ['A', 'CNAME'], cnames: ['x.example.com.'] }),
        observation_source: 'proxy',
      },
    };
  } else if (l7 < 0.22) {
    f.l7 = {
      type: pick([1, 2]),
      http: {
        code: pick([0, 200, 404, 503]),
        method: pick(['GET', 'post', '']),
        url: pick(URLS),
        protocol: 'HTTP/1.1',
        headers: [{ key: 'x-user', value: pick(['bob', 'eve']) }],
      },
    };
  } else if (l7 < 0.25) {
    f.l7 = { type: 1, kafka: { api_key: 'produce', topic: 'orders', correlation_id: 3 } };
  }
  if (chance(0.05)) f.trace_context = { parent: { trace_id: pick(['t1', 't2']) } };
  if (chance(0.05)) f.ip_trace_id = { trace_id: pick([7, 9]), ip_option_type: 1 };
  if (chance(0.05)) f.egress_allowed_by = [{ name: 'allow-web', namespace: 'shop', labels: ['k8s:a=b'], revision: 3 }];
  if (chance(0.03)) f.tunnel = { protocol: 1, IP: { source: '192.168.0.1', destination: '192.168.0.2' }, vni: 2 };
  if (chance(0.03)) f.file = { name: 'bpf_lxc.c', line: 1234 };
  if (chance(0.03)) f.socket_cookie = 2 ** 40 + i;
  if (chance(0.02)) f.verdict = 0; // explicit zero: must come back explicit
  if (chance(0.01)) f.time = { seconds: baseSeconds } as Timestamp;
  return f;
}

export function genFlows(n: number, seed = 1, baseSeconds?: number): Flow[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => genFlow(r, i, baseSeconds));
}
