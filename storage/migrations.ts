// Versioned, idempotent migrations: every statement is IF NOT EXISTS (or checks the state it
// changes), and a version is recorded in schema_migrations only after all its steps ran, so a
// crash mid-way re-runs safely.
import type { ClickHouseClient } from '@clickhouse/client';
import {
  flowsTableDDL,
  flowMarksDDL,
  provenanceColumnsDDL,
  FLOWS_MERGE_SETTINGS,
  FLOW_MARKS_MV_DDL,
  INGEST_PROGRESS_DDL,
  INGEST_PROGRESS_MV_DDL,
} from './schema.js';
import { flowsTableV1DDL, V1_INSERT_COLUMNS } from './schema-v1.js';
import { rollupTableDDL, ROLLUP_MV_DDL, ROLLUP_SELECT } from './rollup.js';

export interface MigrationOptions {
  retentionDays: number;
  rollupRetentionDays?: number;
}

export interface Migration {
  version: number;
  name: string;
  run(client: ClickHouseClient, opts: MigrationOptions): Promise<void>;
}

async function exec(client: ClickHouseClient, statements: string[]): Promise<void> {
  for (const query of statements) await client.command({ query });
}

async function tableColumns(client: ClickHouseClient, table: string): Promise<Set<string>> {
  const rs = await client.query({
    query: 'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  return new Set((await rs.json<{ name: string }>()).map((r) => r.name));
}

async function tableExists(client: ClickHouseClient, table: string): Promise<boolean> {
  const rs = await client.query({
    query: 'SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: number | string }>())[0].n) > 0;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'flows table and ingest progress',
    run: (client, { retentionDays }) => exec(client, [flowsTableV1DDL(retentionDays), INGEST_PROGRESS_DDL, INGEST_PROGRESS_MV_DDL]),
  },
  {
    version: 2,
    name: 'flows v2 (binary rest, kernel columns, insert deduplication) and the per-minute rollup',
    async run(client, { retentionDays, rollupRetentionDays }) {
      const cols = await tableColumns(client, 'flows');
      if (cols.has('rest_b64')) {
        // Rebuild beside v1, copy the rows, then swap atomically; a re-run starts the copy over.
        await exec(client, [flowsTableDDL(retentionDays, 'flows_v2'), 'TRUNCATE TABLE flows_v2']);
        // Every v1 column exists in v2 (rest arrives decoded; rest_b64 was only an input).
        const copied = V1_INSERT_COLUMNS.map((n) => (n === 'rest_b64' ? 'rest' : n)).join(', ');
        await exec(client, [
          `INSERT INTO flows_v2 (${copied}) SELECT ${copied} FROM flows`,
          'DROP VIEW IF EXISTS ingest_progress_mv',
          'EXCHANGE TABLES flows AND flows_v2',
        ]);
      }
      await exec(client, ['DROP TABLE IF EXISTS flows_v2', INGEST_PROGRESS_MV_DDL, rollupTableDDL(rollupRetentionDays ?? Math.max(retentionDays, 30))]);
      if (!(await tableExists(client, 'flows_1m_mv'))) {
        // Roll up what is already stored, then let the view keep the rollup in step.
        await exec(client, ['TRUNCATE TABLE flows_1m', `INSERT INTO flows_1m ${ROLLUP_SELECT}`, ROLLUP_MV_DDL]);
      }
    },
  },
  {
    version: 3,
    name: 'flow provenance (flow_session, flow_seq) and the flow_marks view',
    // Metadata only: old rows read the defaults ('' and 0) and stay history only.
    run: (client, { retentionDays }) => exec(client, [...provenanceColumnsDDL(), flowMarksDDL(retentionDays), FLOW_MARKS_MV_DDL]),
  },
  {
    version: 4,
    name: 'flows merge settings (fewer rewrites of small parts)',
    // A table setting: later merges follow it, stored parts stay as they are.
    run: (client) => exec(client, [`ALTER TABLE flows MODIFY SETTING ${FLOWS_MERGE_SETTINGS}`]),
  },
];

const MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version UInt32, name String, applied_at DateTime64(3) DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version`;

/** Applies pending migrations; returns the versions applied now. */
export async function migrate(client: ClickHouseClient, opts: MigrationOptions): Promise<number[]> {
  await client.command({ query: MIGRATIONS_DDL });
  const rs = await client.query({ query: 'SELECT DISTINCT version FROM schema_migrations', format: 'JSONEachRow' });
  const done = new Set((await rs.json<{ version: number | string }>()).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    await m.run(client, opts);
    await client.insert({ table: 'schema_migrations', columns: ['version', 'name'], values: [[m.version, m.name]], format: 'JSONCompactEachRow' });
    applied.push(m.version);
  }
  await applyRetention(client, 'flows', 'toDateTime(time)', opts.retentionDays);
  await applyRetention(client, 'flows_1m', 'minute', opts.rollupRetentionDays ?? Math.max(opts.retentionDays, 30));
  // A session's mark outlives its rows (a mark is updated when its newest rows are stored).
  await applyRetention(client, 'flow_marks', 'toDateTime(updated)', opts.retentionDays);
  return applied;
}

/** Keeps a table's TTL in step with the configured retention. A longer retention is metadata
 * only; a shorter one also starts a background mutation that drops the rows it expires (parts
 * keep the TTL they were written with otherwise). */
async function applyRetention(client: ClickHouseClient, table: string, timeExpr: string, days: number): Promise<void> {
  const rs = await client.query({
    query: 'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ engine_full: string }>();
  if (rows.length === 0) return;
  const current = /toIntervalDay\((\d+)\)/.exec(rows[0].engine_full);
  const want = Math.trunc(days);
  if (current && Number(current[1]) === want) return;
  const shorter = current !== null && want < Number(current[1]);
  await client.command({
    query: `ALTER TABLE ${table} MODIFY TTL ${timeExpr} + INTERVAL ${want} DAY`,
    clickhouse_settings: { materialize_ttl_after_modify: shorter ? 1 : 0 },
  });
}
