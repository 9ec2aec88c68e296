// The evidence behind `flowscope why` (A → B): every number is aggregated inside ClickHouse over
// the flows of one time range — counts both ways, drops and policy verdicts grouped, TCP
// handshakes matched by connection, ICMP errors, the source's DNS lookups of B's names, where
// both ends run — and the per-minute rollup adds what happened before the range. Every list is
// bounded by LIMIT; user values reach SQL only as query parameters.
import { TupleParam, type ClickHouseClient } from '@clickhouse/client';
import type { FlowFilter } from '../proto/types.js';
import { flowFiltersToSQL } from '../filters/index.js';
import { endpointOnly, swapSides } from '../filters/sides.js';
import { P, has } from '../schema/presence.js';
import { MessageType, Verdict, L7FlowType } from '../proto/types.js';
import { tcpFlagBit } from '../proto/tcp-flags.js';
import { workloadExpr } from './rollup.js';
import { scopeSQL } from './query.js';

export interface WhyQuery {
  /** A → B: source_* fields name A, destination_* fields B (filters/sides.ts checkPairFilter). */
  pair: FlowFilter;
  /** Inclusive range, ns since the epoch. */
  sinceNs: bigint;
  untilNs: bigint;
  /** Names B is reached by besides those the flows show (--to-fqdn values), DNS spelling. */
  names?: readonly string[];
  /** How far before `sinceNs` the rollup is read for the pair's history (ms, default 24 h). */
  historyMs?: number;
  /** Rows per list (drops, policy verdicts, DNS names, ICMP errors); default 20, at most 200. */
  limit?: number;
  /** Only flows with one of these namespaces on either side (a scoped token): every query reads through `range`. */
  scope?: readonly string[];
}

export interface DirectionEvidence {
  /** Trace and drop events (policy verdict events are counted in `policy`). */
  flows: number;
  forwarded: number;
  dropped: number;
  error: number;
  audit: number;
  replies: number;
  firstNs: bigint | null;
  lastNs: bigint | null;
  lastForwardedNs: bigint | null;
  firstDroppedNs: bigint | null;
}

export interface DropGroup {
  reverse: boolean;
  dropReason: number;
  kernelReason: string;
  /** TrafficDirection number (0 unknown, 1 ingress, 2 egress). */
  trafficDirection: number;
  node: string;
  /** Trace observation point code, or -1 when the event carries none (Cilium drop events). */
  observationPoint: number;
  flows: number;
  firstNs: bigint;
  lastNs: bigint;
}

export interface PolicyGroup {
  reverse: boolean;
  verdict: number;
  trafficDirection: number;
  matchType: number;
  dropReason: number;
  node: string;
  events: number;
  firstNs: bigint;
  lastNs: bigint;
}

export interface HandshakeEvidence {
  /** Connections (source address and port) that sent a SYN. */
  synConnections: number;
  synAckConnections: number;
  /** SYN connections answered by neither SYN-ACK nor RST (those of the last SETTLE_MS not counted). */
  unanswered: number;
  firstUnansweredNs: bigint | null;
  lastUnansweredNs: bigint | null;
  /** Connections B reset / A reset. */
  rstFromDestination: number;
  rstFromSource: number;
  /** RSTs B sent to a connection it never accepted (no SYN-ACK before): nothing listens. */
  refused: number;
  /** SYNs seen leaving A's interface (from-endpoint), retransmissions included. */
  synPackets: number;
}

export interface IcmpErrorGroup {
  v6: boolean;
  type: number;
  code: number;
  /** Who sent it: an address. */
  from: string;
  /** Whether the sender is B (else a node or router on the path). */
  fromDestination: boolean;
  node: string;
  count: number;
  firstNs: bigint;
  lastNs: bigint;
}

export interface DnsNameEvidence {
  query: string;
  /** The name is one of B's (else one of A's other failing lookups). */
  related: boolean;
  requests: number;
  responses: number;
  /** Requests that got no response (those of the last SETTLE_MS of the data not counted). */
  unanswered: number;
  noError: number;
  nxdomain: number;
  servfail: number;
  otherErrors: number;
  /** Responses whose answers included an address B was reached at. */
  answersWithDestination: number;
  /** Addresses the answers gave (up to 8). */
  answers: string[];
  firstNs: bigint;
  lastNs: bigint;
}

