// The cluster schema cannot run here (no ClickHouse cluster), so: every statement must parse
// in the real engine, reference only tables it creates, and carry the replicated/distributed
// shape; the single-node schema printed by `flowscope schema` must equal what migrations build.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { clusterSchema, singleNodeSchema, CLUSTER_TABLES } from './cluster.js';
import { openClient } from './client.js';
import { FlowStore } from './store.js';
import { FLOWS_MERGE_SETTINGS } from './schema.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-cluster-'));
after(() => fs.rm(root, { recursive: true, force: true }));

async function tableDDLs(dir: string): Promise<Map<string, string>> {
  const c = openClient({ kind: 'chdb', path: dir });
  try {
    const rs = await c.query({
      query: "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND name != 'schema_migrations' ORDER BY name",
      format: 'JSONCompactEachRow',
    });
    return new Map((await rs.json<[string, string]>()).map(([n, q]) => [n, q]));
  } finally {
    await c.close();
  }
}

test('cluster DDL parses, is replicated behind Distributed tables, and names only its own tables', async () => {
  const stmts = clusterSchema({ cluster: 'prod_cluster', database: 'flowscope', retentionDays: 14 });
  const c = openClient({ kind: 'chdb', path: path.join(root, 'parse') });
  try {
    for (const s of stmts) {
      const rs = await c.query({ query: `EXPLAIN AST ${s}`, format: 'TabSeparatedRaw' });
      assert.match(await rs.text(), /Create|Database/, s.slice(0, 80));
    }
  } finally {
    await c.close();
  }
  const all = stmts.join('\n');
  for (const t of CLUSTER_TABLES) assert.ok(all.includes(`flowscope.${t} ON CLUSTER prod_cluster`), t);
  assert.equal((all.match(/ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/flowscope\/\w+_local', '\{replica\}'/g) ?? []).length, 4);
  assert.equal((all.match(/ENGINE = Distributed\(prod_cluster, flowscope, \w+_local, cityHash64\(\w+\)\)/g) ?? []).length, 4);
  assert.match(all, /ReplicatedSummingMergeTree\([^)]*'\{replica\}', \(flows, bytes, packets\)\)/);
  assert.doesNotMatch(all, /non_replicated_deduplication_window/);
  assert.ok(all.includes(`SETTINGS ${FLOWS_MERGE_SETTINGS}`), 'the replicated flows table keeps its merge setting');
  assert.match(all, /TTL toDateTime\(time\) \+ INTERVAL 14 DAY/);
  // Views read the local tables and write the local tables.
  for (const mv of stmts.filter((s) => s.includes('MATERIALIZED VIEW'))) {
    assert.match(mv, /TO flowscope\.\w+_local AS/);
    assert.match(mv, /FROM flowscope\.flows_local/);
  }
  assert.throws(() => clusterSchema({ cluster: 'a b', database: 'x', retentionDays: 1 }), /invalid cluster name/);
  assert.throws(() => clusterSchema({ cluster: 'a', database: 'x;drop', retentionDays: 1 }), /invalid database name/);
});

test('the printed single-node schema builds the same tables as the migrations', async () => {
  const migrated = path.join(root, 'migrated'),
    printed = path.join(root, 'printed');
  await (await FlowStore.open({ path: migrated, retentionDays: 9 })).close();
  const c = openClient({ kind: 'chdb', path: printed });
  try {
    for (const s of singleNodeSchema({ retentionDays: 9 })) await c.command({ query: s });
  } finally {
    await c.close();
  }
  assert.deepStrictEqual(await tableDDLs(printed), await tableDDLs(migrated));
});

test('a store in cluster mode checks the schema instead of migrating', async () => {
  await assert.rejects(FlowStore.open({ path: path.join(root, 'empty'), cluster: 'prod' }), /cluster schema incomplete .*flowscope schema --cluster prod/);
});
