// Storage measurements for docs/storage.md: insert throughput per text format, bytes per flow
// on disk, and whether reader queries stall the writer. Run: node dist-h3/storage/bench.js [rows]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlowStore } from './store.js';
import { genFlows } from './gen-flows.js';
import { encodeBatch, type InsertFormat } from './writer.js';
import { openClient } from './client.js';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = 50_000;
const flows = genFlows(N, 3);

async function measureFormat(format: InsertFormat): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const b = encodeBatch(flows.slice(i, i + BATCH), [], format);
    if (typeof b !== 'string') b.map((r) => JSON.stringify(r)).join('\n');
  }
  const encMs = performance.now() - t0;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-bench-'));
  const store = await FlowStore.open({ path: dir, insertFormat: format });
  const t1 = performance.now();
  for (let i = 0; i < N; i += BATCH) await store.insert(flows.slice(i, i + BATCH), [{ session: 'b', node: 'n', seq: i }]);
  const insMs = performance.now() - t1;
  await store.close();
  const c = openClient({ kind: 'chdb', path: dir });
  await c.command({ query: 'OPTIMIZE TABLE flows FINAL' });
  const rs = await c.query({ query: "SELECT sum(rows), sum(bytes_on_disk), sum(data_uncompressed_bytes) FROM system.parts WHERE active AND table = 'flows' AND database = currentDatabase()", format: 'JSONCompactEachRow' });
  const [[rows, disk, raw]] = await rs.json<[number, number, number]>();
  const cols = await c.query({ query: "SELECT name, data_compressed_bytes FROM system.columns WHERE table = 'flows' AND database = currentDatabase() ORDER BY data_compressed_bytes DESC LIMIT 6", format: 'JSONCompactEachRow' });
  const top = (await cols.json<[string, number]>()).map(([n, b]) => `${n}=${(Number(b) / Number(rows)).toFixed(2)}`).join(' ');
  await c.close();
  await fs.rm(dir, { recursive: true, force: true });
  console.log(`${format}: encode only ${(N / encMs * 1000).toFixed(0)} rows/s; encode+insert ${(N / insMs * 1000).toFixed(0)} rows/s; ` +
    `${rows} rows, ${(Number(disk) / Number(rows)).toFixed(1)} B/flow on disk (${(Number(raw) / Number(rows)).toFixed(0)} B/flow uncompressed); top columns B/flow: ${top}`);
}

async function measureConcurrency(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-bench-'));
  const store = await FlowStore.open({ path: dir });
  await store.insert(flows);
  const batch = flows.slice(0, 2000);
  const time = async () => { const t = performance.now(); await store.insert(batch); return performance.now() - t; };
  const idle: number[] = [];
  for (let i = 0; i < 5; i++) idle.push(await time());
  // A deliberately heavy reader query on the reader session.
  const heavy = (async () => {
    const t = performance.now();
    let n = 0;
    for (let i = 0; i < 3; i++) for await (const _ of store.queryFlows({ whitelist: [{ dns_query: ['.*e.*'] }, { source_label: ['app notin (x)'] }] })) n++;
    return [performance.now() - t, n];
  })();
  const busy: number[] = [];
  for (let i = 0; i < 5; i++) busy.push(await time());
  const [heavyMs] = await heavy;
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0);
  console.log(`concurrency: 2000-row insert median ${med(idle)} ms idle, ${med(busy)} ms while the reader ran a ${heavyMs.toFixed(0)} ms streaming query`);
}

await measureFormat('JSONCompactEachRow');
await measureFormat('TabSeparated');
await measureConcurrency();
