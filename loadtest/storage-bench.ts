// Storage benchmarks for `npm run bench` (docs/benchmarks.md):
//  - ingest: Flow objects (what the relay holds) → FlowStore.insert, in 50k-row batches;
//  - ceiling: the same rows already encoded as RowBinary, inserted by the engine alone
//    (no JS encoding) — what chDB can take at best on this machine;
//  - bytes per flow on disk, after merges, for flows from the synthetic cluster;
//  - query latency on a generated store (100M flows by default): "last 100 drops of one
//    namespace over 24 h" through the same query path `flowscope observe` uses, and the 1 h
//    service map from the rollup.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Flow } from '../proto/types.js';
import { FlowStore } from '../storage/store.js';
import { openClient } from '../storage/client.js';
import { RowBinaryWriter } from '../schema/rowbinary.js';
import { encodeBatch, chdbInserter } from './rowbinary-insert.js';
import { realisticFlows } from '../testing/realistic-flows.js';
import { generateStore, storeFacts } from './storage-store-gen.js';
import { fastUUID } from '../collector/decode/uuid.js';

export interface StorageBenchOptions {
  rows: number;
  queryRows: number;
  quick: boolean;
  log: (s: string) => void;
  storeDir?: string;
}
export interface StorageBenchResult {
  ingest_flows_per_s: number;
  ingest_ceiling_flows_per_s: number;
  bytes_per_flow: number;
  query_drops_ns_24h_p99_ms: number;
  service_map_1h_p99_ms: number;
  query_drops_ns_24h_p50_ms: number;
  service_map_1h_p50_ms: number;
  query_store_rows: number;
}

const BATCH = 50_000;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** `rows` distinct flows as the relay would hold them: the pool cycled with fresh time and uuid. */
export function ingestBatches(pool: readonly Flow[], rows: number, batch = BATCH): Flow[][] {
  const batches: Flow[][] = [];
  const nowS = Math.floor(Date.now() / 1000);
  for (let i = 0; i < rows; i += batch) {
    const b: Flow[] = [];
    for (let j = i; j < Math.min(rows, i + batch); j++) {
      const f = pool[j % pool.length];
      b.push({ ...f, uuid: fastUUID(), time: { seconds: nowS - 600 + Math.floor(j / 2000), nanos: (j * 7919) % 1e9 } });
    }
    batches.push(b);
  }
  return batches;
}

async function tempDir(tag: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `flowscope-bench-${tag}-`));
}

