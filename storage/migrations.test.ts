// Schema upgrades, idempotent inserts and the per-minute rollup, on a real chDB store.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { types, encode, decode, type Flow } from '../proto/index.js';
import { FlowStore } from './store.js';
import { openClient } from './client.js';
import { genFlows } from '../testing/gen-flows.js';
import { FLOWS_MERGE_SETTINGS, INGEST_PROGRESS_DDL, INGEST_PROGRESS_MV_DDL } from './schema.js';
import { flowsTableV1DDL, V1_INSERT_COLUMNS } from './schema-v1.js';
import { migrate, MIGRATIONS } from './migrations.js';

const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-migrate-'));
after(() => fs.rm(root, { recursive: true, force: true }));
const collect = async (it: AsyncIterable<Flow>) => {
  const out: Flow[] = [];
  for await (const f of it) out.push(f);
  return out;
};
const byUuid = (xs: Flow[]) => [...xs].sort((a, b) => (a.uuid! < b.uuid! ? -1 : 1));
const base = Math.floor(Date.now() / 1000) - 900;
/** 1 when the flows table carries FLOWS_MERGE_SETTINGS. */
const MERGE_SETTING_SET = `SELECT countIf(position(create_table_query, '${FLOWS_MERGE_SETTINGS}') > 0) FROM system.tables WHERE database = currentDatabase() AND name = 'flows'`;

async function scalar(dir: string, query: string): Promise<number> {
  const c = openClient({ kind: 'chdb', path: dir });
  try {
    const rs = await c.query({ query, format: 'JSONCompactEachRow' });
    return Number((await rs.json<[number]>())[0][0]);
  } finally {
    await c.close();
  }
}

test('a retried batch id is stored once, rollup rows included', async () => {
  const dir = path.join(root, 'dedup');
  const flows = genFlows(2000, 11, base).map(canonical);
  const store = await FlowStore.open({ path: dir, maxRowsPerInsert: 700 });
  await store.insert(flows, [{ session: 's', node: 'n', seq: 1 }], 1001);
  // The same batch again (a retry after an ambiguous failure), and a partial retry.
  await store.insert(flows, [{ session: 's', node: 'n', seq: 1 }], 1001);
  await store.insert(flows.slice(0, 700), [], 1001);
  assert.equal(await store.countFlows(), 2000);
  // A new batch id is new data, even with equal rows.
  await store.insert(flows.slice(0, 10), [], 1002);
  assert.equal(await store.countFlows(), 2010);
  await store.close();
  assert.equal(await scalar(dir, 'SELECT sum(flows) FROM flows_1m'), 2010);
});

test('the rollup agrees with the raw table', async () => {
  const dir = path.join(root, 'rollup');
  const flows = genFlows(3000, 5, base).map(canonical);
  const store = await FlowStore.open({ path: dir });
  for (let i = 0; i < flows.length; i += 1000) await store.insert(flows.slice(i, i + 1000), [], 2000 + i);
  await store.close();
  const c = openClient({ kind: 'chdb', path: dir });
  try {
    await c.command({ query: 'OPTIMIZE TABLE flows_1m FINAL' });
    const q = async (sql: string) => (await c.query({ query: sql, format: 'JSONCompactEachRow' })).json<unknown[]>();
    const fromRollup = await q(`SELECT src_namespace, dst_namespace, verdict, protocol, dst_port, sum(flows) FROM flows_1m
      GROUP BY ALL ORDER BY ALL`);
    const fromRaw = await q(`SELECT src_namespace, dst_namespace, verdict,
        multiIf(bitAnd(presence, 32) != 0, 'TCP', bitAnd(presence, 64) != 0, 'UDP', bitAnd(presence, 256) != 0, 'ICMPv4',
          bitAnd(presence, 512) != 0, 'ICMPv6', bitAnd(presence, 128) != 0, 'SCTP', '') AS protocol, dst_port, count()
      FROM flows GROUP BY ALL ORDER BY ALL`);
    assert.ok(fromRaw.length > 20);
    assert.deepStrictEqual(fromRollup.map(String), fromRaw.map(String));
    // Minutes match the flow times.
    const minutes = await q('SELECT toUnixTimestamp(minute), sum(flows) FROM flows_1m GROUP BY 1 ORDER BY 1');
    const want = new Map<number, number>();
    for (const f of flows) {
      const m = Math.floor(f.time!.seconds / 60) * 60;
      want.set(m, (want.get(m) ?? 0) + 1);
    }
    assert.deepStrictEqual(
      minutes.map(([m, n]) => [Number(m), Number(n)]),
      [...want].sort((a, b) => a[0] - b[0]),
    );
  } finally {
    await c.close();
  }
});

