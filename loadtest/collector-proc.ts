// One synthetic collector process for the end-to-end benchmark. It runs the product collector
// (`startCollector`, the function behind `flowscope collector`) with the options that command
// would build, and adds the one thing the CLI cannot give a benchmark: exact counters. The
// source, pipeline and shipper counters are printed as one JSON line per second, and a final
// line after SIGTERM once the collector stopped (source stopped first, then the shipper drained),
// so the offered count is exact instead of rate × an approximate duration.
//
// Usage: node dist-test/loadtest/collector-proc.js --relay HOST:PORT --listen 127.0.0.1:PORT
//        --synthetic-node I --rate R [--seed S] [--synthetic-nodes N] [--drain-timeout MS]
//        --spill-dir DIR|none
// --drain-timeout: how long, after SIGTERM stopped the source, to wait for the relay to
// acknowledge everything (default 5 s, the CLI's); what is still unacknowledged then is in the
// final line's `unackedFlows`. --spill-dir: where the backlog spills, with the CLI's disk budget
// and memory bounds, as `flowscope collector` does by default (it spills under .flowscope/);
// `none` keeps the backlog in memory, bounded by --max-unacked's default alone.
import { parseArgs } from 'node:util';
import { startCollector, type RunningCollector } from '../collector/main.js';
import { buildCluster } from '../collector/synthetic/cluster.js';
import { DEFAULT_SHIPPER_OPTIONS } from '../collector/ship/shipper.js';
import { DEFAULT_SPILL_MAX_BYTES } from '../collector/ship/spill.js';

/** What the bench reads from each line this process prints. */
export interface CollectorSample {
  kind: 'ready' | 'stats' | 'final';
  node: string;
  /** Date.now() when the counters were read. */
  t: number;
  recordsRead: number;
  flowsDecoded: number;
  recordsSkipped: number;
  flowsSent: number;
  flowsAcked: number;
  flowsDropped: number;
  unackedFlows: number;
  connected: boolean;
  /** Send → durable-ack time of the newest acknowledged batch. */
  lastAckLatencyMs: number;
  /** Records lost before the collector read them (perf ring overflow; the synthetic ring when the
   * decode queue had no room). */
  perfLost: number;
  /** Records the decode queue dropped (its record or byte bound reached). */
  queueDropped: number;
  /** Records still waiting in the decode queue. */
  queued: number;
  /** Flows spilled to disk so far (batches written once), and the bytes on disk now. */
  spilledBatches: number;
  spillQueueBytes: number;
  /** Threads present before the program loaded (startup-threads.cts), on the ready line. */
  startupThreads?: string;
  /** process.memoryUsage() in MB when the counters were read: where the RSS goes. */
  memory: CollectorMemory;
  /** Records that produced no flow, by decoder reason (collector/decode/stats.ts). */
  decode: { truncated: number; unknownType: number; unknownVersion: number; badLength: number; badPacket: number; skipped: number };
}

export interface CollectorMemory {
  rss: number;
  heap_total: number;
  heap_used: number;
  /** Memory of ArrayBuffers and Buffers outside the V8 heap (blocks, records). */
  array_buffers: number;
  external: number;
}

const mb = (b: number): number => Math.round(b / 1e5) / 10;

function memory(): CollectorMemory {
  const m = process.memoryUsage();
  return { rss: mb(m.rss), heap_total: mb(m.heapTotal), heap_used: mb(m.heapUsed), array_buffers: mb(m.arrayBuffers), external: mb(m.external) };
}

const { values } = parseArgs({
  options: {
    relay: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1:0' },
    'synthetic-node': { type: 'string', default: '1' },
    'synthetic-nodes': { type: 'string', default: '4' },
    rate: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'drain-timeout': { type: 'string', default: '5000' },
    'spill-dir': { type: 'string' },
    'spill-max-bytes': { type: 'string', default: String(DEFAULT_SPILL_MAX_BYTES) },
  },
  strict: true,
});
if (!values.relay) throw new Error('--relay is required');
if (!values['spill-dir']) throw new Error('--spill-dir is required (a directory, or none)');
const seed = Number(values.seed);
const clusterNodes = Number(values['synthetic-nodes']);
const nodeIndex = values['synthetic-node']!;
// Resolve the node name the way `createSource` does, so the shipper's Hello carries the same
// name as the flows (the CLI leaves it to the source when --node-name is not given).
const model = buildCluster({ seed, nodes: clusterNodes });
const nodeName = model.nodes[Number(nodeIndex) % model.nodes.length].name;

const collector: RunningCollector = await startCollector({
  nodeName,
  source: { kind: 'synthetic', rate: Number(values.rate), seed, node: nodeIndex, clusterNodes },
  relay: values.relay,
  listen: values.listen!,
  // The CLI defaults of `flowscope collector`.
  ringCapacity: 4095,
  maxUnackedFlows: DEFAULT_SHIPPER_OPTIONS.maxUnackedFlows,
  spill: values['spill-dir'] === 'none' ? null : { dir: values['spill-dir'], maxBytes: Number(values['spill-max-bytes']) },
});

function emit(kind: CollectorSample['kind']): void {
  const p = collector.pipeline.stats;
  const s = collector.shipper!.stats;
  const d = collector.decodeStats;
  const line: CollectorSample = {
    kind,
    node: nodeName,
    t: Date.now(),
    recordsRead: p.recordsRead,
    flowsDecoded: p.flowsDecoded,
    recordsSkipped: p.recordsSkipped,
    flowsSent: s.flowsSent,
    flowsAcked: s.flowsAcked,
    flowsDropped: s.flowsDropped,
    unackedFlows: s.unackedFlows,
    connected: s.connected,
    lastAckLatencyMs: s.lastAckLatencyMs,
    perfLost: p.perfLost,
    queueDropped: collector.queue.dropped,
    queued: collector.queue.length,
    spilledBatches: s.spill?.spilledBatches ?? 0,
    spillQueueBytes: s.spill?.queueBytes ?? 0,
    memory: memory(),
    decode: {
      truncated: d.truncated,
      unknownType: d.unknownType,
      unknownVersion: d.unknownVersion,
      badLength: d.badLength,
      badPacket: d.badPacket,
      skipped: d.skipped,
    },
  };
  if (kind === 'ready') line.startupThreads = process.env.FLOWSCOPE_STARTUP_THREADS;
  process.stdout.write(JSON.stringify(line) + '\n');
}

emit('ready');
const ticker = setInterval(() => emit('stats'), 1000);
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  // stop() stops the source, then waits up to 5 s for the relay to acknowledge what was sent:
  // the final counters are what the source produced and what the relay made durable.
  collector.stop(Number(values['drain-timeout'])).then(
    () => {
      emit('final');
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`stop failed: ${err.message}\n`);
      emit('final');
      process.exit(1);
    },
  );
});
