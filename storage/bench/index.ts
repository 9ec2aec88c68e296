// Storage benchmark functions for `npm run bench` (loadtest/bench.ts): a clear minimal version,
// meant to be refined with the storage work.
//
//  * ingest_flows_per_s: `rows` generated flows (storage/gen-flows.ts) through FlowStore.insert
//    in 50k-row batches: encode + insert, what the relay's writer does per batch.
//  * ingest_ceiling_flows_per_s: the same rows pre-encoded (RowBinary, 50k-row bodies) and
//    handed to the store's inserter: the engine's insert rate with encoding taken out, the upper
//    bound for the relay's writer on this connection.
//  * bytes_per_flow: bytes on disk of the flows table's active parts / rows, after OPTIMIZE FINAL.
//  * query_drops_ns_24h_p99_ms: `queryRows` flows spread over the last 24 h, then repeatedly the
//    history query of `observe --namespace shop --verdict DROPPED --since 24h --last 100`.
//  * service_map_1h_p99_ms: repeatedly the service-map aggregation (edges namespace/workload →
//    namespace/workload with flow and drop counts) over the last hour of the per-minute rollup
//    (storage/rollup.ts) of the same data.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { FlowStore } from '../store.js';
import { genFlows } from '../gen-flows.js';
import { encodeBatch, chdbInserter } from '../writer.js';
import { RowBinaryWriter } from '../rowbinary.js';
import { openClient } from '../client.js';
import { migrate } from '../migrations.js';
import type { FlowFilter } from '../../proto/types.js';

export interface StorageBenchResult {
  ingest_flows_per_s: number;
  ingest_ceiling_flows_per_s: number;
  bytes_per_flow: number;
  query_drops_ns_24h_p99_ms: number;
  service_map_1h_p99_ms: number;
}

const BATCH = 50_000;
const DROPPED = 2;

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] * 10) / 10;
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-storage-bench-'));
}

async function tableBytes(c: ClickHouseClient): Promise<{ rows: number; bytes: number }> {
  const rs = await c.query({ query: "SELECT toString(sum(rows)), toString(sum(bytes_on_disk)) FROM system.parts WHERE active AND table = 'flows' AND database = currentDatabase()", format: 'JSONCompactEachRow' });
  const [[rows, bytes]] = await rs.json<[string, string]>();
  return { rows: Number(rows), bytes: Number(bytes) };
}

export async function benchStorage(opts: { rows: number; queryRows: number; quick: boolean; log: (s: string) => void }): Promise<StorageBenchResult> {
  const { rows, queryRows, quick, log } = opts;
  const dirs: string[] = [];
  try {
    // 1. Ingest: encode + insert.
    const flows = genFlows(rows, 3);
    const dir1 = await tempDir(); dirs.push(dir1);
    const store = await FlowStore.open({ path: dir1 });
    const t0 = performance.now();
    for (let i = 0; i < rows; i += BATCH) await store.insert(flows.slice(i, i + BATCH), [{ session: 'bench', node: 'n', seq: i / BATCH + 1 }]);
    const ingest = rows / ((performance.now() - t0) / 1000);
    await store.close();
    log(`storage ingest (encode + insert): ${Math.round(ingest)} flows/s`);

    // 2. Ceiling: pre-encoded bodies, insert only.
    const bodies: Buffer[] = [];
    const rb = new RowBinaryWriter(1 << 20);
    // encodeBatch returns a view of the writer's reusable buffer: copy each body.
    for (let i = 0; i < rows; i += BATCH) bodies.push(Buffer.from(encodeBatch(rb, flows.slice(i, i + BATCH), [])));
    const dir2 = await tempDir(); dirs.push(dir2);
    const w = openClient({ kind: 'chdb', path: dir2 });
    let ceiling = 0, bytesPerFlow = 0;
    try {
      await migrate(w, { retentionDays: 7 });
      const inserter = await chdbInserter(w);
      const t1 = performance.now();
      try {
        for (const b of bodies) await inserter.insert(b, {});
      } finally {
        await inserter.close();
      }
      ceiling = rows / ((performance.now() - t1) / 1000);
      log(`storage insert ceiling (pre-encoded RowBinary): ${Math.round(ceiling)} flows/s`);
      // 3. Bytes per flow, merged.
      await w.command({ query: 'OPTIMIZE TABLE flows FINAL' });
      const { rows: n, bytes } = await tableBytes(w);
      bytesPerFlow = Math.round((bytes / n) * 10) / 10;
      log(`bytes per flow on disk (after OPTIMIZE FINAL): ${bytesPerFlow}`);
    } finally {
      await w.close();
    }

    // 4. Queries over 24 h of history.
    const dir3 = await tempDir(); dirs.push(dir3);
    const qs = await FlowStore.open({ path: dir3 });
    const nowS = Math.floor(Date.now() / 1000);
    // genFlow puts 10 flows per second after baseSeconds: spread queryRows over 24 h by generating
    // in chunks with their own base times.
    const chunks = 24;
    const per = Math.ceil(queryRows / chunks);
    for (let k = 0; k < chunks; k++) {
      const base = nowS - 86_400 + Math.floor((k * 86_400) / chunks);
      const part = genFlows(per, 100 + k, base);
      for (let i = 0; i < part.length; i += BATCH) await qs.insert(part.slice(i, i + BATCH));
    }
    log(`query data: ${per * chunks} flows over 24 h`);
    const runs = quick ? 10 : 30;
    const nsDrops: FlowFilter[] = [{ verdict: [DROPPED], source_pod: ['shop/'] }, { verdict: [DROPPED], destination_pod: ['shop/'] }];
    const since = { seconds: nowS - 86_400, nanos: 0 };
    const dropTimes: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const t = performance.now();
      let got = 0;
      for await (const _ of qs.queryFlows({ whitelist: nsDrops, since, number: 100 })) got++;
      if (i >= 2) dropTimes.push(performance.now() - t); // two warm-up runs
      if (got === 0) throw new Error('drops query returned nothing: the benchmark data has no drops in shop');
    }
    await qs.close();
    const r = openClient({ kind: 'chdb', path: dir3 });
    const mapTimes: number[] = [];
    try {
      const sql = `SELECT src_namespace, src_workload, dst_namespace, dst_workload,
                          sum(flows) AS n, sumIf(flows, verdict = ${DROPPED}) AS drops
                   FROM flows_1m WHERE minute >= now() - INTERVAL 1 HOUR
                   GROUP BY src_namespace, src_workload, dst_namespace, dst_workload
                   ORDER BY n DESC LIMIT 1000`;
      for (let i = 0; i < runs + 2; i++) {
        const t = performance.now();
        const edges = await (await r.query({ query: sql, format: 'JSONCompactEachRow' })).json<unknown[]>();
        if (i >= 2) mapTimes.push(performance.now() - t);
        if (edges.length === 0) throw new Error('service map query returned no edges');
      }
    } finally {
      await r.close();
    }
    const result: StorageBenchResult = {
      ingest_flows_per_s: Math.round(ingest),
      ingest_ceiling_flows_per_s: Math.round(ceiling),
      bytes_per_flow: bytesPerFlow,
      query_drops_ns_24h_p99_ms: p99(dropTimes),
      service_map_1h_p99_ms: p99(mapTimes),
    };
    log(`queries p99: drops/ns/24h ${result.query_drops_ns_24h_p99_ms} ms, service map/1h ${result.service_map_1h_p99_ms} ms (${runs} runs each)`);
    return result;
  } finally {
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  }
}
