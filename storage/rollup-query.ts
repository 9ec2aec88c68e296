// Aggregate questions answered from the per-minute rollup (storage/rollup.ts), never from the
// raw table: which workloads talk to which (service map), who sends the most, why flows drop.
// All inputs are query parameters.
import type { ClickHouseClient } from '@clickhouse/client';
import { DEFAULT_CLUSTER } from '../common/cluster-name.js';
import { scopeSQL } from './query.js';

export interface RollupRange {
  /** Inclusive start, ms since the epoch (rounded down to the minute). */
  sinceMs: number;
  /** Exclusive end, ms since the epoch. */
  untilMs: number;
  /** Only edges with this namespace on either side. */
  namespace?: string;
  /** Only rows observed in this cluster (the rollup keeps the node name, "<cluster>/<node>"). */
  cluster?: string;
  limit?: number;
  /** Only rows with one of these namespaces on either side (a scoped token). */
  scope?: readonly string[];
}

export interface ServiceEdge {
  srcNamespace: string;
  srcWorkload: string;
  dstNamespace: string;
  dstWorkload: string;
  protocol: string;
  dstPort: number;
  flows: number;
  dropped: number;
  bytes: number;
}

export interface Talker {
  namespace: string;
  workload: string;
  flows: number;
  bytes: number;
  peers: number;
}

export interface DropReasonCount {
  dropReason: number;
  srcNamespace: string;
  dstNamespace: string;
  flows: number;
}

const DROPPED = 2;
/** Service map edges returned when a request gives no limit (the busiest first). */
export const DEFAULT_SERVICE_MAP_LIMIT = 50;

function where(r: RollupRange, params: Record<string, unknown>): string {
  params.r_since = Math.floor(r.sinceMs / 1000);
  params.r_until = Math.ceil(r.untilMs / 1000);
  const parts = ['minute >= toStartOfMinute(toDateTime({r_since:UInt32}))', 'minute < toDateTime({r_until:UInt32})'];
  if (r.namespace !== undefined) {
    params.r_ns = r.namespace;
    parts.push('(src_namespace = {r_ns:String} OR dst_namespace = {r_ns:String})');
  }
  if (r.scope !== undefined) parts.push(scopeSQL(r.scope, params, 'r_scope'));
  if (r.cluster !== undefined) {
    // Hubble leaves the node names of the cluster "default" unprefixed.
    if (r.cluster === DEFAULT_CLUSTER) parts.push("position(node_name, '/') = 0");
    else {
      params.r_cluster = `${r.cluster}/`;
      parts.push('startsWith(node_name, {r_cluster:String})');
    }
  }
  return parts.join(' AND ');
}

function limitOf(r: RollupRange, dflt: number): number {
  const n = Math.trunc(r.limit ?? dflt);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 100_000) : dflt;
}

async function rows(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<unknown[][]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
  return rs.json<unknown[]>();
}

/** Workload → workload edges with flow, drop and byte counts, busiest first. */
export async function serviceMap(client: ClickHouseClient, r: RollupRange): Promise<ServiceEdge[]> {
  // A screenful by default: the busiest edges first; --limit asks for more.
  const params: Record<string, unknown> = { r_limit: limitOf(r, DEFAULT_SERVICE_MAP_LIMIT), r_dropped: DROPPED };
  const got = await rows(
    client,
    `SELECT src_namespace, src_workload, dst_namespace, dst_workload, protocol, dst_port,
      sum(flows) AS f, sumIf(flows, verdict = {r_dropped:Int32}) AS d, sum(bytes) AS b
    FROM flows_1m WHERE ${where(r, params)}
    GROUP BY src_namespace, src_workload, dst_namespace, dst_workload, protocol, dst_port
    ORDER BY f DESC, src_namespace, src_workload, dst_namespace, dst_workload, protocol, dst_port LIMIT {r_limit:UInt32}`,
    params,
  );
  return got.map((x) => ({
    srcNamespace: x[0] as string,
    srcWorkload: x[1] as string,
    dstNamespace: x[2] as string,
    dstWorkload: x[3] as string,
    protocol: x[4] as string,
    dstPort: Number(x[5]),
    flows: Number(x[6]),
    dropped: Number(x[7]),
    bytes: Number(x[8]),
  }));
}

/** Source workloads by flows sent, with bytes and distinct destination workloads. */
export async function topTalkers(client: ClickHouseClient, r: RollupRange): Promise<Talker[]> {
  const params: Record<string, unknown> = { r_limit: limitOf(r, 10) };
  const got = await rows(
    client,
    `SELECT src_namespace, src_workload, sum(flows) AS f, sum(bytes) AS b,
      uniqExact(dst_namespace, dst_workload) AS p
    FROM flows_1m WHERE ${where(r, params)}
    GROUP BY src_namespace, src_workload ORDER BY f DESC, src_namespace, src_workload LIMIT {r_limit:UInt32}`,
    params,
  );
  return got.map((x) => ({ namespace: x[0] as string, workload: x[1] as string, flows: Number(x[2]), bytes: Number(x[3]), peers: Number(x[4]) }));
}

/** Dropped flows by Hubble drop reason and namespaces, most first. */
export async function topDropReasons(client: ClickHouseClient, r: RollupRange): Promise<DropReasonCount[]> {
  const params: Record<string, unknown> = { r_limit: limitOf(r, 10), r_dropped: DROPPED };
  const got = await rows(
    client,
    `SELECT drop_reason_desc, src_namespace, dst_namespace, sum(flows) AS f
    FROM flows_1m WHERE ${where(r, params)} AND verdict = {r_dropped:Int32}
    GROUP BY drop_reason_desc, src_namespace, dst_namespace ORDER BY f DESC, drop_reason_desc, src_namespace, dst_namespace
    LIMIT {r_limit:UInt32}`,
    params,
  );
  return got.map((x) => ({ dropReason: Number(x[0]), srcNamespace: x[1] as string, dstNamespace: x[2] as string, flows: Number(x[3]) }));
}
