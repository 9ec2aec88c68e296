// The one place that turns a `--source` spec into a source with its decoder and enricher.
// A new source is one file in this folder and one case here.
import { hostname } from 'node:os';
import type { Source } from '../source.js';
import { MonitorDecoder } from '../decode/decoder.js';
import { StaticInventoryEnricher } from '../enrich/static.js';
import { ChainedEnricher, type Enricher } from '../enrich/enricher.js';
import { DnsNameEnricher } from '../enrich/dns-names.js';
import { Redactor, type RedactionOptions } from '../enrich/redact.js';
import { K8sClusterState, DEFAULT_POD_GRACE_MS } from '../enrich/k8s-state.js';
import { KubernetesEnricher } from '../enrich/k8s.js';
import type { KubernetesWatcher } from '../enrich/k8s-watch.js';
import { createLogger } from '../../common/logger.js';
import type { DnsPairingOptions } from '../decode/dns-pairing.js';
import { loadInventory, type Inventory } from '../enrich/inventory.js';
import { buildCluster, toInventory } from '../synthetic/cluster.js';
import { SyntheticSource } from './synthetic.js';
import type { Scenario } from '../synthetic/traffic.js';
import { FileSource } from './file.js';
import { CiliumSource, DEFAULT_CILIUM_EVENTS_PATH } from './cilium.js';
import { KernelSource } from './kernel.js';
import { ciliumUnavailable, kernelUnavailable } from './kernel-env.js';
import { bpfObject, loadPerfNative } from '../perf/native.js';
import { KernelDecoder } from '../decode/kernel.js';
import { dropReasonNames } from '../decode/kernel-reasons.js';
import type { FlowDecoder } from '../pipeline.js';
import type { DecodeStats } from '../decode/stats.js';

export type SourceSpec =
  | {
      kind: 'synthetic';
      rate: number;
      seed: number;
      node: string;
      clusterNodes: number;
      policyDenySurge?: number;
      count?: number;
      weights?: Partial<Record<Scenario, number>>;
    }
  | { kind: 'file'; path: string }
  | { kind: 'cilium'; path: string; pages: number; wakeupBytes: number }
  | { kind: 'kernel'; pages: number; wakeupBytes: number; aggregateSeconds: number; includeUnspecified: boolean; dns: boolean; cgroupRoot?: string };

export const SOURCE_KINDS = ['synthetic', 'file:PATH', 'cilium[:PATH]', 'kernel'] as const;

export type SourceKind = 'synthetic' | 'kernel' | { file: string } | { cilium: string };

/** Parses `--source`: "synthetic", "file:/path/records.jsonl", "cilium[:/pinned/map]" or "kernel". */
export function parseSourceKind(s: string): SourceKind {
  if (s === 'synthetic' || s === 'kernel') return s;
  if (s.startsWith('file:') && s.length > 5) return { file: s.slice(5) };
  if (s === 'cilium') return { cilium: DEFAULT_CILIUM_EVENTS_PATH };
  if (s.startsWith('cilium:') && s.length > 7) return { cilium: s.slice(7) };
  throw new Error(`unknown source "${s}" (expected one of: ${SOURCE_KINDS.join(', ')})`);
}

/** Why a source cannot run on this node (missing toolchain, privilege, map...), or null. */
export function sourceUnavailable(spec: SourceSpec): string | null {
  if (spec.kind === 'cilium') return ciliumUnavailable(spec.path);
  if (spec.kind === 'kernel') return kernelUnavailable();
  return null;
}

export interface BuiltSource {
  source: Source;
  decoder: FlowDecoder & { readonly stats: DecodeStats };
  enricher: Enricher | null;
  /** Set with Kubernetes enrichment: start it (and await its first sync) before reading records. */
  kubernetes: KubernetesWatcher | null;
  /** The node name flows are stamped with (cluster prefix included when set). */
  nodeName: string;
  /** The last enrichment step with --redact-enabled (its counters feed the metrics), else null. */
  redactor: Redactor | null;
}

/** Enrichment from the Kubernetes API instead of an inventory file. */
export interface KubernetesEnrichmentSpec {
  kubeconfig?: string;
  /** Cluster name for Endpoint.cluster_name and the node-name prefix (default "default"). */
  clusterName?: string;
  /** How long a deleted pod's IP keeps resolving (ms). */
  podGraceMs?: number;
}

