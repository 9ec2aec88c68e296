// CPU per flow of every stage a flow passes on its way to storage, measured in one run on the
// same rows, so the figures compare with each other and with the engine's own ceiling on a noisy
// machine (docs/benchmarks.md, "Per-stage CPU"):
//
//   collector  decode + enrich a record                         (µs per record)
//              write the flow into its batch's Native block     (µs per flow, IngestMessage included)
//   relay      decode the IngestMessage + check the block       (µs per flow: the relay's JS work)
//   storage    chDB raw Native insert of the same blocks        (engine only: the ceiling)
//              FlowStore.insertBlocks of the same blocks        (the relay's insert: batch id and marks set by the engine)
//
// and, for the before/after table, the path this replaced: the relay decoding protobuf Flows
// (decode + toObject), encoding RowBinary, and chDB inserting RowBinary.
//
// CPU is process.cpuUsage() (user + system, every thread of this process: the engine's included
// for the insert stages). `node dist-test/loadtest/stage-bench.js [--rows N] [--json]`.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { types, encode, decode } from '../proto/index.js';
import type { Flow, IngestMessage } from '../proto/types.js';
import { buildCluster } from '../collector/synthetic/cluster.js';
import { syntheticNode } from '../testing/realistic-flows.js';
import { FlowBlockWriter } from '../schema/native/flow-block.js';
import { validateNativeBlock } from '../schema/native/validate.js';
import { FLOW_NATIVE_COLUMNS } from '../schema/native/types.js';
import { RowBinaryWriter } from '../schema/rowbinary.js';
import { FlowStore } from '../storage/store.js';
import { openClient } from '../storage/client.js';
import { chdbNativeInserter } from '../storage/native/insert.js';
import { encodeBatch, chdbInserter } from './rowbinary-insert.js';
import { CollectorPipeline, type LostEventSink } from '../collector/pipeline.js';
import { FlowBlocks } from '../collector/blocks.js';
import { BlockPool, type BlockLease } from '../collector/block-pool.js';
import { FlowRing, DEFAULT_RING_CAPACITY } from '../collector/ring.js';
import { DEFAULT_DECODE_QUEUE } from '../collector/decode-queue.js';
import { LiveFeed } from '../observer/live.js';
import { encodeBatchMessage } from '../collector/ship/batch-message.js';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS, tuneCollectorHeap } from '../collector/heap.js';
import type { LostEvent } from '../proto/types.js';

/** Collector batch size (the shipper's default) and relay insert size (the batcher's). */
const BATCH_FLOWS = 2000;
const INSERT_ROWS = 50_000;
/** The collector's ring (Hubble's size), and the records a decode pass takes at once. */
const RING_FLOWS = DEFAULT_RING_CAPACITY;
const DECODE_SLICE = DEFAULT_DECODE_QUEUE.sliceRecords;
/** Batches the streamed collector keeps, as its shipper keeps unacknowledged ones (≈ 8 MiB). */
const KEPT_BATCHES = 18;
/** Collector processes measured (odd, for a median). */
const COLLECTOR_PROCESS_RUNS = 3;
/** Alternated raw / store insert rounds (odd, for a median). */
const INSERT_ROUNDS = 5;

export interface StageBenchResult {
  rows: number;
  /** µs of CPU per flow (per record for decode_enrich). */
  us_per_flow: {
    collector_decode_enrich: number;
    collector_block_build: number;
    relay_decode_check: number;
    chdb_native_insert: number;
    store_insert_blocks: number;
    before_relay_protobuf_decode: number;
    before_relay_rowbinary_encode: number;
    before_chdb_rowbinary_insert: number;
  };
  /** Relay ingest (decode + check + insertBlocks, wall) ÷ the raw Native insert of the same blocks (wall): median over alternated rounds. */
  ingest_native_ratio: number;
  ingest_native_ratio_rounds: number[];
  /** The collector's work per record on the way to the relay, as its pipeline does it: records
   * in decode slices through decode, enrich, the ring and the live feed into the batch's block and
   * IngestMessage, only the ring and a shipper's backlog of batches kept. Synthetic generation excluded. */
  collector_cpu_us_per_record: number;
  /** Each process's figure (collector_cpu_us_per_record is their median). */
  collector_cpu_us_per_record_runs: number[];
  /** The same, measured in this process (V8's default heap, not the collector's settings): the
   * figure until 2026-12-07 (late evening). */
  collector_cpu_us_per_record_default_heap: number;
  /** The same work as two separate passes over all rows (every flow kept between them): the
   * split of decode_enrich and block_build above, and this figure until 2026-12-07. */
  collector_split_cpu_us_per_record: number;
  /** The relay's JavaScript work per flow (decode + check), the insert excluded. */
  relay_js_us_per_flow: number;
  block_bytes_per_flow: number;
  rowbinary_bytes_per_flow: number;
}