export interface PathEvidence {
  /** Nodes where A runs (seen leaving or entering A's interface), up to 8. */
  sourceNodes: string[];
  destinationNodes: string[];
  /** Events at an overlay observation point (to-overlay / from-overlay) between them. */
  overlayEvents: number;
}

export interface HistoryEvidence {
  /** Rollup range read: [fromMs, untilMs). */
  fromMs: number;
  untilMs: number;
  /** Workload pairs the flows of the range roll up to (up to 8). */
  pairs: { srcNamespace: string; srcWorkload: string; dstNamespace: string; dstWorkload: string }[];
  forwardedBefore: number;
  droppedBefore: number;
  /** Minutes (ms) of the last forwarded and the first dropped flow of the whole rollup range. */
  lastForwardedMs: number | null;
  firstDroppedMs: number | null;
}

export interface WhyEvidence {
  forward: DirectionEvidence;
  reverse: DirectionEvidence;
  drops: DropGroup[];
  policy: PolicyGroup[];
  handshake: HandshakeEvidence;
  icmpErrors: IcmpErrorGroup[];
  dns: DnsNameEvidence[];
  /** The names and addresses of B the DNS answers were matched against. */
  destinationNames: string[];
  destinationAddresses: string[];
  path: PathEvidence;
  history: HistoryEvidence;
}

const SYN = tcpFlagBit('SYN'),
  ACK = tcpFlagBit('ACK'),
  RST = tcpFlagBit('RST');
const TO_OVERLAY = 4,
  FROM_OVERLAY = 9,
  TO_ENDPOINT = 0,
  FROM_ENDPOINT = 5;
const MAX_LIMIT = 200;
/**
 * A SYN or a DNS lookup younger than this, counted back from the newest stored flow of the
 * range, may still get its answer (in flight, or stored later by another node's collector): it
 * is not counted as unanswered.
 */
export const SETTLE_MS = 5000;
const SETTLE_NS = BigInt(SETTLE_MS) * 1_000_000n;
const NAMES_MAX = 32;

function nsOrNull(v: unknown): bigint | null {
  if (v === null || v === undefined) return null;
  const n = BigInt(v as string);
  return n === 0n ? null : n;
}

async function rows(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<unknown[][]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
  return rs.json<unknown[]>();
}

/** The flows-table predicates of one question, compiled once. */
interface Compiled {
  range: string;
  fwd: string;
  rev: string;
  /** A as the source / as the destination of any flow. */
  aSrc: string;
  aDst: string;
  /** B as the destination / as the source of any flow. */
  bDst: string;
  bSrc: string;
  /** Requests after this (ns) are too recent to call unanswered. */
  settledNs: bigint;
  params: Record<string, unknown>;
}

function compile(q: WhyQuery): Compiled {
  const params: Record<string, unknown> = { w_since: q.sinceNs.toString(), w_until: q.untilNs.toString() };
  const part = (ff: FlowFilter, prefix: string): string => {
    const c = flowFiltersToSQL([ff], [], prefix);
    Object.assign(params, c.params);
    return `(${c.sql})`;
  };
  const scoped = q.scope === undefined ? '' : ` AND ${scopeSQL(q.scope, params, 'w_scope')}`;
  return {
    range: `time >= fromUnixTimestamp64Nano({w_since:Int64}) AND time <= fromUnixTimestamp64Nano({w_until:Int64})${scoped}`,
    fwd: part(q.pair, 'wf'),
    rev: part(swapSides(q.pair), 'wr'),
    aSrc: part(endpointOnly(q.pair, 'source'), 'was'),
    aDst: part(endpointOnly(q.pair, 'source', 'destination'), 'wad'),
    bDst: part(endpointOnly(q.pair, 'destination'), 'wbd'),
    bSrc: part(endpointOnly(q.pair, 'destination', 'source'), 'wbs'),
    settledNs: q.untilNs - SETTLE_NS,
    params,
  };
}

const tsNs = (expr: string) => `toString(toUnixTimestamp64Nano(${expr}))`;

