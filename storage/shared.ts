// What relays sharing one store tell each other through it. `ingest_claims`: the relay that
// took a collector session last; every insert of a relay in shared mode is fenced on it, so a
// relay that lost a session (it died with an insert on the wire, or the collector moved away)
// cannot store that session's batches after the new relay read its resume point. `relay_nodes`:
// each relay's collectors, refreshed periodically, so every relay lists every collector.
import type { ClickHouseClient } from '@clickhouse/client';

export const INGEST_CLAIMS_DDL = `CREATE TABLE IF NOT EXISTS ingest_claims (
  session String,
  relay String,
  claimed DateTime64(6)
) ENGINE = ReplacingMergeTree(claimed) ORDER BY session
TTL toDateTime(claimed) + INTERVAL 30 DAY`;

export const RELAY_NODES_DDL = `CREATE TABLE IF NOT EXISTS relay_nodes (
  node String,
  session String,
  observer_address String,
  version String,
  relay String,
  connected UInt8,
  connected_at DateTime64(3),
  seen DateTime64(3)
) ENGINE = ReplacingMergeTree(seen) ORDER BY (node, relay)
TTL toDateTime(seen) + INTERVAL 1 DAY`;

/** Marker of the fence's exception; FlowStore turns it into a FencedError. */
export const FENCE_MARKER = 'FLOWSCOPE_SESSION_CLAIMED_ELSEWHERE';

/** A WHERE condition that fails the whole insert, before any row is read, when a session in
 * it was last claimed by another relay (a scalar subquery runs before the insert reads input). */
export function fenceCondition(params: Record<string, unknown>, relay: string, sessions: readonly string[]): string {
  params.fence_relay = relay;
  params.fence_sessions = sessions;
  return `(SELECT throwIf(countIf(r != {fence_relay:String}) > 0, '${FENCE_MARKER}') FROM (SELECT argMax(relay, claimed) AS r FROM ingest_claims WHERE session IN {fence_sessions:Array(String)} GROUP BY session)) = 0`;
}

export async function createSharedTables(client: ClickHouseClient): Promise<void> {
  await client.command({ query: INGEST_CLAIMS_DDL });
  await client.command({ query: RELAY_NODES_DDL });
}

/** Records `relay` as the owner of `session`, with the store's clock (relays' clocks may differ). */
export async function claimSession(client: ClickHouseClient, session: string, relay: string): Promise<void> {
  await client.command({
    query: 'INSERT INTO ingest_claims (session, relay, claimed) SELECT {s:String}, {r:String}, now64(6)',
    query_params: { s: session, r: relay },
  });
}

/** Sessions among `sessions` last claimed by a relay other than `relay`. */
export async function sessionsClaimedElsewhere(client: ClickHouseClient, sessions: readonly string[], relay: string): Promise<string[]> {
  if (sessions.length === 0) return [];
  const rs = await client.query({
    query: `SELECT session FROM ingest_claims WHERE session IN {s:Array(String)} GROUP BY session HAVING argMax(relay, claimed) != {r:String}`,
    query_params: { s: sessions, r: relay },
    format: 'JSONCompactEachRow',
  });
  return (await rs.json<[string]>()).map((r) => r[0]);
}

export interface NodeRegistration {
  node: string;
  session: string;
  observerAddress: string;
  version: string;
  relay: string;
  connected: boolean;
  connectedAtMs: number;
  /** How long ago (store clock) the owning relay last wrote it. */
  ageMs: number;
}

export async function writeRegistrations(client: ClickHouseClient, relay: string, regs: readonly Omit<NodeRegistration, 'relay' | 'ageMs'>[]): Promise<void> {
  if (regs.length === 0) return;
  // Parallel arrays zipped in the engine: one statement for every collector of the relay.
  await client.command({
    query: `INSERT INTO relay_nodes (node, session, observer_address, version, relay, connected, connected_at, seen)
      SELECT r.1, r.2, r.3, r.4, {relay:String}, r.5, fromUnixTimestamp64Milli(r.6), now64(3)
      FROM (SELECT arrayJoin(arrayZip({n:Array(String)}, {s:Array(String)}, {a:Array(String)}, {v:Array(String)}, {c:Array(UInt8)}, {t:Array(Int64)})) AS r)`,
    query_params: {
      relay,
      n: regs.map((g) => g.node),
      s: regs.map((g) => g.session),
      a: regs.map((g) => g.observerAddress),
      v: regs.map((g) => g.version),
      c: regs.map((g) => (g.connected ? 1 : 0)),
      t: regs.map((g) => g.connectedAtMs),
    },
  });
}

/** The latest registration of every collector seen in the last `windowMs` (store clock). */
export async function readRegistrations(client: ClickHouseClient, windowMs: number): Promise<NodeRegistration[]> {
  const rs = await client.query({
    query: `SELECT node, argMax(session, seen), argMax(observer_address, seen), argMax(version, seen), argMax(relay, seen),
        argMax(connected, seen), toString(toUnixTimestamp64Milli(argMax(connected_at, seen))), toString(dateDiff('millisecond', max(seen), now64(3)))
      FROM relay_nodes WHERE seen >= now64(3) - toIntervalMillisecond({w:UInt64}) GROUP BY node ORDER BY node`,
    query_params: { w: windowMs },
    format: 'JSONCompactEachRow',
  });
  const rows = await rs.json<[string, string, string, string, string, number | string, string, string]>();
  return rows.map(([node, session, observerAddress, version, relay, connected, at, age]) => ({
    node,
    session,
    observerAddress,
    version,
    relay,
    connected: Number(connected) === 1,
    connectedAtMs: Number(at),
    ageMs: Math.max(0, Number(age)),
  }));
}