interface Timed {
  cpuUs: number;
  wallMs: number;
}

async function timed(fn: () => unknown): Promise<Timed> {
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, wallMs: performance.now() - t0 };
}

/** A JavaScript stage is run once unmeasured first, so the optimising compiler has settled. */
async function warmTimed(fn: () => unknown, reset: () => void): Promise<Timed> {
  await fn();
  reset();
  return timed(fn);
}

/** Records of a 4-node synthetic cluster, with a decoder and enricher per node. */
function records(rows: number) {
  const model = buildCluster({ seed: 3, nodes: 4 });
  return model.nodes.slice(0, 4).map((_node, k) => {
    const { src, enricher, decoder } = syntheticNode(model, k, 3 + k, '0.2.0');
    return { recs: src.take(Math.ceil(rows / 4), Date.now() * 1e6 - 60e9), enricher, decoder };
  });
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** The round with the median wall time. */
function median(ts: readonly Timed[]): Timed {
  return [...ts].sort((a, b) => a.wallMs - b.wallMs)[ts.length >> 1];
}

function groups<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** The shipper's part: each block the ring's rows fill (BATCH_FLOWS rows) becomes one framed
 * IngestMessage; the last KEPT_BATCHES are kept (unacknowledged), the older ones dropped as
 * acknowledged. (The real Shipper needs a gRPC stream.) */
class BenchShipper implements LostEventSink {
  private seq = 0;
  readonly kept: Array<{ body: Buffer; lease: BlockLease | null }> = [];
  constructor(readonly blocks: FlowBlocks) {
    blocks.onBlock((b) => {
      b.lease?.hold();
      this.kept.push({ body: encodeBatchMessage(++this.seq, [], b.framed), lease: b.lease });
      // The oldest batch is acknowledged: its buffer goes back to the pool, as in the shipper.
      if (this.kept.length > KEPT_BATCHES) this.kept.shift()!.lease?.release();
    });
  }
  addLost(_ev: LostEvent): void {}
  flush(): void {
    this.blocks.cut();
  }
}

/** CPU µs per record of the collector's pipeline over every node's records (see collector_cpu_us_per_record). */
async function streamedCollector(nodes: ReturnType<typeof records>): Promise<{ t: Timed; records: number }> {
  const pipelines = nodes.map((n) => {
    const blocks = new FlowBlocks('bench', { maxRows: BATCH_FLOWS, maxDelayMs: 0 }, new BlockPool());
    const shipper = new BenchShipper(blocks);
    return {
      n,
      shipper,
      p: new CollectorPipeline(n.decoder, n.enricher, new FlowRing(RING_FLOWS, undefined, blocks), new LiveFeed(RING_FLOWS + DECODE_SLICE), shipper),
    };
  });
  const pass = () => {
    for (const { n, p, shipper } of pipelines) {
      for (let i = 0; i < n.recs.length; i += DECODE_SLICE) p.records(n.recs.slice(i, i + DECODE_SLICE));
      shipper.flush();
    }
  };
  // The median of three passes after a warm one: one pass is one or two full collections.
  await warmTimed(pass, () => {});
  const t = median([await timed(pass), await timed(pass), await timed(pass)]);
  return { t, records: nodes.reduce((s, x) => s + x.recs.length, 0) };
}

const THIS_FILE = fileURLToPath(import.meta.url);

/** streamedCollector in a process of its own, started as a collector is (collector/heap.ts). */
async function streamedCollectorProcess(rows: number): Promise<{ cpuUs: number; records: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...COLLECTOR_NODE_FLAGS, THIS_FILE, '--collector', '--rows', String(rows)], {
    maxBuffer: 1 << 20,
    env: { ...process.env, ...COLLECTOR_ENV },
  });
  const r = JSON.parse(stdout) as { cpu_us: number; records: number };
  return { cpuUs: r.cpu_us, records: r.records };
}

