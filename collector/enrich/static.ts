// Enrichment from a static inventory. Every lookup is one Map.get keyed by the address string the
// decoder already produced; the Endpoint field values (labels, workloads) are built once at load
// and shared (frozen) between flows.
import type { Endpoint, Flow, Service, Workload } from '../../proto/types.js';
import { IDENTITY_HOST, IDENTITY_KUBE_APISERVER, IDENTITY_REMOTE_NODE, IDENTITY_WORLD, RESERVED_IDENTITY_LABELS, type Enricher } from './enricher.js';
import { validateInventory, type Inventory } from './inventory.js';

interface EpInfo {
  node: string;
  id: number;
  identity: number;
  namespace: string;
  pod_name: string;
  labels: string[];
  workloads: Workload[] | undefined;
}

export interface StaticInventoryEnricherOptions {
  /**
   * The node this collector runs on (without cluster prefix). Endpoint IDs are node-local, so
   * Endpoint.ID is set only for pods of this node, and node IPs of this node are reserved:host.
   * When absent, the node is taken from each flow's node_name.
   */
  nodeName?: string;
}

function freezeAll<T>(a: T[]): T[] {
  return Object.freeze(a) as T[];
}

export class StaticInventoryEnricher implements Enricher {
  private readonly cluster: string;
  private readonly eps = new Map<string, EpInfo>();
  private readonly nodeOfIp = new Map<string, string>();
  private readonly services = new Map<string, Map<number, Service>>();
  private readonly identityLabels = new Map<number, string[]>();
  private readonly names = new Map<string, string[]>();
  private readonly apiserver = new Set<string>();
  private readonly clusterIPs = new Set<string>();
  private readonly fixedNode: string | undefined;
  private lastNodeName = '';
  private lastNode = '';

  constructor(inv: Inventory, opts: StaticInventoryEnricherOptions = {}) {
    validateInventory(inv);
    this.cluster = inv.cluster;
    this.fixedNode = opts.nodeName;
    for (const n of inv.nodes) for (const ip of n.ips) this.nodeOfIp.set(ip, n.name);
    for (const e of inv.endpoints) {
      const info: EpInfo = {
        node: e.node,
        id: e.id,
        identity: e.identity,
        namespace: e.namespace,
        pod_name: e.pod_name,
        labels: freezeAll([...e.labels].sort()),
        workloads: e.workloads && e.workloads.length > 0 ? freezeAll(e.workloads.map((w) => Object.freeze({ name: w.name, kind: w.kind }))) : undefined,
      };
      for (const ip of e.ips) this.eps.set(ip, info);
      if (!this.identityLabels.has(e.identity)) this.identityLabels.set(e.identity, info.labels);
    }
    for (const s of inv.services) {
      const svc: Service = Object.freeze({ name: s.name, namespace: s.namespace });
      for (const ip of s.clusterIPs) {
        this.clusterIPs.add(ip);
        let byPort = this.services.get(ip);
        if (byPort === undefined) {
          byPort = new Map();
          this.services.set(ip, byPort);
        }
        for (const p of s.ports) byPort.set(p.port, svc);
      }
    }
    for (const id of inv.identities ?? []) this.identityLabels.set(id.id, freezeAll([...id.labels].sort()));
    for (const x of inv.external ?? []) this.names.set(x.ip, freezeAll([...x.names]));
    for (const ip of inv.kubeApiserver ?? []) this.apiserver.add(ip);
  }

  /** Endpoint ID of a pod IP on this collector's node (0 if none): pass to MonitorDecoder's localEndpointId. */
  readonly localEndpointId = (ip: string): number => {
    const e = this.eps.get(ip);
    return e !== undefined && this.fixedNode !== undefined && e.node === this.fixedNode ? e.id : 0;
  };

  private localNode(flow: Flow): string {
    if (this.fixedNode !== undefined) return this.fixedNode;
    const nn = flow.node_name ?? '';
    if (nn !== this.lastNodeName) {
      this.lastNodeName = nn;
      const slash = nn.indexOf('/');
      this.lastNode = slash >= 0 ? nn.slice(slash + 1) : nn;
    }
    return this.lastNode;
  }

  enrich(flow: Flow): void {
    const ip = flow.IP;
    if (ip === undefined) return;
    const local = this.localNode(flow);
    if (ip.source !== undefined) this.endpoint((flow.source ??= {}), ip.source, local);
    if (ip.destination !== undefined) this.endpoint((flow.destination ??= {}), ip.destination, local);
    const l4 = flow.l4;
    if (l4 !== undefined) {
      const p = l4.TCP ?? l4.UDP ?? l4.SCTP;
      if (p !== undefined) {
        // Keyed by address, then port: no key string is built per flow.
        if (ip.source !== undefined && p.source_port) {
          const s = this.services.get(ip.source)?.get(p.source_port);
          if (s !== undefined) flow.source_service = s;
        }
        if (ip.destination !== undefined && p.destination_port) {
          const s = this.services.get(ip.destination)?.get(p.destination_port);
          if (s !== undefined) flow.destination_service = s;
        }
      }
    }
    if (ip.source !== undefined) {
      const n = this.names.get(ip.source);
      if (n !== undefined) flow.source_names = n;
    }
    if (ip.destination !== undefined) {
      const n = this.names.get(ip.destination);
      if (n !== undefined) flow.destination_names = n;
    }
  }

  private endpoint(ep: Endpoint, ip: string, local: string): void {
    const e = this.eps.get(ip);
    if (e !== undefined) {
      if (e.node === local && !ep.ID) ep.ID = e.id;
      if (!ep.identity) ep.identity = e.identity;
      ep.cluster_name = this.cluster;
      ep.namespace = e.namespace;
      ep.labels = e.identity === ep.identity ? e.labels : (this.labelsOf(ep.identity) ?? e.labels);
      ep.pod_name = e.pod_name;
      if (e.workloads !== undefined) ep.workloads = e.workloads;
      return;
    }
    if (!ep.identity) {
      // A ClusterIP before load-balancing has no identity of its own: the service field names it.
      if (this.clusterIPs.has(ip)) return;
      const node = this.nodeOfIp.get(ip);
      if (this.apiserver.has(ip)) ep.identity = IDENTITY_KUBE_APISERVER;
      else if (node !== undefined) ep.identity = node === local ? IDENTITY_HOST : IDENTITY_REMOTE_NODE;
      else ep.identity = IDENTITY_WORLD;
    }
    const labels = this.labelsOf(ep.identity);
    if (labels !== undefined) ep.labels = labels;
  }

  private labelsOf(identity: number): string[] | undefined {
    return (RESERVED_IDENTITY_LABELS[identity] as string[] | undefined) ?? this.identityLabels.get(identity);
  }
}
