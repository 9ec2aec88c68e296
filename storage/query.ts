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
  /** Only flows with one of these namespaces on either side (a scoped token). */
  scope?: readonly string[];
}

/** The scope condition (a bound array, never SQL text) for a table with src_/dst_namespace. */
export function scopeSQL(scope: readonly string[], params: Record<string, unknown>, name: string): string {
  params[name] = [...scope];
  return `(has({${name}:Array(String)}, src_namespace) OR has({${name}:Array(String)}, dst_namespace))`;
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
  if (q.scope !== undefined) where.push(scopeSQL(q.scope, params, 'q_scope'));
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
  // or repeated. Each page reads a window of time, not the rest of the range: the table is sorted
  // by (src_namespace, verdict, time), so `(time, uuid) > cursor ORDER BY time LIMIT n` reads and
  // sorts every later row for every page, quadratic in the size of the answer (a 5,000-row page
  // took 1.2 s on a 1M-row store). A window is sized to hold about two pages and adapts to what
  // the last one held; the bounds prune partitions and the time index.
  const span = await rows(
    client,
    `SELECT toString(count()), toString(toUnixTimestamp64Nano(min(time))), toString(toUnixTimestamp64Nano(max(time))) FROM flows WHERE ${where}`,
    params,
  );
  const count = Number(span[0]?.[0] ?? 0);
  if (count === 0) return;
  const lo = BigInt(span[0][1] as string);
  const hi = BigInt(span[0][2] as string);
  let left = n > 0 ? Math.min(n, count) : count;
  let cursor: [string, string] | undefined;
  // The newest n: start after the rows before them (one query finds the last row skipped).
  const skip = n > 0 && !q.first ? count - left : 0;
  if (skip > 0) {
    const before = await rows(
      client,
      `SELECT toString(toUnixTimestamp64Nano(time)), uuid FROM flows WHERE ${where} ORDER BY time ASC, uuid ASC LIMIT 1 OFFSET {q_skip:UInt64}`,
      { ...params, q_skip: String(skip - 1) },
    );
    if (before.length === 0) return;
    cursor = [before[0][0] as string, before[0][1] as string];
  }
  let winStart = cursor ? BigInt(cursor[0]) : lo;
  let width = windowWidth(hi - lo + 1n, count, pageSize);
  let inWindow = 0;
  const fetchPage = (): { want: number; winEnd: bigint; rows: Promise<unknown[][]> } => {
    const want = Math.min(pageSize, left),
      winEnd = winStart + width;
    const p: Record<string, unknown> = { ...params, q_page: String(want), q_ws: winStart.toString(), q_we: winEnd.toString() };
    let after = '';
    if (cursor) {
      after = ' AND (time, uuid) > (fromUnixTimestamp64Nano({q_ct:Int64}), {q_cu:String})';
      p.q_ct = cursor[0];
      p.q_cu = cursor[1];
    }
    const got = rows(
      client,
      `SELECT ${SELECT_LIST} FROM flows WHERE ${where}${after} AND time >= fromUnixTimestamp64Nano({q_ws:Int64}) AND time < fromUnixTimestamp64Nano({q_we:Int64}) ORDER BY time ASC, uuid ASC LIMIT {q_page:UInt64}`,
      p,
    );
    // A page fetched ahead may never be awaited (the caller stopped reading).
    got.catch(() => undefined);
    return { want, winEnd, rows: got };
  };
  let next = left > 0 && winStart <= hi ? fetchPage() : undefined;
  while (next) {
    const { want, winEnd } = next;
    const page = await next.rows;
    left -= page.length;
    inWindow += page.length;
    if (page.length > 0) {
      const last = page[page.length - 1];
      cursor = [last[0] as string, last[1] as string];
    }
    if (page.length < want) {
      // The window is done: the next one starts where it ended, its width following this one's rows.
      if (inWindow > 4 * pageSize && width > 1n) width /= 2n;
      else if (inWindow < pageSize / 2) width *= 2n;
      winStart = winEnd;
      inWindow = 0;
    } // else: more in this window (or `left` is spent)
    // The next page is queried while this one is turned into flows and sent: the engine works on
    // its own threads meanwhile, so reading and answering overlap (two pages in memory at most).
    next = left > 0 && winStart <= hi ? fetchPage() : undefined;
    for (const r of page) yield rowToFlow(r);
  }
}

/** A first window width (ns) expected to hold about two pages, if rows were spread evenly. */
export function windowWidth(spanNs: bigint, count: number, pageSize: number): bigint {
  const w = (spanNs * BigInt(2 * pageSize)) / BigInt(Math.max(1, count));
  return w > 0n ? w : 1n;
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

/** Distinct (cluster, namespace) of either endpoint seen since `sinceMs`, sorted; with a
 * scope, of the flows in it only (its namespaces and their peers). */
export async function namespaces(client: ClickHouseClient, sinceMs: number, scope?: readonly string[]): Promise<NamespaceSeen[]> {
  const params: Record<string, unknown> = { q_since: String(Math.trunc(sinceMs)) };
  const cond = scope === undefined ? '' : ` AND ${scopeSQL(scope, params, 'q_scope')}`;
  const got = await rows(
    client,
    `SELECT DISTINCT c, ns FROM (
      SELECT src_cluster AS c, src_namespace AS ns FROM flows WHERE time >= fromUnixTimestamp64Milli({q_since:Int64})${cond}
      UNION ALL
      SELECT dst_cluster AS c, dst_namespace AS ns FROM flows WHERE time >= fromUnixTimestamp64Milli({q_since:Int64})${cond}
    ) WHERE ns != '' ORDER BY c, ns`,
    params,
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
