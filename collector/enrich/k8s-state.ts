// The collector's view of the cluster, kept current by the Kubernetes watches: pod IP → pod,
// service frontend (VIP, port) → service, node IP → node, kube-apiserver addresses. Pure data
// and lookups (no I/O) so the watch wiring and the enrichment can be tested separately.
//
// Deleted pods keep resolving for a grace period (default 30 s): flows observed just before the
// deletion are still in the perf ring and decode queue when the DELETED event arrives, and the
// kernel keeps the pod's conntrack entries a while. A new pod that takes the IP replaces the
// old mapping at once.
import type { Service, Workload } from '../../proto/types.js';

/** The subset of a Pod object the enrichment reads (k8s JSON / client-node model field names). */
export interface PodObject {
  metadata?: {
    name?: string;
    namespace?: string;
    generateName?: string;
    uid?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: { nodeName?: string; hostNetwork?: boolean; serviceAccountName?: string };
  status?: { phase?: string; podIP?: string; podIPs?: { ip?: string }[] };
}

export interface ServiceObject {
  metadata?: { name?: string; namespace?: string };
  spec?: { clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[]; ports?: { port?: number; protocol?: string }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export interface NodeObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { addresses?: { type?: string; address?: string }[] };
}

export interface NamespaceObject {
  metadata?: { name?: string; labels?: Record<string, string> };
}

export interface EndpointSliceObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  endpoints?: { addresses?: string[] }[];
}

export interface PodInfo {
  key: string;
  namespace: string;
  pod_name: string;
  node: string;
  /** Sorted "k8s:key=value" labels, frozen and shared between flows. */
  labels: string[];
  workloads: Workload[] | undefined;
}

// `labelSource` keeps what the labels are built from, to rebuild them when the namespace's change.
interface PodEntry {
  info: PodInfo;
  ips: string[];
  deletedAtMs: number;
  labelSource: PodObject;
}

export const DEFAULT_POD_GRACE_MS = 30_000;

// Cilium's default label filter (pkg/labelsfilter, prefix matches on the key): labels that say
// nothing about the workload's security identity stay out of the identity, hence out of Hubble's
// Endpoint.labels.
const EXCLUDED_LABEL = [
  /^io\.kubernetes/,
  /^kubernetes\.io/,
  /^statefulset\.kubernetes\.io\/pod-name/,
  /^apps\.kubernetes\.io\/pod-index/,
  /^batch\.kubernetes\.io\/job-completion-index/,
  /^.*beta\.kubernetes\.io/,
  /^k8s\.io/,
  /^pod-template-generation/,
  /^pod-template-hash/,
  /^controller-revision-hash/,
  /^annotation.*/,
  /^etcd_node/,
];
const CRONJOB_NAME = /^(.+)-\d{8,10}$/;

function keepLabel(k: string): boolean {
  for (const re of EXCLUDED_LABEL) if (re.test(k)) return false;
  return true;
}

/**
 * Endpoint labels as Cilium derives them from a pod: its identity-relevant labels, its
 * namespace's labels (io.cilium.k8s.namespace.labels.*), namespace, service account and cluster.
 */
export function podLabels(pod: PodObject, cluster: string, namespaceLabels?: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) if (keepLabel(k)) out.push(`k8s:${k}=${v}`);
  for (const [k, v] of Object.entries(namespaceLabels ?? {})) out.push(`k8s:io.cilium.k8s.namespace.labels.${k}=${v}`);
  out.push(`k8s:io.kubernetes.pod.namespace=${pod.metadata?.namespace ?? ''}`);
  out.push(`k8s:io.cilium.k8s.policy.serviceaccount=${pod.spec?.serviceAccountName || 'default'}`);
  out.push(`k8s:io.cilium.k8s.policy.cluster=${cluster}`);
  return out.sort();
}

/**
 * The pod's workload as Cilium's GetWorkloadMetaFromPod derives it for Hubble's
 * Endpoint.workloads: the controlling owner, ReplicaSet → Deployment (its name minus the
 * pod-template-hash suffix), Job → CronJob (its name minus the -<8..10 digit> schedule suffix).
 */
export function podWorkload(pod: PodObject): Workload | undefined {
  const m = pod.metadata;
  if (!m?.generateName) return undefined;
  const ref = (m.ownerReferences ?? []).find((r) => r.controller === true);
  if (ref === undefined || !ref.kind || !ref.name) return undefined;
  const hash = m.labels?.['pod-template-hash'] ?? '';
  if (ref.kind === 'ReplicaSet' && hash !== '' && ref.name.endsWith(hash)) {
    const suffix = `-${hash}`;
    return { name: ref.name.endsWith(suffix) ? ref.name.slice(0, -suffix.length) : ref.name, kind: 'Deployment' };
  }
  if (ref.kind === 'ReplicationController' && m.labels?.deploymentconfig) return { name: m.labels.deploymentconfig, kind: 'DeploymentConfig' };
  if (ref.kind === 'Job') {
    const cj = CRONJOB_NAME.exec(ref.name);
    if (cj !== null) return { name: cj[1], kind: 'CronJob' };
  }
  return { name: ref.name, kind: ref.kind };
}

