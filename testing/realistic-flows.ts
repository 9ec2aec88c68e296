// Flows as a cluster produces them, for storage benchmarks: the synthetic datapath's Cilium
// records of several nodes, decoded and enriched exactly as collectors do, then put through
// protobuf encode/decode (what the relay receives).
import { SyntheticSource } from '../collector/sources/synthetic.js';
import { buildCluster, toInventory, type ClusterModel } from '../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../collector/enrich/static.js';
import { MonitorDecoder } from '../collector/decode/decoder.js';
import { types, encode, decode } from '../proto/index.js';
import type { Flow } from '../proto/types.js';

/** A node of a synthetic cluster as a collector sees it: its datapath's records, and the decoder
 * and enricher the collector would use. */
export function syntheticNode(model: ClusterModel, k: number, seed: number, version = '0.1.0') {
  const inventory = toInventory(model);
  const node = model.nodes[k % model.nodes.length];
  const src = new SyntheticSource({ rate: 1e6, seed, model, nodeName: node.name });
  const enricher = new StaticInventoryEnricher(inventory, { nodeName: node.name });
  const decoder = new MonitorDecoder({
    nodeName: node.name,
    clusterName: inventory.cluster,
    emitterVersion: version,
    localEndpointId: enricher.localEndpointId,
  });
  return { node, src, enricher, decoder };
}

/** `n` flows from `nodes` nodes, interleaved in time order, ending now. */
export function realisticFlows(n: number, opts: { nodes?: number; seed?: number; spanMs?: number } = {}): Flow[] {
  const nodes = opts.nodes ?? 4,
    seed = opts.seed ?? 1;
  const model = buildCluster({ seed, nodes });
  const perNode = Math.ceil(n / nodes);
  const spanNs = (opts.spanMs ?? 60_000) * 1e6;
  const startNs = Date.now() * 1e6 - spanNs;
  const out: Flow[] = [];
  for (let k = 0; k < nodes; k++) {
    const { src, enricher, decoder } = syntheticNode(model, k, seed + k);
    const recs = src.take(perNode, startNs);
    const step = spanNs / perNode;
    for (let i = 0; i < recs.length && out.length < n; i++) {
      recs[i].timeNs = startNs + Math.floor(i * step) + k;
      const f = decoder.decode(recs[i]);
      if (!f) continue;
      enricher.enrich(f);
      out.push(f);
    }
  }
  out.sort((a, b) => a.time!.seconds - b.time!.seconds || (a.time!.nanos ?? 0) - (b.time!.nanos ?? 0));
  return out.map((f) => decode<Flow>(types.Flow, encode(types.Flow, f)));
}
