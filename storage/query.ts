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
  /** Only rows of inserts up to this relay batch id. */
  maxBatchId?: number;
  /**
   * The history/live handover (storage.liveMarks()): a row with a collector session is history
   * only if its flow_seq is at or below that session's mark (a session without a mark: none
   * is); rows without a session (legacy ingest) always are. Rows above the marks come from the
   * collectors' rings instead.
   */
  marks?: ReadonlyMap<string, number>;
  /** Rows per round trip when number is 0. */
  pageSize?: number;
}

export function timestampNs(t: Timestamp): bigint {
  return BigInt(Math.trunc(t.seconds ?? 0)) * 1_000_000_000n + BigInt(Math.trunc(t.nanos ?? 0));
}

interface Built {
  where: string;
  params: Record<string, unknown>;
}

function buildWhere(q: FlowQuery): Built {
  const f = flowFiltersToSQL(q.whitelist ?? [], q.blacklist ?? [], 'f');
  const params: Record<string, unknown> = { ...f.params };
  const where = [f.sql];
  if (q.since) {
    params.q_since = timestampNs(q.since).toString();
    where.push('time >= fromUnixTimestamp64Nano({q_since:Int64})');
  }
  if (q.until) {
    params.q_until = timestampNs(q.until).toString();
    where.push('time <= fromUnixTimestamp64Nano({q_until:Int64})');
  }
  if (q.maxBatchId !== undefined && Number.isFinite(q.maxBatchId)) {
    params.q_maxb = String(q.maxBatchId);
    where.push('batch_id <= {q_maxb:UInt64}');
  }
  if (q.marks !== undefined) {
    // A bound Map parameter (never SQL text); a missing key reads as 0, so the rows of a session
    // first stored after the snapshot are left to the live path.
    params.q_marks = q.marks;
    where.push("(flow_session = '' OR flow_seq <= {q_marks:Map(String, UInt64)}[flow_session])");
  }
  if (q.newerThan) {
    params.q_newer = timestampNs(q.newerThan).toString();
    where.push('time > fromUnixTimestamp64Nano({q_newer:Int64})');
  }
  return { where: where.join(' AND '), params };
}

async function rows(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<unknown[][]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
  return rs.json<unknown[]>();
}

/** Rows of the single query that answers a small `number`; above it results are paged. */
const SINGLE_QUERY_MAX = 10_000;

export async function* queryFlows(client: ClickHouseClient, q: FlowQuery): AsyncGenerator<Flow> {
  const { where, params } = buildWhere(q);
  // `number` may be any uint64 (hubble's --all sends 2^64-1, which arrives as a float): anything
  // at or beyond what a result could hold means "all".
  const raw = Math.trunc(q.number ?? 0);
  const n = Number.isFinite(raw) && raw > 0 && raw < Number.MAX_SAFE_INTEGER ? raw : 0;
  const pageSize = Math.max(1, q.pageSize ?? 5000);
  if (n > 0 && n <= SINGLE_QUERY_MAX) {
    // Ties on time are broken by uuid so repeated queries return the same rows.
    const dir = q.first ? 'ASC' : 'DESC';
    const got = await rows(client, `SELECT ${SELECT_LIST} FROM flows WHERE ${where} ORDER BY time ${dir}, uuid ${dir} LIMIT {q_limit:UInt64}`, {
      ...params,
      q_limit: String(n),
    });
    if (!q.first) got.reverse();
    for (const r of got) yield rowToFlow(r);
    return;
  }
  // Large results stream in pages (bounded memory), keyed on (time, uuid) so nothing is skipped
  // or repeated. The newest n start after the rows before them, counted first.
  let skip = 0;
  if (n > 0 && !q.first) skip = Math.max(0, (await countWhere(client, where, params)) - n);
  let left = n > 0 ? n : Infinity;
  let cursor: [string, string] | undefined;
  while (left > 0) {
    const p: Record<string, unknown> = { ...params, q_page: String(Math.min(pageSize, left)), q_skip: String(skip) };
    let after = '';
    if (cursor) {
      after = ' AND (time, uuid) > (fromUnixTimestamp64Nano({q_ct:Int64}), {q_cu:String})';
      p.q_ct = cursor[0];
      p.q_cu = cursor[1];
    }
    const page = await rows(
      client,
      `SELECT ${SELECT_LIST} FROM flows WHERE ${where}${after} ORDER BY time ASC, uuid ASC LIMIT {q_page:UInt64} OFFSET {q_skip:UInt64}`,
      p,
    );
    skip = 0;
    for (const r of page) yield rowToFlow(r);
    left -= page.length;
    if (page.length < Number(p.q_page)) return;
    const last = page[page.length - 1];
    cursor = [last[0] as string, last[1] as string];
  }
}

async function countWhere(client: ClickHouseClient, where: string, params: Record<string, unknown>): Promise<number> {
  const got = await rows(client, `SELECT toString(count()) FROM flows WHERE ${where}`, params);
  return Number(got[0]?.[0] ?? 0);
}

export async function countFlows(client: ClickHouseClient, q: Omit<FlowQuery, 'number' | 'first' | 'pageSize'> = {}): Promise<number> {
  const { where, params } = buildWhere(q);
  const got = await rows(client, `SELECT count() FROM flows WHERE ${where}`, params);
  return Number(got[0][0]);
}

export interface NamespaceSeen {
  cluster: string;
  namespace: string;
}

/** Distinct (cluster, namespace) of either endpoint seen since `sinceMs`, sorted. */
export async function namespaces(client: ClickHouseClient, sinceMs: number): Promise<NamespaceSeen[]> {
  const got = await rows(
    client,
    `SELECT DISTINCT c, ns FROM (
      SELECT src_cluster AS c, src_namespace AS ns FROM flows WHERE time >= fromUnixTimestamp64Milli({q_since:Int64})
      UNION ALL
      SELECT dst_cluster AS c, dst_namespace AS ns FROM flows WHERE time >= fromUnixTimestamp64Milli({q_since:Int64})
    ) WHERE ns != '' ORDER BY c, ns`,
    { q_since: String(Math.trunc(sinceMs)) },
  );
  return got.map((r) => ({ cluster: r[0] as string, namespace: r[1] as string }));
}

export interface NodeSeen {
  name: string;
  flows: number;
  lastSeen: Timestamp;
}

export async function nodes(client: ClickHouseClient): Promise<NodeSeen[]> {
  const got = await rows(
    client,
    `SELECT node_name, count(), toString(toUnixTimestamp64Nano(max(time)))
    FROM flows WHERE node_name != '' GROUP BY node_name ORDER BY node_name`,
    {},
  );
  return got.map((r) => {
    const ns = BigInt(r[2] as string);
    return { name: r[0] as string, flows: Number(r[1]), lastSeen: { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) } };
  });
}