async function direction(client: ClickHouseClient, c: Compiled, pred: string): Promise<DirectionEvidence> {
  const p = { ...c.params, w_pv: MessageType.POLICY_VERDICT, w_fw: Verdict.FORWARDED, w_dr: Verdict.DROPPED, w_er: Verdict.ERROR, w_au: Verdict.AUDIT };
  const [r] = await rows(
    client,
    `SELECT count(), countIf(verdict = {w_fw:Int32}), countIf(verdict = {w_dr:Int32}), countIf(verdict = {w_er:Int32}),
      countIf(verdict = {w_au:Int32}), countIf(is_reply = 1),
      if(count() = 0, '0', ${tsNs('min(time)')}), if(count() = 0, '0', ${tsNs('max(time)')}),
      if(countIf(verdict = {w_fw:Int32}) = 0, '0', ${tsNs('maxIf(time, verdict = {w_fw:Int32})')}),
      if(countIf(verdict = {w_dr:Int32}) = 0, '0', ${tsNs('minIf(time, verdict = {w_dr:Int32})')})
    FROM flows WHERE ${c.range} AND ${pred} AND event_type != {w_pv:Int32} AND l7_type = 0`,
    p,
  );
  return {
    flows: Number(r[0]),
    forwarded: Number(r[1]),
    dropped: Number(r[2]),
    error: Number(r[3]),
    audit: Number(r[4]),
    replies: Number(r[5]),
    firstNs: nsOrNull(r[6]),
    lastNs: nsOrNull(r[7]),
    lastForwardedNs: nsOrNull(r[8]),
    firstDroppedNs: nsOrNull(r[9]),
  };
}

async function drops(client: ClickHouseClient, c: Compiled, limit: number): Promise<DropGroup[]> {
  const got = await rows(
    client,
    `SELECT NOT ${c.fwd} AS rev, drop_reason_desc, kernel_drop_reason, traffic_direction, node_name,
      if(event_type = {w_trace:Int32}, trace_point, -1) AS op,
      count() AS n, ${tsNs('min(time)')}, ${tsNs('max(time)')}
    FROM flows WHERE ${c.range} AND (${c.fwd} OR ${c.rev}) AND verdict = {w_dr:Int32} AND event_type != {w_pv:Int32}
    GROUP BY rev, drop_reason_desc, kernel_drop_reason, traffic_direction, node_name, op
    ORDER BY n DESC, rev, drop_reason_desc, kernel_drop_reason, node_name LIMIT {w_limit:UInt32}`,
    { ...c.params, w_dr: Verdict.DROPPED, w_pv: MessageType.POLICY_VERDICT, w_trace: MessageType.TRACE, w_limit: limit },
  );
  return got.map((r) => ({
    reverse: Number(r[0]) === 1,
    dropReason: Number(r[1]),
    kernelReason: r[2] as string,
    trafficDirection: Number(r[3]),
    node: r[4] as string,
    observationPoint: Number(r[5]),
    flows: Number(r[6]),
    firstNs: BigInt(r[7] as string),
    lastNs: BigInt(r[8] as string),
  }));
}

async function policy(client: ClickHouseClient, c: Compiled, limit: number): Promise<PolicyGroup[]> {
  const got = await rows(
    client,
    `SELECT NOT ${c.fwd} AS rev, verdict, traffic_direction, policy_match_type, drop_reason_desc, node_name,
      count() AS n, ${tsNs('min(time)')}, ${tsNs('max(time)')}
    FROM flows WHERE ${c.range} AND (${c.fwd} OR ${c.rev}) AND event_type = {w_pv:Int32}
    GROUP BY rev, verdict, traffic_direction, policy_match_type, drop_reason_desc, node_name
    ORDER BY n DESC, rev, verdict, traffic_direction, node_name LIMIT {w_limit:UInt32}`,
    { ...c.params, w_pv: MessageType.POLICY_VERDICT, w_limit: limit },
  );
  return got.map((r) => ({
    reverse: Number(r[0]) === 1,
    verdict: Number(r[1]),
    trafficDirection: Number(r[2]),
    matchType: Number(r[3]),
    dropReason: Number(r[4]),
    node: r[5] as string,
    events: Number(r[6]),
    firstNs: BigInt(r[7] as string),
    lastNs: BigInt(r[8] as string),
  }));
}

