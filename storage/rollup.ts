// Per-minute rollup of the flows table for the service map, top talkers, top drop reasons and
// the dashboards: one row per (minute, node, source workload, destination workload, verdict,
// drop reason, protocol, destination port) with flow, byte and packet sums. A materialized view
// fills it inside every insert into flows, so it always agrees with the raw table; it keeps its
// own deduplication window so a deduplicated retry of a flows insert adds nothing here either.
import { P } from '../schema/presence.js';

const bit = (b: number) => `bitAnd(presence, ${b}) != 0`;

/** The workload an endpoint rolls up to: its first workload, else its reserved identity label
 * (reserved:world, reserved:host, ...), else its pod name (a pod without an owner). */
export function workloadExpr(p: 'src' | 'dst'): string {
  return `multiIf(notEmpty(${p}_workload_names) AND ${p}_workload_names[1] != '', ${p}_workload_names[1],
    arrayExists(l -> startsWith(l, 'reserved:'), ${p}_labels), arrayFirst(l -> startsWith(l, 'reserved:'), ${p}_labels),
    ${p}_pod)`;
}

export const PROTOCOL_EXPR = `multiIf(${bit(P.TCP)}, 'TCP', ${bit(P.UDP)}, 'UDP', ${bit(P.ICMPV4)}, 'ICMPv4', ${bit(P.ICMPV6)}, 'ICMPv6', ${bit(P.SCTP)}, 'SCTP', ${bit(P.VRRP)}, 'VRRP', ${bit(P.IGMP)}, 'IGMP', '')`;

export const ROLLUP_KEY = [
  'minute',
  'src_namespace',
  'src_workload',
  'dst_namespace',
  'dst_workload',
  'verdict',
  'drop_reason_desc',
  'protocol',
  'dst_port',
  'node_name',
] as const;

export function rollupTableDDL(retentionDays: number, name = 'flows_1m'): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  minute DateTime CODEC(Delta, ZSTD(1)),
  node_name LowCardinality(String),
  src_namespace LowCardinality(String),
  src_workload LowCardinality(String),
  dst_namespace LowCardinality(String),
  dst_workload LowCardinality(String),
  verdict Int32,
  drop_reason_desc Int32,
  protocol LowCardinality(String),
  dst_port UInt32,
  flows UInt64,
  bytes UInt64,
  packets UInt64
) ENGINE = SummingMergeTree((flows, bytes, packets))
PARTITION BY toDate(minute)
ORDER BY (${ROLLUP_KEY.join(', ')})
TTL minute + INTERVAL ${Math.trunc(retentionDays)} DAY
SETTINGS non_replicated_deduplication_window = 1000`;
}

export const ROLLUP_SELECT = `SELECT toStartOfMinute(time) AS minute, node_name,
  src_namespace, ${workloadExpr('src')} AS src_workload,
  dst_namespace, ${workloadExpr('dst')} AS dst_workload,
  verdict, drop_reason_desc, ${PROTOCOL_EXPR} AS protocol, dst_port,
  count() AS flows, sum(bytes) AS bytes, sum(packets) AS packets
FROM flows
GROUP BY ${ROLLUP_KEY.join(', ')}`;

export const ROLLUP_MV_DDL = `CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv TO flows_1m AS ${ROLLUP_SELECT}`;