export async function benchStages(rows: number, log: (s: string) => void = () => {}): Promise<StageBenchResult> {
  // Collector, as it runs: in a process with the collector's heap settings, then here (this
  // process's V8 defaults), first, while no flow of this bench is kept yet.
  // The median of a few processes: a process that starts during a slow spell of this shared
  // host is slow in every pass it makes (single runs ranged 4.3–6.4 µs on one commit).
  const ownRuns: number[] = [];
  for (let i = 0; i < COLLECTOR_PROCESS_RUNS; i++) {
    const r = await streamedCollectorProcess(rows);
    ownRuns.push(r.cpuUs / r.records);
  }
  const own = medianOf(ownRuns);
  log(`stage bench: collector pipeline ${own.toFixed(2)} µs/record (collector heap settings; runs ${ownRuns.map((x) => x.toFixed(2)).join(' ')})`);
  const nodes = records(rows);
  const streamed = await streamedCollector(nodes);
  log(`stage bench: collector pipeline ${(streamed.t.cpuUs / streamed.records).toFixed(2)} µs/record (default heap)`);

  // Collector, stage by stage: decode + enrich.
  let flows: Flow[] = [];
  const dec = await warmTimed(
    () => {
      for (const n of nodes)
        for (const r of n.recs) {
          const f = n.decoder.decode(r);
          if (f) {
            n.enricher.enrich(f);
            flows.push(f);
          }
        }
    },
    () => {
      flows = [];
    },
  );
  const n = flows.length;
  log(`stage bench: ${n} flows from ${nodes.reduce((s, x) => s + x.recs.length, 0)} records`);

  // Collector: flows into Native blocks of BATCH_FLOWS, wrapped as the IngestMessage the stream carries.
  const w = new FlowBlockWriter();
  let messages: Buffer[] = [];
  const build = await warmTimed(
    () => {
      let seq = 0;
      for (const g of groups(flows, BATCH_FLOWS)) {
        for (const f of g) w.add(f);
        messages.push(encode(types.IngestMessage, { batch: { seq: ++seq, block: w.finish() } }));
      }
    },
    () => {
      messages = [];
    },
  );

  // Relay: the gRPC deserializer's decode, then the block check; no flow is decoded.
  let blocks: Buffer[] = [];
  const check = await warmTimed(
    () => {
      for (const m of messages) {
        const block = decode<IngestMessage>(types.IngestMessage, m).batch!.block as Buffer;
        validateNativeBlock(block, FLOW_NATIVE_COLUMNS, { maxRows: 100_000, maxBytes: 64 << 20 });
        blocks.push(block);
      }
    },
    () => {
      blocks = [];
    },
  );
  const inserts = groups(blocks, Math.ceil(INSERT_ROWS / BATCH_FLOWS));

  // Before: the relay received protobuf Flows and encoded RowBinary.
  const oldMessages = groups(flows, BATCH_FLOWS).map((g, i) => encode(types.IngestMessage, { batch: { seq: i + 1, flows: g } }));
  let decoded: Flow[][] = [];
  const protoDecode = await warmTimed(
    () => {
      for (const m of oldMessages) decoded.push(decode<IngestMessage>(types.IngestMessage, m).batch!.flows!);
    },
    () => {
      decoded = [];
    },
  );
  const rb = new RowBinaryWriter(1 << 24);
  let bodies: Buffer[] = [];
  const rbEncode = await warmTimed(
    () => {
      for (const g of groups(decoded.flat(), INSERT_ROWS)) bodies.push(Buffer.from(encodeBatch(rb, g, [])));
    },
    () => {
      bodies = [];
    },
  );

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-stage-bench-'));
  try {
    // One store (the real schema, views included) per path, so each insert starts from the same state.
    const open = async (tag: string) => {
      const p = path.join(dir, tag);
      await (await FlowStore.open({ path: p })).close();
      return p;
    };
    const storeDir = await open('store'),
      rbDir = await open('rb');

    // The raw and the store insert run alternately, INSERT_ROUNDS times each, and
    // the ratio is the median of the rounds' ratios: one sequential pair on a shared machine
    // measures which of the two ran during someone else's burst as much as the inserts.
    // Both into the same store (chDB takes one data directory per process), so each round's two
    // inserts also meet the same table size and background merges.
    const store = await FlowStore.open({ path: storeDir });
    const raw = openClient({ kind: 'chdb', path: storeDir });
    const native = await chdbNativeInserter(raw);
    let id = Date.now() * 1000;
    const rawRounds: Timed[] = [],
      storeRounds: Timed[] = [];
    for (let r = 0; r < INSERT_ROUNDS; r++) {
      rawRounds.push(
        await timed(async () => {
          for (const g of inserts) await native.insert(g);
        }),
      );
      storeRounds.push(
        await timed(async () => {
          for (const g of inserts) await store.insertBlocks(g, [{ session: 'bench', node: 'n', seq: id }], ++id);
        }),
      );
    }
    await native.close();
    await raw.close();
    await store.close();
    const rawIns = median(rawRounds),
      storeIns = median(storeRounds);
    const ratios = rawRounds.map((t, r) => t.wallMs / (check.wallMs + storeRounds[r].wallMs));
    log(`stage bench: ingest ÷ raw Native insert per round ${ratios.map((x) => x.toFixed(2)).join(' ')}`);

    const rbc = openClient({ kind: 'chdb', path: rbDir });
    const rbIns = await chdbInserter(rbc);
    const rbInsert = await timed(async () => {
      for (const b of bodies) await rbIns.insert(b, {});
    });
    await rbIns.close();
    await rbc.close();

    const per = (t: Timed) => Math.round((t.cpuUs / n) * 100) / 100;
    const blockBytes = blocks.reduce((s, b) => s + b.length, 0),
      rbBytes = bodies.reduce((s, b) => s + b.length, 0);
    const result: StageBenchResult = {
      rows: n,
      us_per_flow: {
        collector_decode_enrich: per(dec),
        collector_block_build: per(build),
        relay_decode_check: per(check),
        chdb_native_insert: per(rawIns),
        store_insert_blocks: per(storeIns),
        before_relay_protobuf_decode: per(protoDecode),
        before_relay_rowbinary_encode: per(rbEncode),
        before_chdb_rowbinary_insert: per(rbInsert),
      },
      ingest_native_ratio: Math.round(medianOf(ratios) * 100) / 100,
      ingest_native_ratio_rounds: ratios.map((x) => Math.round(x * 100) / 100),
      collector_cpu_us_per_record: Math.round(own * 100) / 100,
      collector_cpu_us_per_record_runs: ownRuns.map((x) => Math.round(x * 100) / 100),
      collector_cpu_us_per_record_default_heap: Math.round((streamed.t.cpuUs / streamed.records) * 100) / 100,
      collector_split_cpu_us_per_record: Math.round(((dec.cpuUs + build.cpuUs) / n) * 100) / 100,
      relay_js_us_per_flow: per(check),
      block_bytes_per_flow: Math.round(blockBytes / n),
      rowbinary_bytes_per_flow: Math.round(rbBytes / n),
    };
    return result;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === THIS_FILE) {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '300000' }, json: { type: 'boolean', default: false }, collector: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.collector) {
    // The collector stage alone, in this process as a collector runs (started with
    // COLLECTOR_NODE_FLAGS by streamedCollectorProcess).
    tuneCollectorHeap();
    const r = await streamedCollector(records(Number(values.rows)));
    process.stdout.write(`${JSON.stringify({ cpu_us: r.t.cpuUs, records: r.records })}\n`);
  } else {
    const r = await benchStages(Number(values.rows), (s) => process.stderr.write(`${s}\n`));
    process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 2)}\n`);
  }
}
