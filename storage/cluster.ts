// DDL for a ClickHouse cluster: every table becomes a Replicated*MergeTree `<name>_local` on each
// shard plus a Distributed `<name>` in front of it, created ON CLUSTER; the materialized views
// run on the local tables, so each shard keeps its own rollup and progress rows. Generated from
// the same single-node statements the migrations run, so the two never drift. Apply it with
// clickhouse-client (`flowscope schema --cluster NAME | clickhouse-client -n`), then run the relay
// with --clickhouse-cluster NAME (it checks the tables instead of migrating).
import { flowsTableDDL, flowMarksDDL, FLOW_MARKS_MV_DDL, INGEST_PROGRESS_DDL, INGEST_PROGRESS_MV_DDL } from './schema.js';
import { rollupTableDDL, ROLLUP_SELECT } from './rollup.js';

export interface ClusterSchemaOptions {
  cluster: string;
  database: string;
  retentionDays: number;
  rollupRetentionDays?: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkIdentifier(kind: string, v: string): string {
  if (!IDENT.test(v)) throw new Error(`invalid ${kind} name "${v}": letters, digits and _ only`);
  return v;
}

function replicated(ddl: string, table: string, o: ClusterSchemaOptions): string {
  const local = `${o.database}.${table}_local`;
  return (
    ddl
      .replace(`CREATE TABLE IF NOT EXISTS ${table} (`, `CREATE TABLE IF NOT EXISTS ${local} ON CLUSTER ${o.cluster} (`)
      .replace(
        /ENGINE = (\w*MergeTree)(?:\((\([^)]*\))\))?/,
        (_m, engine: string, sumCols?: string) =>
          `ENGINE = Replicated${engine}('/clickhouse/tables/{shard}/${o.database}/${table}_local', '{replica}'${sumCols ? `, ${sumCols}` : ''})`,
      )
      // Replicated tables deduplicate by their own setting; other table settings stay.
      .replace(/(,\s*|\nSETTINGS )non_replicated_deduplication_window = \d+/, '')
  );
}

function distributed(table: string, shardKey: string, o: ClusterSchemaOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${o.database}.${table} ON CLUSTER ${o.cluster} AS ${o.database}.${table}_local
ENGINE = Distributed(${o.cluster}, ${o.database}, ${table}_local, ${shardKey})`;
}

/** Statements, in order, that create flowscope's schema on a cluster. */
export function clusterSchema(opts: ClusterSchemaOptions): string[] {
  const o = { ...opts, cluster: checkIdentifier('cluster', opts.cluster), database: checkIdentifier('database', opts.database) };
  const rollupDays = o.rollupRetentionDays ?? Math.max(o.retentionDays, 30);
  const progressMv = INGEST_PROGRESS_MV_DDL.replace(
    'ingest_progress_mv TO ingest_progress AS',
    `${o.database}.ingest_progress_mv ON CLUSTER ${o.cluster} TO ${o.database}.ingest_progress_local AS`,
  ).replace(/FROM flows\b/, `FROM ${o.database}.flows_local`);
  const marksMv = FLOW_MARKS_MV_DDL.replace(
    'flow_marks_mv TO flow_marks AS',
    `${o.database}.flow_marks_mv ON CLUSTER ${o.cluster} TO ${o.database}.flow_marks_local AS`,
  ).replace(/FROM flows\b/, `FROM ${o.database}.flows_local`);
  const rollupMv =
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${o.database}.flows_1m_mv ON CLUSTER ${o.cluster} TO ${o.database}.flows_1m_local AS ` +
    ROLLUP_SELECT.replace(/FROM flows\b/, `FROM ${o.database}.flows_local`);
  return [
    `CREATE DATABASE IF NOT EXISTS ${o.database} ON CLUSTER ${o.cluster}`,
    // A node's flows stay on one shard: per-node queries touch one shard, and a retried insert
    // splits into the same per-shard blocks, so replicated deduplication recognises it.
    replicated(flowsTableDDL(o.retentionDays), 'flows', o),
    distributed('flows', 'cityHash64(node_name)', o),
    replicated(INGEST_PROGRESS_DDL, 'ingest_progress', o),
    distributed('ingest_progress', 'cityHash64(session)', o),
    replicated(rollupTableDDL(rollupDays), 'flows_1m', o),
    distributed('flows_1m', 'cityHash64(node_name)', o),
    // The view writes each shard's marks beside its flows (a session's rows are on one shard:
    // flows shard by node); the Distributed table is only read.
    replicated(flowMarksDDL(o.retentionDays), 'flow_marks', o),
    distributed('flow_marks', 'cityHash64(session)', o),
    progressMv,
    marksMv,
    rollupMv,
  ];
}

/** The tables a relay on a cluster needs before it starts. */
export const CLUSTER_TABLES = [
  'flows',
  'flows_local',
  'ingest_progress',
  'ingest_progress_local',
  'flows_1m',
  'flows_1m_local',
  'flow_marks',
  'flow_marks_local',
];

/** Statements of the current single-node schema (what the migrations end with on a new store). */
export function singleNodeSchema(o: { retentionDays: number; rollupRetentionDays?: number }): string[] {
  return [
    flowsTableDDL(o.retentionDays),
    INGEST_PROGRESS_DDL,
    INGEST_PROGRESS_MV_DDL,
    flowMarksDDL(o.retentionDays),
    FLOW_MARKS_MV_DDL,
    rollupTableDDL(o.rollupRetentionDays ?? Math.max(o.retentionDays, 30)),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv TO flows_1m AS ${ROLLUP_SELECT}`,
  ];
}