function podIps(pod: PodObject): string[] {
  const s = pod.status;
  const ips = new Set<string>();
  for (const p of s?.podIPs ?? []) if (p.ip) ips.add(p.ip);
  if (s?.podIP) ips.add(s.podIP);
  return [...ips];
}

function keyOf(m: { namespace?: string; name?: string } | undefined): string {
  return `${m?.namespace ?? ''}/${m?.name ?? ''}`;
}

export interface K8sStateCounters {
  pods: number;
  podsDeletedPending: number;
  services: number;
  nodes: number;
  podIps: number;
  expired: number;
}

export class K8sClusterState {
  private readonly podsByKey = new Map<string, PodEntry>();
  private readonly podByIp = new Map<string, PodEntry>();
  private readonly servicesByKey = new Map<string, { frontends: string[] }>();
  private readonly serviceByFrontend = new Map<string, Map<number, Service>>();
  private readonly nodesByName = new Map<string, string[]>();
  private readonly nodeByIp = new Map<string, string>();
  private readonly apiserverBySlice = new Map<string, string[]>();
  private readonly apiserverIps = new Map<string, number>();
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private expiredTotal = 0;
  private nextSweepMs = 0;

  constructor(
    readonly cluster: string,
    private readonly graceMs = DEFAULT_POD_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- pods ----

  upsertPod(pod: PodObject): void {
    const key = keyOf(pod.metadata);
    const phase = pod.status?.phase;
    // Host-network pods share the node's address (Cilium gives them the host identity); finished
    // pods have released theirs.
    if (pod.spec?.hostNetwork || phase === 'Succeeded' || phase === 'Failed') {
      this.deletePod(pod);
      return;
    }
    const ips = podIps(pod);
    const workload = podWorkload(pod);
    const labelSource: PodObject = {
      metadata: { namespace: pod.metadata?.namespace, labels: pod.metadata?.labels },
      spec: { serviceAccountName: pod.spec?.serviceAccountName },
    };
    const info: PodInfo = Object.freeze({
      key,
      namespace: pod.metadata?.namespace ?? '',
      pod_name: pod.metadata?.name ?? '',
      node: pod.spec?.nodeName ?? '',
      labels: this.labelsFor(labelSource),
      workloads: workload ? (Object.freeze([Object.freeze(workload)]) as Workload[]) : undefined,
    });
    const old = this.podsByKey.get(key);
    if (old !== undefined) this.unmapPodIps(old);
    const entry: PodEntry = { info, ips, deletedAtMs: 0, labelSource };
    this.podsByKey.set(key, entry);
    for (const ip of ips) this.podByIp.set(ip, entry);
  }

  private labelsFor(p: PodObject): string[] {
    return Object.freeze(podLabels(p, this.cluster, this.namespaceLabels.get(p.metadata?.namespace ?? ''))) as string[];
  }

  // ---- namespaces (their labels are part of every pod's endpoint labels) ----

  upsertNamespace(ns: NamespaceObject): void {
    const name = ns.metadata?.name ?? '';
    this.namespaceLabels.set(name, { ...(ns.metadata?.labels ?? {}) });
    this.relabel(name);
  }

  deleteNamespace(ns: NamespaceObject): void {
    const name = ns.metadata?.name ?? '';
    if (this.namespaceLabels.delete(name)) this.relabel(name);
  }

  private relabel(namespace: string): void {
    for (const e of this.podsByKey.values()) {
      if (e.info.namespace !== namespace) continue;
      e.info = Object.freeze({ ...e.info, labels: this.labelsFor(e.labelSource) });
    }
  }

  /** Marks the pod deleted: its IPs keep resolving for the grace period unless reused. */
  deletePod(pod: PodObject): void {
    const entry = this.podsByKey.get(keyOf(pod.metadata));
    if (entry === undefined || entry.deletedAtMs !== 0) return;
    entry.deletedAtMs = this.now() || 1;
  }

  private unmapPodIps(e: PodEntry): void {
    for (const ip of e.ips) if (this.podByIp.get(ip) === e) this.podByIp.delete(ip);
  }

  /** Removes pods whose grace period is over; cheap to call often (runs at most once a second). */
  sweep(force = false): void {
    const now = this.now();
    if (!force && now < this.nextSweepMs) return;
    this.nextSweepMs = now + 1000;
    for (const [key, e] of this.podsByKey) {
      if (e.deletedAtMs !== 0 && now - e.deletedAtMs >= this.graceMs) {
        this.podsByKey.delete(key);
        this.unmapPodIps(e);
        this.expiredTotal++;
      }
    }
  }

  podByIP(ip: string): PodInfo | undefined {
    const e = this.podByIp.get(ip);
    if (e === undefined) return undefined;
    if (e.deletedAtMs !== 0 && this.now() - e.deletedAtMs >= this.graceMs) return undefined;
    return e.info;
  }

  // ---- services ----

  upsertService(svc: ServiceObject): void {
    const key = keyOf(svc.metadata);
    this.deleteService(svc);
    const s = svc.spec;
    const frontends = new Set<string>();
    for (const ip of s?.clusterIPs ?? []) frontends.add(ip);
    if (s?.clusterIP) frontends.add(s.clusterIP);
    for (const ip of s?.externalIPs ?? []) frontends.add(ip);
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip) frontends.add(ing.ip);
    frontends.delete('None');
    frontends.delete('');
    const value: Service = Object.freeze({ name: svc.metadata?.name ?? '', namespace: svc.metadata?.namespace ?? '' });
    for (const ip of frontends) {
      let byPort = this.serviceByFrontend.get(ip);
      if (byPort === undefined) {
        byPort = new Map();
        this.serviceByFrontend.set(ip, byPort);
      }
      for (const p of s?.ports ?? []) if (p.port) byPort.set(p.port, value);
    }
    this.servicesByKey.set(key, { frontends: [...frontends] });
  }

