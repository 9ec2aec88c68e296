// Decoder throughput on one core: a realistic pre-generated record mix from the synthetic
// source, decoded in a loop. Run: node dist-test/loadtest/decode.bench.js [seconds]
import { SyntheticSource } from '../collector/sources/synthetic.js';
import { toInventory } from '../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../collector/enrich/static.js';
import { MonitorDecoder } from '../collector/decode/decoder.js';
import { K8sClusterState } from '../collector/enrich/k8s-state.js';
import { KubernetesEnricher } from '../collector/enrich/k8s.js';
import type { Enricher } from '../collector/enrich/enricher.js';

const seconds = Number(process.argv[2] ?? 3);
const src = new SyntheticSource({ seed: 42 });
const recs = src.take(65_536, Date.now() * 1e6);
const enricher = new StaticInventoryEnricher(toInventory(src.model), { nodeName: src.nodeName });
const bytes = recs.reduce((n, r) => n + r.data.length, 0);
// The same cluster as the Kubernetes watches would describe it.
const state = new K8sClusterState(src.model.cluster);
for (const n of src.model.nodes)
  state.upsertNode({
    metadata: { name: n.name },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'InternalIP', address: n.ip6 },
      ],
    },
  });
for (const p of src.model.pods)
  state.upsertPod({
    metadata: { name: p.name, namespace: p.namespace, labels: { app: p.app } },
    spec: { nodeName: p.node },
    status: { podIPs: [{ ip: p.ip }, { ip: p.ip6 }] },
  });
for (const s of src.model.services)
  state.upsertService({ metadata: { name: s.name, namespace: s.namespace }, spec: { clusterIP: s.clusterIP, ports: s.ports } });
const k8sEnricher = new KubernetesEnricher(state, src.nodeName);

function run(label: string, enrich: Enricher | null, l7Dns = false): void {
  const dec = new MonitorDecoder({ nodeName: src.nodeName, localEndpointId: enricher.localEndpointId, l7Dns });
  // Warm up so the measurement sees optimised code.
  for (let i = 0; i < 200_000; i++) dec.decode(recs[i & 65535]);
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 65_536; i++) {
      const f = dec.decode(recs[i]);
      if (f !== null) {
        enrich?.enrich(f);
        sink += f.verdict!;
        for (const l of dec.l7Flows) {
          enrich?.enrich(l);
          sink += l.verdict!;
        }
      }
    }
    n += 65_536;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${label}: ${Math.round(n / s).toLocaleString('en-US')} records/s (${(n / s / 1e6).toFixed(2)} M/s, ${((s / n) * 1e9).toFixed(0)} ns/record, checksum ${sink % 7})`,
  );
}

console.log(`mix: ${recs.length} records, avg ${(bytes / recs.length).toFixed(0)} bytes`);
run('decode', null);
run('decode+enrich (static inventory)', enricher);
run('decode+enrich (Kubernetes state)', k8sEnricher);
// The loop replays the same records: after the first pass DNS messages are duplicates by key.
run('decode+l7-dns+enrich (static)', enricher, true);
