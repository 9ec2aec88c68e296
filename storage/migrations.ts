// Versioned, idempotent migrations: every statement is IF NOT EXISTS, and a version is recorded
// in schema_migrations only after all its statements ran, so a crash mid-way re-runs safely.
import type { ClickHouseClient } from '@clickhouse/client';
import { flowsTableDDL, INGEST_PROGRESS_DDL, INGEST_PROGRESS_MV_DDL } from './schema.js';

export interface Migration { version: number; name: string; statements: (opts: { retentionDays: number }) => string[] }

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'flows table and ingest progress',
    statements: ({ retentionDays }) => [flowsTableDDL(retentionDays), INGEST_PROGRESS_DDL, INGEST_PROGRESS_MV_DDL],
  },
];

const MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version UInt32, name String, applied_at DateTime64(3) DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version`;

/** Applies pending migrations; returns the versions applied now. */
export async function migrate(client: ClickHouseClient, opts: { retentionDays: number }): Promise<number[]> {
  await client.command({ query: MIGRATIONS_DDL });
  const rs = await client.query({ query: 'SELECT DISTINCT version FROM schema_migrations', format: 'JSONEachRow' });
  const done = new Set((await rs.json<{ version: number | string }>()).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const q of m.statements(opts)) await client.command({ query: q });
    await client.insert({ table: 'schema_migrations', columns: ['version', 'name'], values: [[m.version, m.name]], format: 'JSONCompactEachRow' });
    applied.push(m.version);
  }
  await applyRetention(client, opts.retentionDays);
  return applied;
}

/** Keeps the TTL in step with the configured retention without rewriting existing parts. */
async function applyRetention(client: ClickHouseClient, days: number): Promise<void> {
  const rs = await client.query({ query: "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'flows'", format: 'JSONEachRow' });
  const rows = await rs.json<{ engine_full: string }>();
  if (rows.length === 0 || rows[0].engine_full.includes(`toIntervalDay(${days})`)) return;
  await client.command({
    query: `ALTER TABLE flows MODIFY TTL toDateTime(time) + INTERVAL ${Math.trunc(days)} DAY`,
    clickhouse_settings: { materialize_ttl_after_modify: 0 },
  });
}