test('a version 1 store is upgraded in place, rows and progress kept, rollup backfilled', async () => {
  const dir = path.join(root, 'v1');
  const flows = genFlows(1500, 3, base).map(canonical);
  // Build a v1 store the way version 1 wrote it: JSON rows with base64 rest.
  const c = openClient({ kind: 'chdb', path: dir });
  await c.command({
    query: 'CREATE TABLE schema_migrations (version UInt32, name String, applied_at DateTime64(3) DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version',
  });
  for (const q of [flowsTableV1DDL(7), INGEST_PROGRESS_DDL, INGEST_PROGRESS_MV_DDL]) await c.command({ query: q });
  await c.insert({ table: 'schema_migrations', columns: ['version', 'name'], values: [[1, 'flows table and ingest progress']], format: 'JSONCompactEachRow' });
  await c.close();
  // Write the rows through a v2 store into a scratch dir, then copy them into v1's layout.
  const scratch = path.join(root, 'scratch');
  const s2 = await FlowStore.open({ path: scratch });
  await s2.insert(flows, [{ session: 'old', node: 'n1', seq: 41 }], 5);
  await s2.close();
  const sc = openClient({ kind: 'chdb', path: scratch });
  // Version 1 inserted JSONCompactEachRow with the protobuf remainder base64 in rest_b64.
  const v1Cols = V1_INSERT_COLUMNS;
  const select = v1Cols.map((n) => (n === 'rest_b64' ? 'base64Encode(rest)' : n)).join(', ');
  const rs = await sc.query({ query: `SELECT ${select} FROM flows`, format: 'JSONCompactEachRow' });
  const rows = await rs.json<unknown[]>();
  await sc.close();
  const v1 = openClient({ kind: 'chdb', path: dir });
  await v1.insert({ table: 'flows', columns: [...v1Cols] as [string, ...string[]], values: rows, format: 'JSONCompactEachRow' });
  assert.deepStrictEqual(await migrate(v1, { retentionDays: 7 }), [2, 3, 4]);
  assert.deepStrictEqual(await migrate(v1, { retentionDays: 7 }), [], 'a second run applies nothing');
  await v1.close();

  const store = await FlowStore.open({ path: dir });
  const got = byUuid(await collect(store.queryFlows({})));
  const want = byUuid(flows);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.deepStrictEqual(got[i], want[i]);
  assert.equal(await store.durableSeq('old'), 41);
  // Rows from before the provenance columns have no session: no marks, and always history.
  assert.deepStrictEqual(await store.liveMarks(), new Map());
  assert.equal((await collect(store.queryFlows({ marks: new Map() }))).length, flows.length);
  // New inserts land in v2 and feed progress and rollup.
  await store.insert(
    flows.slice(0, 3).map((f) => ({ ...f, uuid: `${f.uuid}-new` })),
    [{ session: 'old', node: 'n1', seq: 42 }],
    6,
  );
  assert.equal(await store.durableSeq('old'), 42);
  await store.close();
  assert.equal(await scalar(dir, 'SELECT sum(flows) FROM flows_1m'), 1503);
  assert.equal(await scalar(dir, MERGE_SETTING_SET), 1, 'the upgraded flows table has the merge setting');
});

test('a new store creates the flows table with its merge setting', async () => {
  const dir = path.join(root, 'fresh');
  await (await FlowStore.open({ path: dir })).close();
  assert.equal(await scalar(dir, MERGE_SETTING_SET), 1);
  assert.equal(await scalar(dir, 'SELECT max(version) FROM schema_migrations'), MIGRATIONS.at(-1)!.version);
});

test('retention: flows and rollup rows past their TTL disappear, recent ones stay', async () => {
  const dir = path.join(root, 'ttl');
  const now = Math.floor(Date.now() / 1000);
  const old = genFlows(500, 8, now - 3 * 86_400).map(canonical);
  const recent = genFlows(300, 9, now - 600).map(canonical);
  const expired = genFlows(50, 10, now - 9 * 86_400).map(canonical);
  let store = await FlowStore.open({ path: dir, retentionDays: 5, rollupRetentionDays: 5 });
  await store.insert([...old, ...recent, ...expired], [], 77);
  // Rows already past the TTL are not kept at all.
  assert.equal(await store.countFlows(), 800);
  await store.close();
  // Shorter retention: the TTL changes, and the next merge removes the 3-day-old rows.
  store = await FlowStore.open({ path: dir, retentionDays: 2, rollupRetentionDays: 2 });
  await store.close();
  const c = openClient({ kind: 'chdb', path: dir });
  try {
    const rs = await c.query({
      query: "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN ('flows', 'flows_1m') ORDER BY name",
      format: 'JSONEachRow',
    });
    for (const t of await rs.json<{ engine_full: string }>()) assert.match(t.engine_full, /toIntervalDay\(2\)/);
  } finally {
    await c.close();
  }
  // The shorter TTL is materialised by a background mutation.
  const deadline = Date.now() + 30_000;
  let counts: number[] = [];
  while (Date.now() < deadline) {
    counts = [await scalar(dir, 'SELECT count() FROM flows'), await scalar(dir, 'SELECT sum(flows) FROM flows_1m')];
    if (counts[0] === 300 && counts[1] === 300) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepStrictEqual(counts, [300, 300]);
});