export async function benchIngest(pool: readonly Flow[], rows: number, log: (s: string) => void): Promise<{ perS: number; ceilingPerS: number }> {
  const batches = ingestBatches(pool, rows);
  const dir = await tempDir('ingest');
  let perS = 0,
    ceilingPerS = 0;
  try {
    const store = await FlowStore.open({ path: dir });
    let t = performance.now();
    let id = 1;
    for (const b of batches) await store.insert(b, [], id++);
    perS = rows / ((performance.now() - t) / 1000);
    await store.close();
    log(`ingest: ${rows} flows through FlowStore.insert at ${Math.round(perS)} flows/s`);

    // Ceiling: the same rows pre-encoded; only the engine's insert is timed.
    const w = new RowBinaryWriter(1 << 24);
    const bodies = batches.map((b) => Buffer.from(encodeBatch(w, b, [], Date.now(), 0)));
    await fs.rm(dir, { recursive: true, force: true });
    await (await FlowStore.open({ path: dir })).close();
    const client = openClient({ kind: 'chdb', path: dir });
    const inserter = await chdbInserter(client);
    t = performance.now();
    for (const body of bodies) await inserter.insert(body, {});
    ceilingPerS = rows / ((performance.now() - t) / 1000);
    await inserter.close();
    await client.close();
    log(`ceiling: the same ${rows} rows pre-encoded as RowBinary, engine insert only: ${Math.round(ceilingPerS)} flows/s`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return { perS, ceilingPerS };
}

export async function benchBytesPerFlow(pool: readonly Flow[], log: (s: string) => void): Promise<number> {
  const dir = await tempDir('size');
  try {
    const store = await FlowStore.open({ path: dir });
    for (let i = 0; i < pool.length; i += BATCH) await store.insert(pool.slice(i, i + BATCH), [], 1 + i);
    await store.close();
    const facts = await storeFacts(dir, true);
    log(`on disk: ${facts.rows} flows, ${facts.bytesPerFlow.toFixed(1)} bytes/flow after merges`);
    return facts.bytesPerFlow;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function benchQueries(dir: string, runs: number, log: (s: string) => void): Promise<{ drops: number[]; serviceMap: number[]; rows: number }> {
  const store = await FlowStore.open({ path: dir });
  try {
    const facts = await storeFacts(dir, false);
    const endMs = facts.maxTimeMs;
    const since = { seconds: Math.floor((endMs - 86_400_000) / 1000), nanos: 0 };
    const until = { seconds: Math.floor(endMs / 1000) + 1, nanos: 0 };
    const drops: number[] = [],
      serviceMap: number[] = [];
    for (let i = -2; i < runs; i++) {
      const ns = facts.namespaces[(i + 2) % facts.namespaces.length];
      let t = performance.now();
      let n = 0;
      // `flowscope observe --namespace ns --verdict DROPPED --since 24h --last 100`
      for await (const _ of store.queryFlows({
        whitelist: [
          { source_pod: [`${ns}/`], verdict: [2] },
          { destination_pod: [`${ns}/`], verdict: [2] },
        ],
        since,
        until,
        number: 100,
      }))
        n++;
      const dropsMs = performance.now() - t;
      t = performance.now();
      const edges = await store.serviceMap({ sinceMs: endMs - 3_600_000, untilMs: endMs + 1000, limit: 1000 });
      const mapMs = performance.now() - t;
      if (i < 0) continue; // warm-up
      if (n === 0 || edges.length === 0) throw new Error(`query benchmark found no data (drops ${n}, edges ${edges.length})`);
      drops.push(dropsMs);
      serviceMap.push(mapMs);
    }
    log(
      `queries on ${facts.rows} flows: drops of one namespace over 24h p50 ${percentile(drops, 50).toFixed(0)} ms, p99 ${percentile(drops, 99).toFixed(0)} ms; ` +
        `service map 1h p50 ${percentile(serviceMap, 50).toFixed(0)} ms, p99 ${percentile(serviceMap, 99).toFixed(0)} ms`,
    );
    return { drops, serviceMap, rows: facts.rows };
  } finally {
    await store.close();
  }
}

export async function benchStorage(opts: StorageBenchOptions): Promise<StorageBenchResult> {
  const log = opts.log;
  const poolSize = opts.quick ? 20_000 : 100_000;
  log(`storage: generating ${poolSize} flows from the synthetic cluster`);
  const pool = realisticFlows(poolSize, { nodes: 4, seed: 3, spanMs: 10 * 60_000 });
  const ingest = await benchIngest(pool, opts.rows, log);
  const bytesPerFlow = await benchBytesPerFlow(pool, log);
  const storeDir = opts.storeDir ?? path.join(os.tmpdir(), `flowscope-bench-store-${opts.queryRows}`);
  await generateStore(storeDir, opts.queryRows, pool.slice(0, 20_000), log);
  const q = await benchQueries(storeDir, opts.quick ? 10 : 40, log);
  return {
    ingest_flows_per_s: Math.round(ingest.perS),
    ingest_ceiling_flows_per_s: Math.round(ingest.ceilingPerS),
    bytes_per_flow: Number(bytesPerFlow.toFixed(1)),
    query_drops_ns_24h_p99_ms: Math.round(percentile(q.drops, 99)),
    service_map_1h_p99_ms: Math.round(percentile(q.serviceMap, 99)),
    query_drops_ns_24h_p50_ms: Math.round(percentile(q.drops, 50)),
    service_map_1h_p50_ms: Math.round(percentile(q.serviceMap, 50)),
    query_store_rows: q.rows,
  };
}
