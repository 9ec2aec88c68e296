// Before a collector reads its source, generated records go through a private copy of its hot
// path (decode, enrich, the ring's Native blocks), so that V8 has optimised that code when the
// first real records arrive. Cold, the path costs tens of µs a record: a collector started at
// 30k records/s fell behind for its first two seconds and lost records to its full queue while
// every second after ran clean (docs/benchmarks.md, "Start-up loss"). Nothing of the warm-up
// leaves this function: its own source, decoder, enricher, blocks and ring, and no shipper.
import { SyntheticSource } from './sources/synthetic.js';
import { toInventory } from './synthetic/cluster.js';
import { StaticInventoryEnricher } from './enrich/static.js';
import { MonitorDecoder } from './decode/decoder.js';
import { FlowBlocks, DEFAULT_FLOW_BLOCKS } from './blocks.js';
import { BlockPool } from './block-pool.js';
import { FlowRing, DEFAULT_RING_CAPACITY } from './ring.js';
import { LiveFeed } from '../observer/live.js';
import { CollectorPipeline } from './pipeline.js';
import { LossCounters } from './loss.js';
import { DEFAULT_DECODE_QUEUE } from './decode-queue.js';

/** Records run through the warm-up by default: about a second of work cold, a few ms warm. */
export const DEFAULT_WARMUP_RECORDS = 20_000;

/** The slice the decode queue hands the pipeline. */
const SLICE = DEFAULT_DECODE_QUEUE.sliceRecords;
/** The session its rows are written under; they are never shipped. */
const WARMUP_SESSION = 'warmup';

export interface WarmupResult {
  records: number;
  flows: number;
  ms: number;
}

/** Runs `records` generated records through a throwaway pipeline, yielding between slices so the
 * collector's Observer API and health checks are served meanwhile. */
export async function warmUpPipeline(records: number): Promise<WarmupResult> {
  if (!Number.isInteger(records) || records < 0) throw new Error(`invalid warm-up record count ${records}`);
  if (records === 0) return { records: 0, flows: 0, ms: 0 };
  const t0 = performance.now();
  const source = new SyntheticSource({ seed: 1 });
  const enricher = new StaticInventoryEnricher(toInventory(source.model), { nodeName: source.nodeName });
  const decoder = new MonitorDecoder({ nodeName: source.nodeName, localEndpointId: enricher.localEndpointId });
  const loss = new LossCounters();
  const blocks = new FlowBlocks(WARMUP_SESSION, { ...DEFAULT_FLOW_BLOCKS, maxDelayMs: 0 }, new BlockPool());
  // A ring of the default size, so blocks are recycled as in a running collector.
  const ring = new FlowRing(DEFAULT_RING_CAPACITY, loss, blocks);
  const pipeline = new CollectorPipeline(decoder, enricher, ring, new LiveFeed(DEFAULT_RING_CAPACITY + SLICE), null, loss);
  try {
    for (let done = 0; done < records;) {
      const n = Math.min(SLICE, records - done);
      pipeline.records(source.take(n));
      done += n;
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    blocks.close();
  }
  return { records, flows: pipeline.stats.flowsDecoded, ms: Math.round(performance.now() - t0) };
}
