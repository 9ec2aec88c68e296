// Version 1 of the flows table, frozen as it shipped: the v1 → v2 migration and its test build
// exactly this table. Never edit; a new schema is a new migration.
import type { ColumnDef } from './schema.js';

const c = (name: string, type: string): ColumnDef => ({ name, type });
const LC = 'LowCardinality(String)';
const LCA = 'Array(LowCardinality(String))';

function endpoint(prefix: 'src' | 'dst'): ColumnDef[] {
  return [
    c(`${prefix}_ep_id`, 'UInt32'),
    c(`${prefix}_identity`, 'UInt32'),
    c(`${prefix}_cluster`, LC),
    c(`${prefix}_namespace`, LC),
    c(`${prefix}_pod`, LC),
    c(`${prefix}_labels`, LCA),
    c(`${prefix}_workload_names`, LCA),
    c(`${prefix}_workload_kinds`, LCA),
  ];
}

/** Columns written by the codec, in insert order. */
const V1_COLUMNS: readonly ColumnDef[] = [
  c('time', 'DateTime64(9) CODEC(Delta, ZSTD(1))'),
  c('uuid', 'String CODEC(ZSTD(1))'),
  c('verdict', 'Int32'),
  c('drop_reason', 'UInt32'),
  c('drop_reason_desc', 'Int32'),
  c('presence', 'UInt32'),
  c('flow_type', 'Int32'),
  c('node_name', LC),
  c('node_labels', LCA),
  c('eth_src', 'String CODEC(ZSTD(1))'),
  c('eth_dst', 'String CODEC(ZSTD(1))'),
  c('ip_version', 'Int32'),
  c('ip_ok', 'UInt8'),
  c('ip_src', 'IPv6'),
  c('ip_src_raw', 'String'),
  c('ip_dst', 'IPv6'),
  c('ip_dst_raw', 'String'),
  c('ip_xlated', 'IPv6'),
  c('ip_xlated_raw', 'String'),
  c('encrypted', 'UInt8'),
  c('src_port', 'UInt32'),
  c('dst_port', 'UInt32'),
  c('tcp_flags', 'UInt16'),
  c('icmp_type', 'UInt32'),
  c('icmp_code', 'UInt32'),
  ...endpoint('src'),
  ...endpoint('dst'),
  c('src_names', 'Array(String)'),
  c('dst_names', 'Array(String)'),
  c('is_reply', 'UInt8'),
  c('event_type', 'Int32'),
  c('event_subtype', 'Int32'),
  c('src_svc_ns', LC),
  c('src_svc_name', LC),
  c('dst_svc_ns', LC),
  c('dst_svc_name', LC),
  c('traffic_direction', 'Int32'),
  c('policy_match_type', 'UInt32'),
  c('trace_point', 'Int32'),
  c('trace_reason', 'Int32'),
  c('iface_index', 'UInt32'),
  c('iface_name', LC),
  c('proxy_port', 'UInt32'),
  c('summary', 'String CODEC(ZSTD(1))'),
  c('l7_type', 'Int32'),
  c('l7_latency_ns', 'UInt64'),
  c('dns_query', 'String'),
  c('dns_ips', 'Array(String)'),
  c('dns_ttl', 'UInt32'),
  c('dns_cnames', 'Array(String)'),
  c('dns_obs_source', LC),
  c('dns_rcode', 'UInt32'),
  c('dns_qtypes', LCA),
  c('dns_rrtypes', LCA),
  // Filter-only copies: the messages they come from stay in `rest`.
  c('http_code', 'UInt32'),
  c('http_method', LC),
  c('http_url', 'String'),
  c('http_path', 'String'),
  c('http_path_ok', 'UInt8'),
  c('http_header_keys', 'Array(String)'),
  c('http_header_values', 'Array(String)'),
  c('trace_id', 'String'),
  c('ip_trace_id', 'UInt64'),
  // Text insert formats cannot carry raw bytes through the client, so `rest` arrives base64.
  c('rest_b64', "String EPHEMERAL ''"),
  c('ingest_sessions', LCA),
  c('ingest_nodes', LCA),
  c('ingest_seqs', 'Array(UInt64)'),
  // The relay's insert number (grows across restarts): history reads stop at a batch id and live
  // followers continue after it, so `observe --follow` has no gap and no duplicate.
  c('batch_id', 'UInt64 CODEC(Delta, ZSTD(1))'),
];

/** Insert columns of version 1 (rest arrived base64 in rest_b64). */
export const V1_INSERT_COLUMNS = V1_COLUMNS.map((x) => x.name);

export function flowsTableV1DDL(retentionDays: number): string {
  const cols = V1_COLUMNS.map((x) => `  ${x.name} ${x.type}`);
  cols.push('  rest String DEFAULT base64Decode(rest_b64) CODEC(ZSTD(3))');
  return `CREATE TABLE IF NOT EXISTS flows (
${cols.join(',\n')},
  INDEX idx_time time TYPE minmax GRANULARITY 1,
  INDEX idx_dst_ns dst_namespace TYPE set(256) GRANULARITY 4,
  INDEX idx_uuid uuid TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = MergeTree
PARTITION BY toDate(time)
ORDER BY (src_namespace, verdict, time)
TTL toDateTime(time) + INTERVAL ${retentionDays} DAY`;
}
