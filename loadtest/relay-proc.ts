// The relay process of a load test. It runs the product relay (`Relay` over a `FlowStore` on
// embedded chDB, wired as `flowscope relay` wires it) and adds what the CLI cannot give a
// measurement:
//  * its ingest and insert counters, one JSON line per second and a final one after SIGTERM
//    (the relay drained its pending inserts and closed storage);
//  * a queryable-latency probe: every --probe-ms a query on a third chDB session asks, per node,
//    for the newest record time among rows inserted since the previous probe; probe start time −
//    that record time is one lag sample (an upper bound: a row may have become visible up to one
//    probe interval earlier);
//  * after the relay stopped: the exact number of stored rows per node and the flows table's
//    size on disk (system.parts, active parts, as left by the run: no OPTIMIZE).
// chDB allows one data directory per process, which is why these run in the relay's process.
//
// Usage: node dist-test/loadtest/relay-proc.js --listen 127.0.0.1:PORT --data-dir DIR
//        [--batch-rows N] [--flush-interval MS] [--probe-ms MS (0: no probe)]
import { parseArgs } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import { createLogger } from '../common/logger.js';
import { FlowStore, openClient } from '../storage/index.js';
import { Relay } from '../relay/relay.js';
import { relayStore } from '../relay/main.js';
import { tuneRelayHeap } from '../relay/heap.js';

export interface RelayCounters {
  /** Flows accepted from collector streams (duplicates of resent batches excluded). */
  flowsReceived: number;
  duplicateBatches: number;
  protocolErrors: number;
  insertedRows: number;
  insertErrors: number;
  /** Accepted, not yet durable. */
  pendingRows: number;
}

export interface RelaySample extends RelayCounters {
  kind: 'ready' | 'stats';
  t: number;
  /** Queryable-lag samples (ms) taken since the previous line. */
  queryableLagMs: number[];
  /** Longest stretch since the previous line in which the relay held accepted rows and no
   * insert completed (ms; a stretch still open counts up to now). */
  insertGapMs: number;
  /** Threads present before the program loaded (startup-threads.cts), on the ready line. */
  startupThreads?: string;
}

export interface RelayFinal extends RelayCounters {
  kind: 'final';
  t: number;
  storedRows: number;
  storedByNode: Record<string, number>;
  bytesOnDisk: number;
  bytesUncompressed: number;
  parts: number;
}

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    'data-dir': { type: 'string' },
    'batch-rows': { type: 'string', default: '50000' },
    'flush-interval': { type: 'string', default: '250' },
    'probe-ms': { type: 'string', default: '250' },
  },
  strict: true,
});
if (!values.listen || !values['data-dir']) throw new Error('--listen and --data-dir are required');
const dataDir = values['data-dir'];
const probeMs = Number(values['probe-ms']);

const log = createLogger('relay');
const store = await FlowStore.open({ connection: { kind: 'chdb', path: dataDir } });
// The heap setting `flowscope relay` applies to itself (startRelay).
tuneRelayHeap();
const relay = new Relay(
  relayStore(store),
  {
    listen: values.listen,
    nodeName: 'loadtest-relay',
    batcher: { flushIntervalMs: Number(values['flush-interval']), maxRows: Number(values['batch-rows']) },
  },
  log,
);
await relay.start();

function counters(): RelayCounters {
  const i = relay.ingest.stats,
    b = relay.batcher.stats;
  return {
    flowsReceived: i.flowsReceived,
    duplicateBatches: i.duplicateBatches,
    protocolErrors: i.protocolErrors,
    insertedRows: b.insertedRows,
    insertErrors: b.insertErrors,
    pendingRows: relay.batcher.pending,
  };
}

// --- queryable probe ---------------------------------------------------------------------------
const probe: ClickHouseClient = openClient({ kind: 'chdb', path: dataDir });
let lags: number[] = [];
let lastBatchId = '0';
let probing = true;

