// The one place that turns a `--source` spec into a source with its decoder and enricher.
// A new source is one file in this folder and one case here.
import type { Source } from '../source.js';
import { MonitorDecoder } from '../decode/decoder.js';
import { StaticInventoryEnricher } from '../enrich/static.js';
import { loadInventory, type Inventory } from '../enrich/inventory.js';
import { buildCluster, toInventory } from '../synthetic/cluster.js';
import { SyntheticSource } from './synthetic.js';
import { FileSource } from './file.js';

export type SourceSpec =
  | { kind: 'synthetic'; rate: number; seed: number; node: string; clusterNodes: number; policyDenySurge?: number }
  | { kind: 'file'; path: string };

export const SOURCE_KINDS = ['synthetic', 'file:PATH'] as const;

/** Parses `--source`: "synthetic" or "file:/path/records.jsonl". */
export function parseSourceKind(s: string): 'synthetic' | { file: string } {
  if (s === 'synthetic') return 'synthetic';
  if (s.startsWith('file:') && s.length > 5) return { file: s.slice(5) };
  throw new Error(`unknown source "${s}" (expected one of: ${SOURCE_KINDS.join(', ')})`);
}

export interface BuiltSource {
  source: Source;
  decoder: MonitorDecoder;
  enricher: StaticInventoryEnricher | null;
  /** The node name flows are stamped with (cluster prefix included when set). */
  nodeName: string;
}

export async function createSource(spec: SourceSpec, ctx: { nodeName?: string; inventoryPath?: string; version: string; l7Dns?: boolean }): Promise<BuiltSource> {
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
  } else {
    source = new FileSource(spec.path);
  }
  if (!node) throw new Error('--node-name is required for this source');
  const enricher = inventory ? new StaticInventoryEnricher(inventory, { nodeName: node }) : null;
  const decoder = new MonitorDecoder({
    nodeName: node,
    clusterName: inventory?.cluster,
    emitterVersion: ctx.version,
    localEndpointId: enricher?.localEndpointId,
    // The dns metric needs the DNS payload of port-53 flows as l7.dns.
    l7Dns: ctx.l7Dns,
  });
  // A name given as "<cluster>/<node>" is already stamped; the decoder must not prefix it again.
  const cluster = inventory?.cluster && inventory.cluster !== 'default' ? inventory.cluster : undefined;
  if (cluster && node.startsWith(`${cluster}/`)) node = node.slice(cluster.length + 1);
  const stamped = cluster ? `${cluster}/${node}` : node;
  return { source, decoder, enricher, nodeName: stamped };
}
