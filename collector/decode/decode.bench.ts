// Decoder throughput on one core: a realistic pre-generated record mix from the synthetic
// source, decoded in a loop. Run: node dist/collector/decode/decode.bench.js [seconds]
import { SyntheticSource } from '../sources/synthetic.js';
import { toInventory } from '../synthetic/cluster.js';
import { StaticInventoryEnricher } from '../enrich/static.js';
import { MonitorDecoder } from './decoder.js';

const seconds = Number(process.argv[2] ?? 3);
const src = new SyntheticSource({ seed: 42 });
const recs = src.take(65_536, Date.now() * 1e6);
const enricher = new StaticInventoryEnricher(toInventory(src.model), { nodeName: src.nodeName });
const bytes = recs.reduce((n, r) => n + r.data.length, 0);

function run(label: string, enrich: boolean): void {
  const dec = new MonitorDecoder({ nodeName: src.nodeName, localEndpointId: enricher.localEndpointId });
  // Warm up so the measurement sees optimised code.
  for (let i = 0; i < 200_000; i++) dec.decode(recs[i & 65535]);
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 65_536; i++) {
      const f = dec.decode(recs[i]);
      if (f !== null) { if (enrich) enricher.enrich(f); sink += f.verdict!; }
    }
    n += 65_536;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`${label}: ${Math.round(n / s).toLocaleString('en-US')} records/s (${(n / s / 1e6).toFixed(2)} M/s, ${((s / n) * 1e9).toFixed(0)} ns/record, checksum ${sink % 7})`);
}

console.log(`mix: ${recs.length} records, avg ${(bytes / recs.length).toFixed(0)} bytes`);
run('decode', false);
run('decode+enrich', true);
