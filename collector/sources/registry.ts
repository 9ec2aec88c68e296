// The one place that turns a `--source` spec into a source with its decoder and enricher.
// A new source is one file in this folder and one case here.
import { hostname } from 'node:os';
import type { Source } from '../source.js';
import { MonitorDecoder } from '../decode/decoder.js';
import { StaticInventoryEnricher } from '../enrich/static.js';
import { loadInventory, type Inventory } from '../enrich/inventory.js';
import { buildCluster, toInventory } from '../synthetic/cluster.js';
import { SyntheticSource } from './synthetic.js';
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
  | { kind: 'synthetic'; rate: number; seed: number; node: string; clusterNodes: number; policyDenySurge?: number }
  | { kind: 'file'; path: string }
  | { kind: 'cilium'; path: string; pages: number; wakeupBytes: number }
  | { kind: 'kernel'; pages: number; wakeupBytes: number; aggregateSeconds: number; includeUnspecified: boolean; dns: boolean };

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
  enricher: StaticInventoryEnricher | null;
  /** The node name flows are stamped with (cluster prefix included when set). */
  nodeName: string;
}

export async function createSource(spec: SourceSpec, ctx: { nodeName?: string; inventoryPath?: string; version: string }): Promise<BuiltSource> {
  let inventory: Inventory | null = ctx.inventoryPath ? loadInventory(ctx.inventoryPath) : null;
  let source: Source;
  let node = ctx.nodeName;
  if (spec.kind === 'synthetic') {
    const model = buildCluster({ seed: spec.seed, nodes: spec.clusterNodes });
    const byIndex = /^\d+$/.test(spec.node) ? model.nodes[Number(spec.node) % model.nodes.length] : model.nodes.find((n) => n.name === spec.node);
    if (!byIndex) throw new Error(`synthetic node "${spec.node}" is not in the cluster (${model.nodes.map((n) => n.name).join(', ')})`);
    node ??= byIndex.name;
    source = new SyntheticSource({ rate: spec.rate, seed: spec.seed + byIndex.index, model, nodeName: byIndex.name, policyDenySurge: spec.policyDenySurge });
    inventory ??= toInventory(model);
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
      source = new KernelSource(native.native, { objectPath: obj.path, pages: spec.pages, wakeupBytes: spec.wakeupBytes, aggregateSeconds: spec.aggregateSeconds, includeUnspecified: spec.includeUnspecified, dns: spec.dns });
      node ??= hostname();
      const enricher = inventory ? new StaticInventoryEnricher(inventory, { nodeName: node }) : null;
      const decoder = new KernelDecoder({ nodeName: node, clusterName: inventory?.cluster, emitterVersion: ctx.version, dropReasonNames: dropReasonNames(native.native.kernelEnum('skb_drop_reason')) });
      return { source, decoder, enricher, nodeName: stampedName(node, inventory?.cluster) };
    }
    node ??= hostname();
  }
  if (!node) throw new Error('--node-name is required for this source');
  const enricher = inventory ? new StaticInventoryEnricher(inventory, { nodeName: node }) : null;
  const decoder = new MonitorDecoder({
    nodeName: node,
    clusterName: inventory?.cluster,
    emitterVersion: ctx.version,
    localEndpointId: enricher?.localEndpointId,
  });
  return { source, decoder, enricher, nodeName: stampedName(node, inventory?.cluster) };
}

// A name given as "<cluster>/<node>" is already stamped; it must not be prefixed again.
function stampedName(node: string, clusterName: string | undefined): string {
  const cluster = clusterName && clusterName !== 'default' ? clusterName : undefined;
  if (cluster && node.startsWith(`${cluster}/`)) node = node.slice(cluster.length + 1);
  return cluster ? `${cluster}/${node}` : node;
}