async function handshake(client: ClickHouseClient, c: Compiled): Promise<HandshakeEvidence> {
  // A connection is (client address, client port). SYNs are seen at several observation points
  // and retransmitted; counting distinct connections makes both count once.
  const tcp = `${has(P.TCP_FLAGS)}`;
  const syn = `${tcp} AND bitAnd(tcp_flags, ${SYN | ACK}) = ${SYN}`;
  const synAck = `${tcp} AND bitAnd(tcp_flags, ${SYN | ACK}) = ${SYN | ACK}`;
  const rst = `${tcp} AND bitAnd(tcp_flags, ${RST}) != 0`;
  const pv = 'event_type != {w_pv:Int32}';
  const p = { ...c.params, w_pv: MessageType.POLICY_VERDICT, w_trace: MessageType.TRACE };
  const [r] = await rows(
    client,
    `SELECT uniqExactIf((ip_src, src_port), ${c.fwd} AND ${syn}),
      uniqExactIf((ip_dst, dst_port), ${c.rev} AND ${synAck}),
      uniqExactIf((ip_dst, dst_port), ${c.rev} AND ${rst}),
      uniqExactIf((ip_src, src_port), ${c.fwd} AND ${rst}),
      countIf(${c.fwd} AND ${syn} AND event_type = {w_trace:Int32} AND trace_point = ${FROM_ENDPOINT})
    FROM flows WHERE ${c.range} AND (${c.fwd} OR ${c.rev}) AND ${pv}`,
    p,
  );
  // SYN connections with no SYN-ACK and no RST back; and connections opened in the range that
  // B reset without ever accepting them (a reset of an older, established one is no refusal).
  const [u] = await rows(
    client,
    `SELECT count(), if(count() = 0, '0', ${tsNs('min(t)')}), if(count() = 0, '0', ${tsNs('max(t)')}) FROM (
      SELECT ip_src, src_port, min(time) AS t FROM flows WHERE ${c.range} AND ${c.fwd} AND ${syn} AND ${pv} GROUP BY ip_src, src_port
    ) WHERE t <= fromUnixTimestamp64Nano({w_settled:Int64}) AND (ip_src, src_port) NOT IN (
      SELECT ip_dst, dst_port FROM flows WHERE ${c.range} AND ${c.rev} AND ((${synAck}) OR (${rst})) AND ${pv}
    )`,
    { ...p, w_settled: c.settledNs.toString() },
  );
  const [f] = await rows(
    client,
    `SELECT count() FROM (
      SELECT ip_dst, dst_port FROM flows WHERE ${c.range} AND ${c.rev} AND ${rst} AND ${pv} GROUP BY ip_dst, dst_port
    ) WHERE (ip_dst, dst_port) NOT IN (
      SELECT ip_dst, dst_port FROM flows WHERE ${c.range} AND ${c.rev} AND ${synAck} AND ${pv}
    ) AND (ip_dst, dst_port) IN (
      SELECT ip_src, src_port FROM flows WHERE ${c.range} AND ${c.fwd} AND ${syn} AND ${pv}
    )`,
    p,
  );
  return {
    synConnections: Number(r[0]),
    synAckConnections: Number(r[1]),
    rstFromDestination: Number(r[2]),
    rstFromSource: Number(r[3]),
    synPackets: Number(r[4]),
    unanswered: Number(u[0]),
    firstUnansweredNs: nsOrNull(u[1]),
    lastUnansweredNs: nsOrNull(u[2]),
    refused: Number(f[0]),
  };
}

const IP_TEXT = (col: string) => `if(startsWith(IPv6NumToString(${col}), '::ffff:'), substring(IPv6NumToString(${col}), 8), IPv6NumToString(${col}))`;