export async function createSource(
  spec: SourceSpec,
  ctx: {
    nodeName?: string;
    /** Cluster name for every source: names the synthetic cluster, overrides an inventory's (with --k8s, kubernetes.clusterName). */
    clusterName?: string;
    inventoryPath?: string;
    kubernetes?: KubernetesEnrichmentSpec;
    l7Dns?: boolean;
    dnsPairing?: DnsPairingOptions;
    version: string;
    /** Redaction of sensitive L7 values, after every other enrichment (so names it adds are covered too). */
    redact?: RedactionOptions | null;
  },
): Promise<BuiltSource> {
  if (ctx.kubernetes && ctx.inventoryPath) throw new Error('--k8s and --inventory are alternatives: give one');
  let inventory: Inventory | null = ctx.inventoryPath ? loadInventory(ctx.inventoryPath) : null;
  let source: Source;
  let node = ctx.nodeName;
  let kernelReasons: ReturnType<typeof dropReasonNames> | null = null;
  if (spec.kind === 'synthetic') {
    const model = buildCluster({ seed: spec.seed, nodes: spec.clusterNodes, ...(ctx.clusterName !== undefined ? { cluster: ctx.clusterName } : {}) });
    const byIndex = /^\d+$/.test(spec.node) ? model.nodes[Number(spec.node) % model.nodes.length] : model.nodes.find((n) => n.name === spec.node);
    if (!byIndex) throw new Error(`synthetic node "${spec.node}" is not in the cluster (${model.nodes.map((n) => n.name).join(', ')})`);
    node ??= byIndex.name;
    source = new SyntheticSource({
      rate: spec.rate,
      seed: spec.seed + byIndex.index,
      model,
      nodeName: byIndex.name,
      policyDenySurge: spec.policyDenySurge,
      count: spec.count,
      weights: spec.weights,
    });
    if (!ctx.kubernetes) inventory ??= toInventory(model);
  } else if (spec.kind === 'file') {
    source = new FileSource(spec.path);
  } else {
    const why = sourceUnavailable(spec);
    if (why !== null) throw new Error(`source ${spec.kind} unavailable: ${why}`);
    const native = loadPerfNative();
    if (!native.ok) throw new Error(native.reason);
    if (spec.kind === 'cilium') {
      source = new CiliumSource(native.native, { path: spec.path, pages: spec.pages, wakeupBytes: spec.wakeupBytes });
    } else {
      const obj = bpfObject('probe');
      if (!obj.ok) throw new Error(obj.reason);
      source = new KernelSource(native.native, {
        objectPath: obj.path,
        pages: spec.pages,
        wakeupBytes: spec.wakeupBytes,
        aggregateSeconds: spec.aggregateSeconds,
        includeUnspecified: spec.includeUnspecified,
        dns: spec.dns,
        ...(spec.cgroupRoot !== undefined ? { cgroupRoot: spec.cgroupRoot } : {}),
      });
      // Drop reason numbers differ between kernels: name them from this kernel's BTF.
      kernelReasons = dropReasonNames(native.native.kernelEnum('skb_drop_reason'));
    }
    node ??= hostname();
  }
  if (!node) throw new Error('--node-name is required for this source');
  if (inventory && ctx.clusterName !== undefined && inventory.cluster !== ctx.clusterName) inventory = { ...inventory, cluster: ctx.clusterName };
  const clusterName = ctx.kubernetes ? (ctx.kubernetes.clusterName ?? 'default') : (ctx.clusterName ?? inventory?.cluster);
  // A name given as "<cluster>/<node>" is already stamped; the decoder must not prefix it again.
  const cluster = clusterName && clusterName !== 'default' ? clusterName : undefined;
  if (cluster && node.startsWith(`${cluster}/`)) node = node.slice(cluster.length + 1);
  let enricher: Enricher | null = null;
  let kubernetes: KubernetesWatcher | null = null;
  let localEndpointId: ((ip: string) => number) | undefined;
  if (ctx.kubernetes) {
    const state = new K8sClusterState(clusterName ?? 'default', ctx.kubernetes.podGraceMs ?? DEFAULT_POD_GRACE_MS);
    // Loaded only with --k8s: the client library alone adds ~70 MB to a collector's RSS.
    const { KubernetesWatcher } = await import('../enrich/k8s-watch.js');
    kubernetes = new KubernetesWatcher(state, createLogger('collector').child({ node, module: 'k8s' }), { kubeconfig: ctx.kubernetes.kubeconfig });
    enricher = new KubernetesEnricher(state, node);
  } else if (inventory) {
    const s = new StaticInventoryEnricher(inventory, { nodeName: node });
    enricher = s;
    localEndpointId = s.localEndpointId;
  }
  // With DNS seen, its answers name the addresses clients resolved (after the inventory's names).
  if (ctx.l7Dns) enricher = enricher ? new ChainedEnricher([enricher, new DnsNameEnricher()]) : new DnsNameEnricher();
  const redactor = ctx.redact ? new Redactor(ctx.redact) : null;
  if (redactor) enricher = enricher ? new ChainedEnricher([enricher, redactor]) : redactor;
  const decoder = kernelReasons
    ? new KernelDecoder({ nodeName: node, clusterName, emitterVersion: ctx.version, dropReasonNames: kernelReasons, l7Dns: ctx.l7Dns })
    : new MonitorDecoder({
        nodeName: node,
        clusterName,
        emitterVersion: ctx.version,
        localEndpointId,
        l7Dns: ctx.l7Dns,
        dnsPairing: ctx.dnsPairing,
      });
  const stamped = cluster ? `${cluster}/${node}` : node;
  return { source, decoder, enricher, kubernetes, nodeName: stamped, redactor };
}