async function probeOnce(): Promise<void> {
  const started = Date.now();
  // PREWHERE on batch_id (Delta-coded, cheap to scan) keeps each probe to the rows inserted
  // since the previous one; the flows table is not ordered by time, so max(time) alone would
  // read the whole time column every time.
  const rs = await probe.query({
    query: `SELECT node_name, toString(toUnixTimestamp64Nano(max(time))), toString(max(batch_id))
            FROM flows PREWHERE batch_id > {b:UInt64} GROUP BY node_name`,
    query_params: { b: lastBatchId },
    format: 'JSONCompactEachRow',
  });
  const rows = await rs.json<[string, string, string]>();
  for (const [, maxTimeNs, maxBatch] of rows) {
    lags.push(started - Number(BigInt(maxTimeNs) / 1_000_000n));
    if (BigInt(maxBatch) > BigInt(lastBatchId)) lastBatchId = maxBatch;
  }
}

async function probeLoop(): Promise<void> {
  while (probing && probeMs > 0) {
    const t0 = Date.now();
    try {
      await probeOnce();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'queryable probe failed');
    }
    await new Promise((r) => setTimeout(r, Math.max(0, probeMs - (Date.now() - t0))));
  }
}
const probeDone = probeLoop();

// --- insert gaps --------------------------------------------------------------------------------
// Every 50 ms: while rows wait (pending > 0) and no insert completed, the gap grows; a completed
// insert or an empty relay closes it. A blocked event loop delays these checks, but the next one
// sees the time that passed, so a stall is measured rather than hidden.
let gapStart = Date.now();
let gapRows = relay.batcher.stats.insertedRows;
let gapMax = 0;
function checkGap(): number {
  const now = Date.now();
  const inserted = relay.batcher.stats.insertedRows;
  if (inserted !== gapRows || relay.batcher.pending === 0) {
    gapRows = inserted;
    gapStart = now;
  }
  gapMax = Math.max(gapMax, now - gapStart);
  return now;
}
const gapTicker = setInterval(checkGap, 50);

function emit(kind: RelaySample['kind']): void {
  checkGap();
  const line: RelaySample = { kind, t: Date.now(), ...counters(), queryableLagMs: lags, insertGapMs: gapMax };
  if (kind === 'ready') line.startupThreads = process.env.FLOWSCOPE_STARTUP_THREADS;
  lags = [];
  // The next line reports from here on (an open gap carries on into it).
  gapMax = Date.now() - gapStart;
  process.stdout.write(JSON.stringify(line) + '\n');
}
emit('ready');
const ticker = setInterval(() => emit('stats'), 1000);

async function finish(): Promise<RelayFinal> {
  clearInterval(ticker);
  clearInterval(gapTicker);
  probing = false;
  await probeDone;
  await probe.close();
  await relay.stop(); // drains pending inserts, closes storage
  const c = openClient({ kind: 'chdb', path: dataDir });
  try {
    const byNode = await (
      await c.query({ query: 'SELECT node_name, toString(count()) FROM flows GROUP BY node_name', format: 'JSONCompactEachRow' })
    ).json<[string, string]>();
    const parts = await (
      await c.query({
        query:
          "SELECT toString(sum(bytes_on_disk)), toString(sum(data_uncompressed_bytes)), toString(count()) FROM system.parts WHERE active AND table = 'flows' AND database = currentDatabase()",
        format: 'JSONCompactEachRow',
      })
    ).json<[string, string, string]>();
    const storedByNode: Record<string, number> = {};
    for (const [n, k] of byNode) storedByNode[n] = Number(k);
    const [disk, raw, nparts] = parts[0] ?? ['0', '0', '0'];
    return {
      kind: 'final',
      t: Date.now(),
      ...counters(),
      storedRows: Object.values(storedByNode).reduce((a, b) => a + b, 0),
      storedByNode,
      bytesOnDisk: Number(disk),
      bytesUncompressed: Number(raw),
      parts: Number(nparts),
    };
  } finally {
    await c.close();
  }
}

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  finish().then(
    (f) => {
      process.stdout.write(JSON.stringify(f) + '\n');
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`relay stop failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
});