async function icmpErrors(client: ClickHouseClient, c: Compiled, limit: number): Promise<IcmpErrorGroup[]> {
  // Errors about A's packets come back to A: from B itself (port unreachable), or from a node or
  // router on the way (fragmentation needed, host unreachable), which is no pod at all.
  const v4 = `(${has(P.ICMPV4)} AND icmp_type = 3)`;
  const v6 = `(${has(P.ICMPV6)} AND icmp_type IN (1, 2))`;
  const got = await rows(
    client,
    `SELECT ${has(P.ICMPV6)} AS v6, icmp_type, icmp_code, ${IP_TEXT('ip_src')} AS from_ip, ${c.bSrc} AS from_b, node_name,
      count() AS n, ${tsNs('min(time)')}, ${tsNs('max(time)')}
    FROM flows WHERE ${c.range} AND ${c.aDst} AND bitAnd(ip_ok, 1) != 0 AND (${v4} OR ${v6}) AND (${c.bSrc} OR src_pod = '')
    GROUP BY v6, icmp_type, icmp_code, from_ip, from_b, node_name ORDER BY n DESC, from_ip LIMIT {w_limit:UInt32}`,
    { ...c.params, w_limit: limit },
  );
  return got.map((r) => ({
    v6: Number(r[0]) === 1,
    type: Number(r[1]),
    code: Number(r[2]),
    from: r[3] as string,
    fromDestination: Number(r[4]) === 1,
    node: r[5] as string,
    count: Number(r[6]),
    firstNs: BigInt(r[7] as string),
    lastNs: BigInt(r[8] as string),
  }));
}

/** DNS spelling of a name: lower case with the root dot. */
export function dnsName(n: string): string {
  const s = n.trim().toLowerCase();
  return s.endsWith('.') ? s : `${s}.`;
}

async function destinationNames(client: ClickHouseClient, c: Compiled, given: readonly string[]): Promise<{ names: string[]; prefixes: string[] }> {
  // The names flows to B carried (DNS-derived destination names) and the services in front of
  // B (`<svc>.<ns>.svc.` — any cluster domain).
  const [r] = await rows(
    client,
    `SELECT groupUniqArray({w_nmax:UInt32})(n), groupUniqArray({w_nmax:UInt32})(s) FROM (
      SELECT arrayJoin(if(empty(dst_names), [''], dst_names)) AS n, '' AS s FROM flows WHERE ${c.range} AND ${c.fwd}
      UNION ALL
      SELECT '' AS n, if(dst_svc_name = '', '', concat(dst_svc_name, '.', dst_svc_ns, '.svc.')) AS s FROM flows WHERE ${c.range} AND ${c.bDst} AND dst_svc_name != ''
      UNION ALL
      SELECT '' AS n, if(w = '' OR dst_namespace = '', '', concat(w, '.', dst_namespace, '.svc.')) AS s
        FROM (SELECT dst_namespace, dst_workload_names[1] AS w FROM flows WHERE ${c.range} AND ${c.bDst} AND notEmpty(dst_workload_names) LIMIT 1000)
    )`,
    { ...c.params, w_nmax: NAMES_MAX },
  );
  const names = new Set<string>(given.map(dnsName));
  for (const n of r[0] as string[]) if (n !== '') names.add(dnsName(n));
  const prefixes = (r[1] as string[]).filter((s) => s !== '').map((s) => s.toLowerCase());
  return { names: [...names].sort().slice(0, NAMES_MAX), prefixes: prefixes.sort() };
}

async function destinationAddresses(client: ClickHouseClient, c: Compiled, prefixes: readonly string[]): Promise<string[]> {
  // Where A sent packets for B: B's own addresses, and the service addresses of B's services
  // that A's flows were addressed to before load-balancing.
  const [r] = await rows(
    client,
    `SELECT groupUniqArray({w_nmax:UInt32})(a) FROM (
      SELECT ${IP_TEXT('ip_dst')} AS a FROM flows WHERE ${c.range} AND ${c.fwd} AND bitAnd(ip_ok, 2) != 0
      UNION ALL
      SELECT ${IP_TEXT('ip_dst')} AS a FROM flows WHERE ${c.range} AND ${c.aSrc} AND bitAnd(ip_ok, 2) != 0 AND dst_svc_name != ''
        AND has({w_prefixes:Array(String)}, lower(concat(dst_svc_name, '.', dst_svc_ns, '.svc.')))
    )`,
    { ...c.params, w_nmax: NAMES_MAX, w_prefixes: prefixes },
  );
  return (r[0] as string[]).sort();
}

