// Cost of the Hubble flow metrics per flow on one core: decoded synthetic flows run through
// FlowMetrics with the default configuration and with a fine-grained one (pod contexts).
// Run: node dist-test/loadtest/metrics.bench.js [seconds]
import { SyntheticSource } from '../collector/sources/synthetic.js';
import { toInventory } from '../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../collector/enrich/static.js';
import { MonitorDecoder } from '../collector/decode/decoder.js';
import type { Flow } from '../proto/types.js';
import { FlowMetrics } from '../collector/metrics/flow-metrics.js';
import { DEFAULT_METRICS } from '../collector/metrics/options.js';

const seconds = Number(process.argv[2] ?? 3);
const src = new SyntheticSource({ seed: 42 });
const enricher = new StaticInventoryEnricher(toInventory(src.model), { nodeName: src.nodeName });
const dec = new MonitorDecoder({ nodeName: src.nodeName, localEndpointId: enricher.localEndpointId, l7Dns: true });
const flows: Flow[] = [];
for (const r of src.take(65_536, Date.now() * 1e6)) {
  const f = dec.decode(r);
  if (f) {
    enricher.enrich(f);
    flows.push(f);
  }
}

function run(label: string, config: string): void {
  const m = new FlowMetrics({ config });
  m.beginBatch();
  for (let i = 0; i < 100_000; i++) m.process(flows[i % flows.length]);
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    m.beginBatch();
    for (let i = 0; i < flows.length; i++) m.process(flows[i]);
    n += flows.length;
  }
  const s = (performance.now() - t0) / 1000;
  const series = m.families.reduce((x, f) => x + f.size, 0);
  console.log(`${label}: ${Math.round(n / s).toLocaleString('en-US')} flows/s (${((s / n) * 1e9).toFixed(0)} ns/flow, ${series} series)`);
}

console.log(`${flows.length} decoded flows`);
run('default metrics', DEFAULT_METRICS);
run(
  'pod contexts',
  'flow:sourceContext=pod;destinationContext=pod drop:sourceContext=pod;destinationContext=pod tcp:sourceContext=pod icmp port-distribution:destinationContext=pod flows-to-world:sourceContext=pod;port dns:query;sourceContext=pod policy:sourceContext=pod;destinationContext=pod',
);
