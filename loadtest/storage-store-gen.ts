// A large store for query benchmarks, generated inside the engine: template rows (real flows
// from the synthetic cluster, written through FlowStore) are repeated over `rows` rows spread
// evenly across the last 25 hours, each with its own time and UUIDv7. The insert goes through
// the flows table's materialized views, so the rollup and progress tables are filled as by
// ingest. A store already holding enough rows is reused.
import fs from 'node:fs/promises';
import type { Flow } from '../proto/types.js';
import { FlowStore } from '../storage/store.js';
import { openClient } from '../storage/client.js';
import { FLOW_COLUMNS } from '../storage/schema.js';

export interface StoreFacts {
  rows: number;
  bytesPerFlow: number;
  maxTimeMs: number;
  namespaces: string[];
}

async function scalarRows(dir: string, query: string): Promise<unknown[][]> {
  const c = openClient({ kind: 'chdb', path: dir });
  try {
    const rs = await c.query({ query, format: 'JSONCompactEachRow' });
    return await rs.json<unknown[]>();
  } finally {
    await c.close();
  }
}

export async function storeFacts(dir: string, optimize: boolean): Promise<StoreFacts> {
  if (optimize) {
    const c = openClient({ kind: 'chdb', path: dir });
    try {
      await c.command({ query: 'OPTIMIZE TABLE flows FINAL' });
    } finally {
      await c.close();
    }
  }
  const [[rows, disk]] = await scalarRows(
    dir,
    "SELECT sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase() AND table = 'flows'",
  );
  const [[maxNs]] = await scalarRows(dir, 'SELECT toString(toUnixTimestamp64Nano(max(time))) FROM flows');
  const ns = await scalarRows(
    dir,
    "SELECT src_namespace FROM flows WHERE src_namespace != '' AND verdict = 2 GROUP BY src_namespace ORDER BY count() DESC LIMIT 8",
  );
  return {
    rows: Number(rows),
    bytesPerFlow: Number(disk) / Math.max(1, Number(rows)),
    maxTimeMs: Number(BigInt(maxNs as string) / 1_000_000n),
    namespaces: ns.map((r) => r[0] as string),
  };
}

async function countRows(dir: string): Promise<number> {
  try {
    await fs.access(dir);
    const [[n]] = await scalarRows(dir, "SELECT sum(rows) FROM system.parts WHERE active AND database = currentDatabase() AND table = 'flows'");
    return Number(n);
  } catch {
    return 0;
  }
}

export async function generateStore(dir: string, rows: number, template: readonly Flow[], log: (s: string) => void): Promise<void> {
  const have = await countRows(dir);
  if (have >= rows) {
    log(`query store: reusing ${have} flows in ${dir}`);
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
  const store = await FlowStore.open({ path: dir });
  await store.insert(template, [], 1);
  await store.close();
  const c = openClient({ kind: 'chdb', path: dir });
  const t0 = performance.now();
  try {
    await c.command({ query: 'CREATE TABLE template ENGINE = Memory AS SELECT *, toUInt64(rowNumberInAllBlocks()) AS idx FROM flows' });
    await c.command({ query: 'TRUNCATE TABLE flows' });
    await c.command({ query: 'TRUNCATE TABLE flows_1m' });
    const k = template.length;
    const spanNs = 25 * 3600 * 1e9;
    const startNs = BigInt(Date.now()) * 1_000_000n - BigInt(spanNs);
    const stepNs = Math.max(1, Math.floor(spanNs / rows));
    const cols = FLOW_COLUMNS.map((x) => x.name);
    const select = cols
      .map((n) => {
        if (n === 'time') return 'fromUnixTimestamp64Nano(toInt64({start:Int64} + n.number * {step:Int64})) AS time';
        if (n === 'uuid') return 'toString(generateUUIDv7(n.number)) AS uuid';
        if (n === 'batch_id') return 'intDiv(n.number, 100000) + 1 AS batch_id';
        return `t.${n} AS ${n}`;
      })
      .join(', ');
    const chunk = 5_000_000;
    for (let from = 0; from < rows; from += chunk) {
      const n = Math.min(chunk, rows - from);
      await c.command({
        query: `INSERT INTO flows (${cols.join(', ')}) SELECT ${select}
          FROM numbers({from:UInt64}, {n:UInt64}) AS n INNER JOIN template AS t ON t.idx = n.number % {k:UInt64}`,
        query_params: { start: startNs.toString(), step: String(stepNs), from: String(from), n: String(n), k: String(k) },
        clickhouse_settings: { max_insert_threads: '2', max_threads: 2 },
      });
      log(`query store: ${from + n}/${rows} flows generated (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    await c.command({ query: 'DROP TABLE template' });
  } finally {
    await c.close();
  }
}