  deleteService(svc: ServiceObject): void {
    const key = keyOf(svc.metadata);
    const old = this.servicesByKey.get(key);
    if (old === undefined) return;
    this.servicesByKey.delete(key);
    for (const ip of old.frontends) {
      const byPort = this.serviceByFrontend.get(ip);
      if (byPort === undefined) continue;
      for (const [port, v] of byPort) if (`${v.namespace}/${v.name}` === key) byPort.delete(port);
      if (byPort.size === 0) this.serviceByFrontend.delete(ip);
    }
  }

  /** The service whose frontend is (ip, port), as Hubble's GetServiceByAddr. */
  serviceByAddr(ip: string, port: number): Service | undefined {
    return this.serviceByFrontend.get(ip)?.get(port);
  }

  isServiceFrontend(ip: string): boolean {
    return this.serviceByFrontend.has(ip);
  }

  // ---- nodes ----

  upsertNode(node: NodeObject): void {
    const name = node.metadata?.name ?? '';
    this.deleteNode(node);
    const ips = new Set<string>();
    for (const a of node.status?.addresses ?? []) if ((a.type === 'InternalIP' || a.type === 'ExternalIP') && a.address) ips.add(a.address);
    // The cilium_host addresses Cilium announces on the node (old and new annotation names).
    const ann = node.metadata?.annotations ?? {};
    for (const k of [
      'network.cilium.io/ipv4-cilium-host',
      'network.cilium.io/ipv6-cilium-host',
      'io.cilium.network.ipv4-cilium-host',
      'io.cilium.network.ipv6-cilium-host',
    ]) {
      if (ann[k]) ips.add(ann[k]);
    }
    this.nodesByName.set(name, [...ips]);
    for (const ip of ips) this.nodeByIp.set(ip, name);
  }

  deleteNode(node: NodeObject): void {
    const name = node.metadata?.name ?? '';
    const old = this.nodesByName.get(name);
    if (old === undefined) return;
    this.nodesByName.delete(name);
    for (const ip of old) if (this.nodeByIp.get(ip) === name) this.nodeByIp.delete(ip);
  }

  nodeByIP(ip: string): string | undefined {
    return this.nodeByIp.get(ip);
  }

  // ---- kube-apiserver (EndpointSlices of default/kubernetes) ----

  upsertApiserverSlice(slice: EndpointSliceObject): void {
    this.deleteApiserverSlice(slice);
    const ips: string[] = [];
    for (const ep of slice.endpoints ?? []) for (const a of ep.addresses ?? []) ips.push(a);
    this.apiserverBySlice.set(keyOf(slice.metadata), ips);
    for (const ip of ips) this.apiserverIps.set(ip, (this.apiserverIps.get(ip) ?? 0) + 1);
  }

  deleteApiserverSlice(slice: EndpointSliceObject): void {
    const key = keyOf(slice.metadata);
    const old = this.apiserverBySlice.get(key);
    if (old === undefined) return;
    this.apiserverBySlice.delete(key);
    for (const ip of old) {
      const n = (this.apiserverIps.get(ip) ?? 1) - 1;
      if (n <= 0) this.apiserverIps.delete(ip);
      else this.apiserverIps.set(ip, n);
    }
  }

  isApiserver(ip: string): boolean {
    return this.apiserverIps.has(ip);
  }

  get counters(): K8sStateCounters {
    let pending = 0;
    for (const e of this.podsByKey.values()) if (e.deletedAtMs !== 0) pending++;
    return {
      pods: this.podsByKey.size - pending,
      podsDeletedPending: pending,
      services: this.servicesByKey.size,
      nodes: this.nodesByName.size,
      podIps: this.podByIp.size,
      expired: this.expiredTotal,
    };
  }
}
