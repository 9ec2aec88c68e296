// History queries with Hubble's GetFlows semantics over the flows table: `first` → the oldest
// N in range, otherwise the newest N in range, always returned in ascending time; number 0 =
// everything in range, streamed page by page so memory stays bounded.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Flow, FlowFilter, Timestamp } from '../proto/types.js';
import { flowFiltersToSQL } from '../filters/index.js';
import { SELECT_LIST, rowToFlow } from '../schema/flow-row.js';

export interface FlowQuery {
  whitelist?: readonly FlowFilter[];
  blacklist?: readonly FlowFilter[];
  /** Inclusive lower bound (Hubble skips events older than since). */
  since?: Timestamp;
  /** Inclusive upper bound (Hubble stops at the first event newer than until). */
  until?: Timestamp;
  /** 0 or absent = no limit. */
  number?: number;
  first?: boolean;
  /** Exclusive lower bound, for resuming after the last flow a caller has seen. */
  newerThan?: Timestamp;
  /** Only rows of inserts up to this relay batch id (the live cursor of a follower). */
  maxBatchId?: number;
  /** Rows per round trip when number is 0. */
  pageSize?: number;
}

export function timestampNs(t: Timestamp): bigint {
  return BigInt(Math.trunc(t.seconds ?? 0)) * 1_000_000_000n + BigInt(Math.trunc(t.nanos ?? 0));
}

interface Built { where: string; params: Record<string, unknown> }

function buildWhere(q: FlowQuery): Built {
  const f = flowFiltersToSQL(q.whitelist ?? [], q.blacklist ?? [], 'f');
  const params: Record<string, unknown> = { ...f.params };
  const where = [f.sql];
  if (q.since) { params.q_since = timestampNs(q.since).toString(); where.push('time >= fromUnixTimestamp64Nano({q_since:Int64})'); }
  if (q.until) { params.q_until = timestampNs(q.until).toString(); where.push('time <= fromUnixTimestamp64Nano({q_until:Int64})'); }
  if (q.maxBatchId !== undefined && Number.isFinite(q.maxBatchId)) { params.q_maxb = String(q.maxBatchId); where.push('batch_id <= {q_maxb:UInt64}'); }
  if (q.newerThan) { params.q_newer = timestampNs(q.newerThan).toString(); where.push('time > fromUnixTimestamp64Nano({q_newer:Int64})'); }
  return { where: where.join(' AND '), params };
}

async function rows(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<unknown[][]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
  return rs.json<unknown[]>();
}

export async function* queryFlows(client: ClickHouseClient, q: FlowQuery): AsyncGenerator<Flow> {
  const { where, params } = buildWhere(q);
  const n = Math.max(0, Math.trunc(q.number ?? 0));
  if (n > 0) {
    // Ties on time are broken by uuid so repeated queries return the same rows.
    const dir = q.first ? 'ASC' : 'DESC';
    const got = await rows(client, `SELECT ${SELECT_LIST} FROM flows WHERE ${where} ORDER BY time ${dir}, uuid ${dir} LIMIT ${n}`, params);
    if (!q.first) got.reverse();
    for (const r of got) yield rowToFlow(r);
    return;
  }
  // Keyset pagination on time. A page never ends inside a group of equal times: rows at the
  // page's last time are fetched separately and completely, so nothing is skipped or repeated.
  const pageSize = Math.max(1, q.pageSize ?? 5000);
  let cursor: string | undefined;
  for (;;) {
    const p = { ...params, q_cursor: cursor ?? '0' };
    const after = cursor === undefined ? '' : ' AND time > fromUnixTimestamp64Nano({q_cursor:Int64})';
    const page = await rows(client, `SELECT ${SELECT_LIST} FROM flows WHERE ${where}${after} ORDER BY time ASC LIMIT ${pageSize}`, p);
    if (page.length < pageSize) {
      for (const r of page) yield rowToFlow(r);
      return;
    }
    const lastTime = page[page.length - 1][0] as string;
    for (const r of page) if (r[0] !== lastTime) yield rowToFlow(r);
    const tied = await rows(client, `SELECT ${SELECT_LIST} FROM flows WHERE ${where} AND time = fromUnixTimestamp64Nano({q_tie:Int64})`, { ...params, q_tie: lastTime });
    for (const r of tied) yield rowToFlow(r);
    cursor = lastTime;
  }
}

export async function countFlows(client: ClickHouseClient, q: Omit<FlowQuery, 'number' | 'first' | 'pageSize'> = {}): Promise<number> {
  const { where, params } = buildWhere(q);
  const got = await rows(client, `SELECT count() FROM flows WHERE ${where}`, params);
  return Number(got[0][0]);
}

export interface NamespaceSeen { cluster: string; namespace: string }

/** Distinct (cluster, namespace) of either endpoint seen since `sinceMs`, sorted. */
export async function namespaces(client: ClickHouseClient, sinceMs: number): Promise<NamespaceSeen[]> {
  const got = await rows(client, `SELECT DISTINCT c, ns FROM (
      SELECT src_cluster AS c, src_namespace AS ns FROM flows WHERE time >= fromUnixTimestamp64Milli({q_since:Int64})
      UNION ALL
      SELECT dst_cluster AS c, dst_namespace AS ns FROM flows WHERE time >= fromUnixTimestamp64Milli({q_since:Int64})
    ) WHERE ns != '' ORDER BY c, ns`, { q_since: String(Math.trunc(sinceMs)) });
  return got.map((r) => ({ cluster: r[0] as string, namespace: r[1] as string }));
}

export interface NodeSeen { name: string; flows: number; lastSeen: Timestamp }

export async function nodes(client: ClickHouseClient): Promise<NodeSeen[]> {
  const got = await rows(client, `SELECT node_name, count(), toString(toUnixTimestamp64Nano(max(time)))
    FROM flows WHERE node_name != '' GROUP BY node_name ORDER BY node_name`, {});
  return got.map((r) => {
    const ns = BigInt(r[2] as string);
    return { name: r[0] as string, flows: Number(r[1]), lastSeen: { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) } };
  });
}
