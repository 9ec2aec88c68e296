// A small, realistic Kubernetes cluster, generated deterministically from a seed: nodes with pod
// CIDRs, namespaces and workloads (Deployments, StatefulSets, DaemonSets) with pods named like
// the controllers name them, Cilium identities per label set, ClusterIP services and some outside
// addresses. `toInventory` exports it in the static-inventory format the enricher reads.
import type { Inventory, InventoryEndpoint, InventoryService } from '../enrich/inventory.js';
import { Rng } from './rng.js';

export interface SynthPod {
  namespace: string;
  name: string;
  app: string;
  workload: { name: string; kind: string };
  node: string;
  nodeIndex: number;
  ip: string;
  ip6: string;
  mac: string;
  endpointId: number;
  identity: number;
  labels: string[];
}

export interface SynthService {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: { port: number; protocol: 'TCP' | 'UDP'; name: string; targetPort: number }[];
  app: string;
}

export interface SynthNode {
  name: string;
  ip: string;
  ip6: string;
  podCIDR: string;
  index: number;
}

export interface SynthExternal {
  ip: string;
  names: string[];
}

export interface ClusterModel {
  cluster: string;
  nodes: SynthNode[];
  pods: SynthPod[];
  services: SynthService[];
  external: SynthExternal[];
  /** kube-apiserver address (control-plane node) and port. */
  apiserver: { ip: string; port: number };
}

export interface ClusterOptions {
  seed?: number;
  nodes?: number;
  cluster?: string;
}

interface WorkloadSpec {
  ns: string;
  name: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  replicas: number;
  app: string;
  appKey?: string;
  ports: number[];
}

const WORKLOADS: WorkloadSpec[] = [
  { ns: 'kube-system', name: 'coredns', kind: 'Deployment', replicas: 2, app: 'kube-dns', appKey: 'k8s-app', ports: [53, 9153] },
  { ns: 'kube-system', name: 'metrics-server', kind: 'Deployment', replicas: 1, app: 'metrics-server', appKey: 'k8s-app', ports: [10250] },
  { ns: 'shop', name: 'frontend', kind: 'Deployment', replicas: 3, app: 'frontend', ports: [8080] },
  { ns: 'shop', name: 'backend', kind: 'Deployment', replicas: 2, app: 'backend', ports: [9000] },
  { ns: 'shop', name: 'cart', kind: 'Deployment', replicas: 2, app: 'cart', ports: [7070] },
  { ns: 'shop', name: 'redis', kind: 'StatefulSet', replicas: 1, app: 'redis', ports: [6379] },
  { ns: 'shop', name: 'db', kind: 'StatefulSet', replicas: 1, app: 'db', ports: [5432] },
  { ns: 'monitoring', name: 'prometheus', kind: 'StatefulSet', replicas: 1, app: 'prometheus', ports: [9090] },
  { ns: 'monitoring', name: 'grafana', kind: 'Deployment', replicas: 1, app: 'grafana', ports: [3000] },
  { ns: 'monitoring', name: 'node-exporter', kind: 'DaemonSet', replicas: 0, app: 'node-exporter', ports: [9100] },
  { ns: 'default', name: 'loadgen', kind: 'Deployment', replicas: 1, app: 'loadgen', ports: [] },
];

const SERVICES: { ns: string; name: string; app: string; ports: [number, 'TCP' | 'UDP', string, number][] }[] = [
  {
    ns: 'kube-system',
    name: 'kube-dns',
    app: 'kube-dns',
    ports: [
      [53, 'UDP', 'dns', 53],
      [53, 'TCP', 'dns-tcp', 53],
      [9153, 'TCP', 'metrics', 9153],
    ],
  },
  { ns: 'kube-system', name: 'metrics-server', app: 'metrics-server', ports: [[443, 'TCP', 'https', 10250]] },
  { ns: 'shop', name: 'frontend', app: 'frontend', ports: [[80, 'TCP', 'http', 8080]] },
  { ns: 'shop', name: 'backend', app: 'backend', ports: [[9000, 'TCP', 'grpc', 9000]] },
  { ns: 'shop', name: 'cart', app: 'cart', ports: [[7070, 'TCP', 'grpc', 7070]] },
  { ns: 'shop', name: 'redis', app: 'redis', ports: [[6379, 'TCP', 'redis', 6379]] },
  { ns: 'shop', name: 'db', app: 'db', ports: [[5432, 'TCP', 'postgres', 5432]] },
  { ns: 'monitoring', name: 'prometheus', app: 'prometheus', ports: [[9090, 'TCP', 'web', 9090]] },
  { ns: 'monitoring', name: 'grafana', app: 'grafana', ports: [[3000, 'TCP', 'http', 3000]] },
];

const EXTERNAL: SynthExternal[] = [
  { ip: '140.82.121.4', names: ['github.com'] },
  { ip: '140.82.121.6', names: ['api.github.com'] },
  { ip: '104.18.32.115', names: ['registry.npmjs.org'] },
  { ip: '142.250.74.110', names: ['www.google.com'] },
  { ip: '52.216.8.125', names: ['s3.amazonaws.com'] },
  { ip: '35.186.224.25', names: ['api.stripe.com'] },
  { ip: '2606:4700::6810:84e5', names: ['cdn.example-shop.com'] },
];