async function dns(
  client: ClickHouseClient,
  c: Compiled,
  names: readonly string[],
  prefixes: readonly string[],
  addrs: readonly string[],
  limit: number,
): Promise<DnsNameEvidence[]> {
  const req = `(l7_type = {w_req:Int32} AND ${c.aSrc})`;
  const resp = `(l7_type = {w_resp:Int32} AND ${c.aDst})`;
  const q = 'lower(dns_query)';
  const related = `(has({w_names:Array(String)}, ${q}) OR arrayExists(p -> startsWith(${q}, p), {w_prefixes:Array(String)}) OR countIf(${resp} AND hasAny(dns_ips, {w_addrs:Array(String)})) > 0)`;
  const got = await rows(
    client,
    `SELECT dns_query, ${related} AS rel, countIf(${req}) AS rq, countIf(${resp}) AS rs,
      greatest(0, toInt64(countIf(${req} AND time <= fromUnixTimestamp64Nano({w_settled:Int64}))) - toInt64(rs)) AS un,
      countIf(${resp} AND dns_rcode = 0), countIf(${resp} AND dns_rcode = 3), countIf(${resp} AND dns_rcode = 2),
      countIf(${resp} AND dns_rcode NOT IN (0, 2, 3)), countIf(${resp} AND hasAny(dns_ips, {w_addrs:Array(String)})),
      groupUniqArrayArrayIf(8)(dns_ips, ${resp}), ${tsNs('min(time)')}, ${tsNs('max(time)')}
    FROM flows WHERE ${c.range} AND ${has(P.DNS)} AND dns_query != '' AND (${req} OR ${resp})
    GROUP BY dns_query
    HAVING rel OR un > 0 OR countIf(${resp} AND dns_rcode != 0) > 0
    ORDER BY rel DESC, rq DESC, dns_query LIMIT {w_limit:UInt32}`,
    {
      ...c.params,
      w_req: L7FlowType.REQUEST,
      w_resp: L7FlowType.RESPONSE,
      w_names: names,
      w_prefixes: prefixes,
      w_addrs: addrs,
      w_limit: limit,
      w_settled: c.settledNs.toString(),
    },
  );
  return got.map((r) => ({
    query: r[0] as string,
    related: Number(r[1]) === 1,
    requests: Number(r[2]),
    responses: Number(r[3]),
    unanswered: Number(r[4]),
    noError: Number(r[5]),
    nxdomain: Number(r[6]),
    servfail: Number(r[7]),
    otherErrors: Number(r[8]),
    answersWithDestination: Number(r[9]),
    answers: (r[10] as string[]).sort(),
    firstNs: BigInt(r[11] as string),
    lastNs: BigInt(r[12] as string),
  }));
}

async function path(client: ClickHouseClient, c: Compiled): Promise<PathEvidence> {
  // An endpoint runs where its own interface is seen: leaving it (from-endpoint) or entering it
  // (to-endpoint).
  const [r] = await rows(
    client,
    `SELECT groupUniqArrayIf(8)(node_name, (${c.aSrc} AND trace_point = ${FROM_ENDPOINT}) OR (${c.aDst} AND trace_point = ${TO_ENDPOINT})),
      groupUniqArrayIf(8)(node_name, (${c.bSrc} AND trace_point = ${FROM_ENDPOINT}) OR (${c.bDst} AND trace_point = ${TO_ENDPOINT})),
      countIf((${c.fwd} OR ${c.rev}) AND trace_point IN (${TO_OVERLAY}, ${FROM_OVERLAY}))
    FROM flows WHERE ${c.range} AND event_type = {w_trace:Int32} AND node_name != ''`,
    { ...c.params, w_trace: MessageType.TRACE },
  );
  return { sourceNodes: (r[0] as string[]).sort(), destinationNodes: (r[1] as string[]).sort(), overlayEvents: Number(r[2]) };
}

