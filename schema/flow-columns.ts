// The flows table's columns, declared once: one typed column for every field a filter or a
// printer reads, and `rest` (protobuf bytes) for whatever those columns cannot reproduce
// exactly, so reading a row back yields the stored Flow unchanged. The order here is the row
// order of every format: schema/flow-row.ts writes values in it (RowBinary rows and Native
// blocks alike), storage/schema.ts derives the DDL from it.

export interface ColumnDef {
  name: string;
  type: string;
}

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
export const FLOW_COLUMNS: readonly ColumnDef[] = [
  c('time', 'DateTime64(9) CODEC(Delta, ZSTD(1))'),
  c('uuid', 'String CODEC(ZSTD(1))'),
  c('verdict', 'Int32'),
  c('drop_reason', 'UInt32'),
  c('drop_reason_desc', 'Int32'),
  c('presence', 'UInt32'),
  c('flow_type', 'Int32'),
  c('node_name', LC),
  c('node_labels', LCA),
  c('eth_src', LC),
  c('eth_dst', LC),
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
  c('summary', LC),
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
  // From our kernel probe's extension (flowscope.kernel.v1.KernelFlowInfo): the kernel's own
  // drop reason name and the flow's counters; '' / 0 for Cilium events.
  c('kernel_drop_reason', LC),
  c('bytes', 'UInt64'),
  c('packets', 'UInt64'),
  c('emitter_name', LC),
  c('emitter_version', LC),
  // Protobuf bytes of whatever the columns above cannot reproduce ('' for most flows).
  c('rest', 'String CODEC(ZSTD(3))'),
  c('ingest_sessions', LCA),
  c('ingest_nodes', LCA),
  c('ingest_seqs', 'Array(UInt64)'),
  // The relay's insert number (grows across restarts): history reads stop at a batch id and live
  // followers continue after it, so `observe --follow` has no gap and no duplicate.
  c('batch_id', 'UInt64 CODEC(Delta, ZSTD(1))'),
  // Provenance, written by the collector per row: its session id and the flow's cursor in its
  // ring (1, 2, … per session). The relay's live path uses them: history is cut at the greatest
  // flow_seq stored per session (flow_marks), and each collector's Observer API serves its ring
  // after that cursor, so history and live meet exactly. '' / 0 for flows that came without
  // (legacy protobuf ingest, FlowStore.insert): those are history only.
  c('flow_session', LC),
  c('flow_seq', 'UInt64'),
];

/** Names of the columns an insert supplies. */
export const INSERT_COLUMNS = FLOW_COLUMNS.map((x) => x.name);