// Kubernetes' name-suffix alphabet (no vowels, no ambiguous characters).
const ALPHANUM = 'bcdfghjklmnpqrstvwxz2456789';
function suffix(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUM[r.int(0, ALPHANUM.length - 1)];
  return s;
}

export function podLabels(cluster: string, ns: string, spec: { app: string; appKey?: string }): string[] {
  return [
    `k8s:${spec.appKey ?? 'app'}=${spec.app}`,
    `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ns}`,
    `k8s:io.cilium.k8s.policy.cluster=${cluster}`,
    `k8s:io.cilium.k8s.policy.serviceaccount=${spec.app === 'kube-dns' ? 'coredns' : spec.app}`,
    `k8s:io.kubernetes.pod.namespace=${ns}`,
  ].sort();
}

export function buildCluster(opts: ClusterOptions = {}): ClusterModel {
  const r = new Rng(opts.seed ?? 1);
  const cluster = opts.cluster ?? 'flowscope-demo';
  const nNodes = Math.max(3, opts.nodes ?? 3);
  const nodes: SynthNode[] = Array.from({ length: nNodes }, (_, i) => ({
    name: i === 0 ? `${cluster}-control-plane` : i === 1 ? `${cluster}-worker` : `${cluster}-worker${i}`,
    ip: `172.18.0.${2 + i}`,
    ip6: `fc00:f853:ccd:e793::${(2 + i).toString(16)}`,
    podCIDR: `10.244.${i}.0/24`,
    index: i,
  }));
  const nextHost = nodes.map(() => 10);
  const usedEpIds = nodes.map(() => new Set<number>());
  const identities = new Map<string, number>();
  let nextIdentity = r.int(256, 4000) * 4; // cluster-allocated identities start at 256
  const pods: SynthPod[] = [];
  let rr = 1; // workers first: the control plane runs only system pods and DaemonSets
  for (const w of WORKLOADS) {
    const labels = podLabels(cluster, w.ns, w);
    const key = labels.join(',');
    let identity = identities.get(key);
    if (identity === undefined) {
      identity = nextIdentity;
      nextIdentity += r.int(1, 97);
      identities.set(key, identity);
    }
    const rsHash = suffix(r, 10);
    const count = w.kind === 'DaemonSet' ? nNodes : w.replicas;
    for (let k = 0; k < count; k++) {
      const nodeIndex = w.kind === 'DaemonSet' ? k : w.ns === 'kube-system' ? k % nNodes : 1 + ((rr++ - 1) % (nNodes - 1));
      const name = w.kind === 'Deployment' ? `${w.name}-${rsHash}-${suffix(r, 5)}` : w.kind === 'StatefulSet' ? `${w.name}-${k}` : `${w.name}-${suffix(r, 5)}`;
      const host = nextHost[nodeIndex]++;
      let epId: number;
      do epId = r.int(1, 4095);
      while (usedEpIds[nodeIndex].has(epId));
      usedEpIds[nodeIndex].add(epId);
      pods.push({
        namespace: w.ns,
        name,
        app: w.app,
        workload: { name: w.name, kind: w.kind },
        node: nodes[nodeIndex].name,
        nodeIndex,
        ip: `10.244.${nodeIndex}.${host}`,
        ip6: `fd00:10:244:${nodeIndex}::${host.toString(16)}`,
        mac: `0a:58:0a:f4:${nodeIndex.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`,
        endpointId: epId,
        identity,
        labels,
      });
    }
  }
  let svcHost = 20;
  const services: SynthService[] = [
    { namespace: 'default', name: 'kubernetes', clusterIP: '10.96.0.1', ports: [{ port: 443, protocol: 'TCP', name: 'https', targetPort: 6443 }], app: '' },
    ...SERVICES.map((s) => ({
      namespace: s.ns,
      name: s.name,
      app: s.app,
      clusterIP: s.name === 'kube-dns' ? '10.96.0.10' : `10.96.${r.int(1, 250)}.${svcHost++}`,
      ports: s.ports.map(([port, protocol, name, targetPort]) => ({ port, protocol, name, targetPort })),
    })),
  ];
  return { cluster, nodes, pods, services, external: EXTERNAL, apiserver: { ip: nodes[0].ip, port: 6443 } };
}

/** The static-inventory document for this cluster (what StaticInventoryEnricher loads). */
export function toInventory(m: ClusterModel): Inventory {
  const endpoints: InventoryEndpoint[] = m.pods.map((p) => ({
    node: p.node,
    id: p.endpointId,
    namespace: p.namespace,
    pod_name: p.name,
    ips: [p.ip, p.ip6],
    identity: p.identity,
    labels: p.labels,
    workloads: [p.workload],
    mac: p.mac,
  }));
  const services: InventoryService[] = m.services.map((s) => ({
    namespace: s.namespace,
    name: s.name,
    clusterIPs: [s.clusterIP],
    ports: s.ports.map((p) => ({ port: p.port, protocol: p.protocol, name: p.name, targetPort: p.targetPort })),
    backends: m.pods.filter((p) => p.app === s.app && p.namespace === s.namespace).map((p) => `${p.namespace}/${p.name}`),
  }));
  return {
    cluster: m.cluster,
    nodes: m.nodes.map((n) => ({ name: n.name, ips: [n.ip, n.ip6], podCIDRs: [n.podCIDR] })),
    endpoints,
    services,
    external: m.external.map((x) => ({ ip: x.ip, names: [...x.names] })),
    kubeApiserver: [m.apiserver.ip],
  };
}
