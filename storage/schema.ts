// ClickHouse DDL of the flows table and its companions; the columns themselves are declared
// once in schema/flow-columns.ts.
import { FLOW_COLUMNS, type ColumnDef } from '../schema/flow-columns.js';

export { FLOW_COLUMNS, INSERT_COLUMNS, type ColumnDef } from '../schema/flow-columns.js';

/** Column list of a CREATE TABLE statement. */
export function columnsDDL(cols: readonly ColumnDef[]): string {
  return cols.map((x) => `  ${x.name} ${withCodec(x.type)}`).join(',\n');
}

/** ZSTD unless the column names its own codec: measured smaller than the default LZ4 for
 * every column of the flow mix (docs/storage.md), at a write cost the engine easily absorbs. */
function withCodec(type: string): string {
  return /CODEC\(/.test(type) || /EPHEMERAL|ALIAS/.test(type) ? type : `${type} CODEC(ZSTD(1))`;
}

/**
 * How the engine merges the flows table's parts. An insert every flush interval makes a small
 * part; with the default merge_selector_base (5) the engine merged them so eagerly that merges
 * took more CPU than the inserts (rows rewritten again and again while parts are small).
 * At 10 each row is rewritten fewer times on its way to a large part, for a few more parts.
 * (docs/benchmarks.md, "Merges of the flows table".)
 */
export const FLOWS_MERGE_SETTINGS = 'merge_selector_base = 10';

/** The flows table (schema version 2), under `name` so a migration can build it beside v1. */
export function flowsTableDDL(retentionDays: number, name = 'flows'): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
${columnsDDL(FLOW_COLUMNS)},
  INDEX idx_time time TYPE minmax GRANULARITY 1,
  INDEX idx_dst_ns dst_namespace TYPE set(256) GRANULARITY 4,
  INDEX idx_uuid uuid TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = MergeTree
PARTITION BY toDate(time)
ORDER BY (src_namespace, verdict, time)
TTL toDateTime(time) + INTERVAL ${Math.trunc(retentionDays)} DAY
SETTINGS ${FLOWS_MERGE_SETTINGS}, non_replicated_deduplication_window = 1000`;
}

export const INGEST_PROGRESS_DDL = `CREATE TABLE IF NOT EXISTS ingest_progress (
  session String,
  node SimpleAggregateFunction(anyLast, String),
  seq SimpleAggregateFunction(max, UInt64),
  updated SimpleAggregateFunction(max, DateTime64(3))
) ENGINE = AggregatingMergeTree ORDER BY session`;

// Runs inside every insert into flows: the progress marks travel in the same rows (and so the
// same part) as the flows they describe, so a mark is never durable before its flows.
export const INGEST_PROGRESS_MV_DDL = `CREATE MATERIALIZED VIEW IF NOT EXISTS ingest_progress_mv TO ingest_progress AS
SELECT m.1 AS session, m.2 AS node, m.3 AS seq, now64(3) AS updated
FROM flows ARRAY JOIN arrayZip(ingest_sessions, ingest_nodes, ingest_seqs) AS m`;

/** ALTERs that add the provenance columns to a flows table created before them (old rows get
 * '' and 0: history only). Derived from FLOW_COLUMNS, so the types cannot drift. */
export function provenanceColumnsDDL(table = 'flows'): string[] {
  return FLOW_COLUMNS.filter((x) => x.name === 'flow_session' || x.name === 'flow_seq').map(
    (x) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${x.name} ${withCodec(x.type)}`,
  );
}

// Per collector session, the greatest flow_seq stored: the relay's history/live handover mark.
// A collector's flows reach storage in ring order (one stream, cumulative acks, inserts in
// order), so every row of the session at or below the mark is stored. The view writes after
// the flows part is committed, so a mark read here may be behind the flows table, never ahead:
// rows above it are left out of history and come from the collector's ring instead.
export function flowMarksDDL(retentionDays: number): string {
  return `CREATE TABLE IF NOT EXISTS flow_marks (
  session String,
  seq SimpleAggregateFunction(max, UInt64),
  updated SimpleAggregateFunction(max, DateTime64(3))
) ENGINE = AggregatingMergeTree ORDER BY session
TTL toDateTime(updated) + INTERVAL ${Math.trunc(retentionDays)} DAY`;
}

export const FLOW_MARKS_MV_DDL = `CREATE MATERIALIZED VIEW IF NOT EXISTS flow_marks_mv TO flow_marks AS
SELECT flow_session AS session, max(flow_seq) AS seq, now64(3) AS updated
FROM flows WHERE flow_session != '' GROUP BY flow_session`;