async function history(client: ClickHouseClient, c: Compiled, q: WhyQuery): Promise<HistoryEvidence> {
  const sinceMs = Number(q.sinceNs / 1_000_000n),
    untilMs = Number(q.untilNs / 1_000_000n) + 1;
  const fromMs = sinceMs - (q.historyMs ?? 24 * 3600_000);
  const pairs = (
    await rows(
      client,
      `SELECT DISTINCT src_namespace, ${workloadExpr('src')} AS sw, dst_namespace, ${workloadExpr('dst')} AS dw
      FROM flows WHERE ${c.range} AND ${c.fwd} ORDER BY src_namespace, sw, dst_namespace, dw LIMIT 8`,
      c.params,
    )
  ).map((r) => ({ srcNamespace: r[0] as string, srcWorkload: r[1] as string, dstNamespace: r[2] as string, dstWorkload: r[3] as string }));
  const empty = { fromMs, untilMs, pairs, forwardedBefore: 0, droppedBefore: 0, lastForwardedMs: null, firstDroppedMs: null };
  if (pairs.length === 0) return empty;
  const ports = q.pair.destination_port?.map(Number) ?? [];
  // The pairs come from scoped flows already; the scope is applied again so no row outside it is summed.
  const hParams: Record<string, unknown> = {};
  const hScope = q.scope === undefined ? '' : ` AND ${scopeSQL(q.scope, hParams, 'h_scope')}`;
  const [r] = await rows(
    client,
    `SELECT sumIf(flows, verdict = {h_fw:Int32} AND minute < toDateTime({h_since:UInt32})),
      sumIf(flows, verdict = {h_dr:Int32} AND minute < toDateTime({h_since:UInt32})),
      toUInt32(maxIf(minute, verdict = {h_fw:Int32})), toUInt32(minIf(minute, verdict = {h_dr:Int32})),
      countIf(verdict = {h_fw:Int32}), countIf(verdict = {h_dr:Int32})
    FROM flows_1m
    WHERE minute >= toStartOfMinute(toDateTime({h_from:UInt32})) AND minute < toDateTime({h_until:UInt32})
      AND (src_namespace, src_workload, dst_namespace, dst_workload) IN {h_pairs:Array(Tuple(String, String, String, String))}
      AND (empty({h_ports:Array(UInt32)}) OR has({h_ports:Array(UInt32)}, dst_port))${hScope}`,
    {
      ...hParams,
      h_fw: Verdict.FORWARDED,
      h_dr: Verdict.DROPPED,
      h_since: Math.floor(sinceMs / 1000),
      h_from: Math.max(0, Math.floor(fromMs / 1000)),
      h_until: Math.ceil(untilMs / 1000),
      h_pairs: pairs.map((p) => new TupleParam([p.srcNamespace, p.srcWorkload, p.dstNamespace, p.dstWorkload])),
      h_ports: ports,
    },
  );
  return {
    ...empty,
    forwardedBefore: Number(r[0]),
    droppedBefore: Number(r[1]),
    lastForwardedMs: Number(r[4]) > 0 ? Number(r[2]) * 1000 : null,
    firstDroppedMs: Number(r[5]) > 0 ? Number(r[3]) * 1000 : null,
  };
}

/** Everything `why` needs about A → B in one range. Queries run one after another: on chDB a
 * session runs one query at a time anyway, and a server is spared a burst. */
export async function whyEvidence(client: ClickHouseClient, q: WhyQuery): Promise<WhyEvidence> {
  const c = compile(q);
  // The data may end before the range does (a quiet pair, a stopped collector): settle from
  // whichever comes first.
  const [[newest]] = await rows(client, `SELECT ${tsNs('max(time)')} FROM flows WHERE ${c.range}`, c.params);
  const newestNs = BigInt(newest as string);
  if (newestNs > 0n && newestNs < q.untilNs) c.settledNs = newestNs - SETTLE_NS;
  const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 20)), MAX_LIMIT);
  const forward = await direction(client, c, c.fwd);
  const reverse = await direction(client, c, c.rev);
  const dropGroups = await drops(client, c, limit);
  const policyGroups = await policy(client, c, limit);
  const hs = await handshake(client, c);
  const icmp = await icmpErrors(client, c, limit);
  const { names, prefixes } = await destinationNames(client, c, q.names ?? []);
  const addrs = await destinationAddresses(client, c, prefixes);
  const dnsNames = await dns(client, c, names, prefixes, addrs, limit);
  const pathEv = await path(client, c);
  const hist = await history(client, c, q);
  return {
    forward,
    reverse,
    drops: dropGroups,
    policy: policyGroups,
    handshake: hs,
    icmpErrors: icmp,
    dns: dnsNames,
    destinationNames: [...names, ...prefixes.map((p) => `${p}*`)],
    destinationAddresses: addrs,
    path: pathEv,
    history: hist,
  };
}
