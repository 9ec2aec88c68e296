// Enrichment from the live cluster state (K8sClusterState, fed by the Kubernetes watches):
// pod IP → namespace, pod, labels, workload; service frontend → source/destination_service;
// node IPs → reserved:host (this node) / reserved:remote-node; kube-apiserver endpoints →
// reserved:kube-apiserver; anything else → reserved:world. Identities carried by the record win
// (Cilium sources); without one (kernel source) pods get no numeric identity, since only Cilium
// allocates those.
import type { Endpoint, Flow } from '../../proto/types.js';
import { IDENTITY_HOST, IDENTITY_KUBE_APISERVER, IDENTITY_REMOTE_NODE, IDENTITY_WORLD, RESERVED_IDENTITY_LABELS, type Enricher } from './enricher.js';
import type { K8sClusterState } from './k8s-state.js';

export class KubernetesEnricher implements Enricher {
  constructor(
    private readonly state: K8sClusterState,
    private readonly nodeName: string,
  ) {}

  enrich(flow: Flow): void {
    const ip = flow.IP;
    if (ip === undefined) return;
    if (ip.source !== undefined) this.endpoint((flow.source ??= {}), ip.source);
    if (ip.destination !== undefined) this.endpoint((flow.destination ??= {}), ip.destination);
    const l4 = flow.l4;
    const p = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
    if (p !== undefined) {
      if (ip.source !== undefined && p.source_port) {
        const s = this.state.serviceByAddr(ip.source, p.source_port);
        if (s !== undefined) flow.source_service = s;
      }
      if (ip.destination !== undefined && p.destination_port) {
        const s = this.state.serviceByAddr(ip.destination, p.destination_port);
        if (s !== undefined) flow.destination_service = s;
      }
    }
  }

  private endpoint(ep: Endpoint, ip: string): void {
    const pod = this.state.podByIP(ip);
    if (pod !== undefined) {
      ep.cluster_name = this.state.cluster;
      ep.namespace = pod.namespace;
      ep.pod_name = pod.pod_name;
      ep.labels = pod.labels;
      if (pod.workloads !== undefined) ep.workloads = pod.workloads;
      return;
    }
    if (!ep.identity) {
      // A service VIP before load-balancing has no identity of its own: the service field names it.
      if (this.state.isServiceFrontend(ip)) return;
      const node = this.state.nodeByIP(ip);
      if (this.state.isApiserver(ip)) ep.identity = IDENTITY_KUBE_APISERVER;
      else if (node !== undefined) ep.identity = node === this.nodeName ? IDENTITY_HOST : IDENTITY_REMOTE_NODE;
      else ep.identity = IDENTITY_WORLD;
    }
    const labels = RESERVED_IDENTITY_LABELS[ep.identity] as string[] | undefined;
    if (labels !== undefined) ep.labels = labels;
  }
}
