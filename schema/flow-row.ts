// Flow <-> row. Encoding moves every field the typed columns can reproduce exactly out of a
// shallow copy of the flow; whatever is left (rarely-set fields, explicitly-set zero values,
// shapes a column cannot express) is protobuf-encoded into `rest`. Decoding starts from
// `rest` and fills in column values only where `rest` has nothing, so rest always wins.
// Filter columns always carry the value the filters see, whether or not the field moved.
import { types, encode, decode } from '../proto/index.js';
import type { Flow, Workload } from '../proto/types.js';
import { P } from './presence.js';
import { parseIP, formatIP, ipFromHex } from './ip-addr.js';
import type { RowSink } from './rowbinary.js';
import { requestURIPath } from './http-path.js';
import { TCP_FLAG_BITS, tcpFlagsMask } from '../proto/tcp-flags.js';
import { l4Port } from './l4-port.js';
import { isPlainFlow } from './plain-flow.js';
import { kernelInfoOf } from '../proto/kernel.js';

type Obj = Record<string, unknown>;

// Most flows are "plain" (storage/plain-flow.ts): the columns reproduce all of them. For those
// the encoder reads the flow in place; only other flows take the copy-and-move path that
// collects the remainder for `rest`. Both paths compute the same column values.
let moving = true;
let plainPath = true;

/** Turns the in-place path for plain flows off (tests compare both paths byte for byte). */
export function usePlainPath(on: boolean): void {
  plainPath = on;
}

/** Removes and returns a non-default string. */
function str(o: Obj | undefined, k: string): string {
  const v = o?.[k];
  if (typeof v !== 'string') return '';
  if (moving && v !== '') delete o![k];
  return v;
}
/** Removes and returns a non-zero integer (the column type matches the proto type). */
function num(o: Obj | undefined, k: string): number {
  const v = o?.[k];
  if (typeof v !== 'number') return 0;
  if (moving && v !== 0 && Number.isSafeInteger(v)) delete o![k];
  return v;
}
/** Removes and returns a non-empty string array. */
function arr(o: Obj | undefined, k: string): string[] {
  const v = o?.[k] as string[] | undefined;
  if (!Array.isArray(v)) return [];
  if (moving && v.length > 0) delete o![k];
  return v;
}
/** Shallow copy of a sub-message (the message itself on the plain path), or undefined. */
function sub(o: Obj | undefined, k: string): Obj | undefined {
  const v = o?.[k];
  if (!v || typeof v !== 'object') return undefined;
  return moving ? { ...(v as Obj) } : (v as Obj);
}
/** Puts a copied sub-message back unless it became empty (presence bits recreate it). */
function putBack(parent: Obj, k: string, v: Obj | undefined): void {
  if (v === undefined || !moving) return;
  if (Object.keys(v).length === 0) delete parent[k];
  else parent[k] = v;
}

const L4_BITS: readonly [string, number][] = [
  ['TCP', P.TCP],
  ['UDP', P.UDP],
  ['SCTP', P.SCTP],
  ['ICMPv4', P.ICMPV4],
  ['ICMPv6', P.ICMPV6],
  ['VRRP', P.VRRP],
  ['IGMP', P.IGMP],
];

const MAX_TIME_S = 9_000_000_000; // DateTime64(9) ends in 2262

/** How far one collector session's batches are stored: written in the rows of the insert that
 * stores them (ingest_sessions/ingest_nodes/ingest_seqs), so a mark is never durable before its flows. */
export interface IngestMark {
  session: string;
  node: string;
  seq: number;
}

const NO_IP = new Uint8Array(16);

/** Dotted-quad IPv4 as Go's net.ParseIP reads it (no leading zeros), into `out` as ::ffff:a.b.c.d;
 * false when `s` is not one. Such a string is also its own canonical form. */
function parseV4Into(s: string, out: Uint8Array): boolean {
  let part = 0,
    val = 0,
    digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[12 + part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return false; // leading zero
      val = val * 10 + (c - 48);
      if (++digits > 3 || val > 255) return false;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[12 + part] = val;
  out.fill(0, 0, 10);
  out[10] = 0xff;
  out[11] = 0xff;
  return true;
}

/** Parsed non-IPv4 strings (their addresses are shared: never written to). */
const OTHER_IPS = new Map<string, { addr: Uint8Array; raw: string; ok: boolean }>();
const OTHER_IPS_MAX = 4096;

/** The three columns of one IP field (address, raw string, parsed) from the field's string.
 * Dotted-quad IPv4, the usual case, is parsed into the instance's own scratch address, so an
 * instance is reused row after row and a row must be written before the next is read. */
export class IpColumns {
  addr: Uint8Array = NO_IP;
  /** The string when the address does not reproduce it exactly ('' otherwise). */
  raw = '';
  ok = false;
  private readonly scratch = new Uint8Array(16);

  read(s: string): void {
    if (s === '') {
      this.addr = NO_IP;
      this.raw = '';
      this.ok = false;
      return;
    }
    if (parseV4Into(s, this.scratch)) {
      this.addr = this.scratch;
      this.raw = '';
      this.ok = true;
      return;
    }
    // Anything else (IPv6, or not an address): parsed once per distinct string. A node's IPv6
    // peers repeat flow after flow, and parsing plus the canonical-form check allocate.
    let hit = OTHER_IPS.get(s);
    if (hit === undefined) {
      const parsed = parseIP(s);
      hit = { addr: parsed ?? NO_IP, raw: parsed && formatIP(parsed) === s ? '' : s, ok: parsed !== undefined };
      if (OTHER_IPS.size >= OTHER_IPS_MAX) OTHER_IPS.clear();
      OTHER_IPS.set(s, hit);
    }
    this.addr = hit.addr;
    this.raw = hit.raw;
    this.ok = hit.ok;
  }
}

// One per IP column: written into the row before the next flow reuses it.
const IP_COLS = [new IpColumns(), new IpColumns(), new IpColumns()];

function ipCols(ip: Obj | undefined, k: string, slot: number): [Uint8Array, string, boolean] {
  const c = IP_COLS[slot];
  c.read(str(ip, k));
  return [c.addr, c.raw, c.ok];
}

function workloads(ep: Obj | undefined): [string[], string[]] {
  const ws = (ep?.workloads ?? []) as Workload[];
  const names = ws.map((w) => w.name ?? ''),
    kinds = ws.map((w) => w.kind ?? '');
  // Moves only when '' unambiguously means "unset" for every entry.
  const clean = ws.every((w) => Object.entries(w).every(([key, v]) => (key === 'name' || key === 'kind') && typeof v === 'string' && v !== ''));
  if (moving && ws.length > 0 && clean) delete ep!.workloads;
  return [names, kinds];
}

interface EndpointCols {
  id: number;
  identity: number;
  cluster: string;
  ns: string;
  pod: string;
  labels: string[];
  wn: string[];
  wk: string[];
}

function endpointCols(rest: Obj, k: 'source' | 'destination'): EndpointCols {
  const ep = sub(rest, k);
  const [wn, wk] = workloads(ep);
  const cols = {
    id: num(ep, 'ID'),
    identity: num(ep, 'identity'),
    cluster: str(ep, 'cluster_name'),
    ns: str(ep, 'namespace'),
    pod: str(ep, 'pod_name'),
    labels: arr(ep, 'labels'),
    wn,
    wk,
  };
  putBack(rest, k, ep);
  return cols;
}

function writeEndpoint(w: RowSink, e: EndpointCols): void {
  w.u32(e.id);
  w.u32(e.identity);
  w.str(e.cluster);
  w.str(e.ns);
  w.str(e.pod);
  w.strArray(e.labels);
  w.strArray(e.wn);
  w.strArray(e.wk);
}

const NO_MARKS: readonly IngestMark[] = [];
const NO_STRINGS: readonly string[] = [];
const NO_NUMBERS: readonly number[] = [];
const NO_HEADERS: readonly { key?: string; value?: string }[] = [];

/** Appends the flow as one row in INSERT_COLUMNS order (RowBinary, or a Native block's columns); `rest` is protobuf (empty
 * when the columns reproduce everything). */
export function writeFlowRow(w: RowSink, flow: Flow, marks: readonly IngestMark[] = NO_MARKS, now = Date.now(), batchId = 0, session = '', seq = 0): void {
  const f = flow as unknown as Obj;
  moving = !plainPath || !isPlainFlow(flow);
  const rest: Obj = moving ? { ...f } : f;
  let presence = 0;

  // time: the column holds the flow time whenever DateTime64(9) can (else the ingest time, so
  // the row still sorts and expires); the field moves out of rest only in the exact
  // {seconds, nanos} shape — {seconds} alone (Go omits nanos = 0) stays in rest.
  let timeS: number, timeNanos: number;
  const t = flow.time as { seconds?: unknown; nanos?: unknown } | undefined;
  const secs = t?.seconds,
    nanos = t?.nanos ?? 0;
  if (
    typeof secs === 'number' &&
    Number.isSafeInteger(secs) &&
    secs >= 0 &&
    secs < MAX_TIME_S &&
    typeof nanos === 'number' &&
    Number.isInteger(nanos) &&
    nanos >= 0 &&
    nanos < 1e9
  ) {
    timeS = secs;
    timeNanos = nanos;
    if (Object.keys(t!).length === 2 && t!.nanos !== undefined) {
      if (moving) delete rest.time;
      presence |= P.TIME;
    }
  } else {
    timeS = Math.floor(now / 1000);
    timeNanos = (now % 1000) * 1e6;
  }

  const uuid = str(rest, 'uuid');
  const verdict = num(rest, 'verdict'),
    dropReason = num(rest, 'drop_reason'),
    dropReasonDesc = num(rest, 'drop_reason_desc');
  const flowType = num(rest, 'Type');
  const nodeName = str(rest, 'node_name'),
    nodeLabels = arr(rest, 'node_labels');

  const eth = sub(rest, 'ethernet');
  if (eth) presence |= P.ETHERNET;
  const ethSrc = str(eth, 'source'),
    ethDst = str(eth, 'destination');
  putBack(rest, 'ethernet', eth);

  const ip = sub(rest, 'IP');
  if (ip) presence |= P.IP;
  const ipVersion = num(ip, 'ipVersion');
  const [src, srcRaw, srcOk] = ipCols(ip, 'source', 0);
  const [dst, dstRaw, dstOk] = ipCols(ip, 'destination', 1);
  const [xl, xlRaw, xlOk] = ipCols(ip, 'source_xlated', 2);
  const encrypted = ip?.encrypted === true;
  if (moving && encrypted) delete ip!.encrypted;
  putBack(rest, 'IP', ip);
  const ipOk = (srcOk ? 1 : 0) | (dstOk ? 2 : 0) | (xlOk ? 4 : 0);

  // L4: ports come from the header Hubble reads (TCP, else UDP, else SCTP), ICMP from v4 else v6.
  const srcPort = l4Port(flow, 'source_port') ?? 0,
    dstPort = l4Port(flow, 'destination_port') ?? 0;
  const flagsMask = tcpFlagsMask(flow.l4?.TCP?.flags);
  let icmpType = 0,
    icmpCode = 0;
  const l4 = sub(rest, 'l4');
  if (l4) {
    presence |= P.L4;
    for (const [k, b] of L4_BITS) if (l4[k]) presence |= b;
    const portKey = l4.TCP ? 'TCP' : l4.UDP ? 'UDP' : l4.SCTP ? 'SCTP' : undefined;
    if (portKey) {
      const h = sub(l4, portKey)!;
      num(h, 'source_port');
      num(h, 'destination_port');
      if (portKey === 'TCP' && h.flags) {
        presence |= P.TCP_FLAGS;
        if (moving) {
          const fl = { ...(h.flags as Obj) };
          for (const k of TCP_FLAG_BITS) if (fl[k] === true) delete fl[k];
          putBack(h, 'flags', fl);
        }
      }
      putBack(l4, portKey, h);
    }
    const icmpKey = l4.ICMPv4 ? 'ICMPv4' : l4.ICMPv6 ? 'ICMPv6' : undefined;
    if (icmpKey) {
      const h = sub(l4, icmpKey)!;
      icmpType = num(h, 'type');
      icmpCode = num(h, 'code');
      putBack(l4, icmpKey, h);
    }
    // The header containers themselves are recreated from presence bits.
    if (moving) for (const [k] of L4_BITS) if (l4[k] && Object.keys(l4[k] as Obj).length === 0) delete l4[k];
    putBack(rest, 'l4', l4);
  }

  if (flow.source) presence |= P.SOURCE;
  if (flow.destination) presence |= P.DESTINATION;
  const srcEp = endpointCols(rest, 'source'),
    dstEp = endpointCols(rest, 'destination');
  const srcNames = arr(rest, 'source_names'),
    dstNames = arr(rest, 'destination_names');

  if (rest.reply === true) {
    presence |= P.REPLY_TRUE;
    if (moving) delete rest.reply;
  }
  let isReply = 2;
  const ir = flow.is_reply as Obj | undefined;
  if (ir) {
    isReply = ir.value === true ? 1 : 0;
    if (moving && Object.keys(ir).length === 1 && typeof ir.value === 'boolean') delete rest.is_reply;
  }

  const et = sub(rest, 'event_type');
  if (et) presence |= P.EVENT_TYPE;
  const eventType = num(et, 'type'),
    eventSub = num(et, 'sub_type');
  putBack(rest, 'event_type', et);

  const ss = sub(rest, 'source_service'),
    ds = sub(rest, 'destination_service');
  if (ss) presence |= P.SOURCE_SERVICE;
  if (ds) presence |= P.DESTINATION_SERVICE;
  const svc = [str(ss, 'namespace'), str(ss, 'name'), str(ds, 'namespace'), str(ds, 'name')];
  putBack(rest, 'source_service', ss);
  putBack(rest, 'destination_service', ds);

  const trafficDirection = num(rest, 'traffic_direction'),
    policyMatch = num(rest, 'policy_match_type');
  const tracePoint = num(rest, 'trace_observation_point'),
    traceReason = num(rest, 'trace_reason');

  const iface = sub(rest, 'interface');
  if (iface) presence |= P.INTERFACE;
  const ifIndex = num(iface, 'index'),
    ifName = str(iface, 'name');
  putBack(rest, 'interface', iface);
  const proxyPort = num(rest, 'proxy_port');
  const summary = str(rest, 'Summary');
  // Emitter moves only in its usual complete shape; anything else stays in rest as it is.
  let emName = '',
    emVersion = '';
  const em = flow.emitter as Obj | undefined;
  if (em && typeof em.name === 'string' && em.name !== '' && typeof em.version === 'string' && em.version !== '' && Object.keys(em).length === 2) {
    emName = em.name;
    emVersion = em.version;
    if (moving) delete rest.emitter;
  }

  const l7 = sub(rest, 'l7');
  let l7Type = 0,
    latency = 0;
  let dns: Obj | undefined;
  if (l7) {
    presence |= P.L7;
    if (l7.http) presence |= P.HTTP;
    if (l7.kafka) presence |= P.KAFKA;
    l7Type = num(l7, 'type');
    latency = num(l7, 'latency_ns');
    dns = sub(l7, 'dns');
    if (dns) presence |= P.DNS;
    putBack(rest, 'l7', l7);
  }

  const http = flow.l7?.http;
  const url = http?.url ?? '';
  const path = url === '' ? undefined : requestURIPath(url);
  const headers = http?.headers ?? NO_HEADERS;

  // DNS columns are written in place (the message is put back after its fields moved out).
  w.timeNs(timeS, timeNanos);
  w.str(uuid);
  w.i32(verdict);
  w.u32(dropReason);
  w.i32(dropReasonDesc);
  w.u32(presence);
  w.i32(flowType);
  w.str(nodeName);
  w.strArray(nodeLabels);
  w.str(ethSrc);
  w.str(ethDst);
  w.i32(ipVersion);
  w.u8(ipOk);
  w.ipv6(src);
  w.str(srcRaw);
  w.ipv6(dst);
  w.str(dstRaw);
  w.ipv6(xl);
  w.str(xlRaw);
  w.u8(encrypted ? 1 : 0);
  w.u32(srcPort);
  w.u32(dstPort);
  w.u16(flagsMask);
  w.u32(icmpType);
  w.u32(icmpCode);
  writeEndpoint(w, srcEp);
  writeEndpoint(w, dstEp);
  w.strArray(srcNames);
  w.strArray(dstNames);
  w.u8(isReply);
  w.i32(eventType);
  w.i32(eventSub);
  w.str(svc[0]);
  w.str(svc[1]);
  w.str(svc[2]);
  w.str(svc[3]);
  w.i32(trafficDirection);
  w.u32(policyMatch);
  w.i32(tracePoint);
  w.i32(traceReason);
  w.u32(ifIndex);
  w.str(ifName);
  w.u32(proxyPort);
  w.str(summary);
  w.i32(l7Type);
  w.u64(latency);
  // DNS columns move out of the copied message, which then goes back unless it became empty.
  w.str(str(dns, 'query'));
  w.strArray(arr(dns, 'ips'));
  w.u32(num(dns, 'ttl'));
  w.strArray(arr(dns, 'cnames'));
  w.str(str(dns, 'observation_source'));
  w.u32(num(dns, 'rcode'));
  w.strArray(arr(dns, 'qtypes'));
  w.strArray(arr(dns, 'rrtypes'));
  if (dns) putBack(l7!, 'dns', dns);
  if (l7) putBack(rest, 'l7', l7);
  w.u32(http?.code ?? 0);
  w.str(http?.method ?? '');
  w.str(url);
  w.str(path ?? '');
  w.u8(path === undefined ? 0 : 1);
  w.strArray(headers.length === 0 ? NO_STRINGS : headers.map((h) => h.key ?? ''));
  w.strArray(headers.length === 0 ? NO_STRINGS : headers.map((h) => h.value ?? ''));
  w.str(flow.trace_context?.parent?.trace_id ?? '');
  w.u64(flow.ip_trace_id?.trace_id ?? 0);
  // Our kernel probe's extension: reason name and counters get columns (the Any stays in rest).
  const k = flow.extensions ? kernelInfoOf(flow) : null;
  w.str(k?.drop_reason_name ?? '');
  w.u64(k?.bytes ?? 0);
  w.u64(k?.packets ?? 0);
  w.str(emName);
  w.str(emVersion);
  if (!moving || Object.keys(rest).length === 0) w.str('');
  else w.bytesField(encode(types.Flow, rest));
  // Marks ride on the last row of an insert only; every other row has three empty arrays.
  if (marks.length === 0) {
    w.strArray(NO_STRINGS);
    w.strArray(NO_STRINGS);
    w.u64Array(NO_NUMBERS);
  } else {
    w.strArray(marks.map((m) => m.session));
    w.strArray(marks.map((m) => m.node));
    w.u64Array(marks.map((m) => m.seq));
  }
  w.u64(batchId);
  w.str(session);
  w.u64(seq);
}

/** SELECT list that {@link rowToFlow} reads, in order. Aliases avoid column names on purpose:
 * ClickHouse lets an alias shadow a column inside the same query. */
export const SELECT_LIST = [
  'toString(toUnixTimestamp64Nano(time)) AS r_time',
  'uuid',
  'verdict',
  'drop_reason',
  'drop_reason_desc',
  'presence',
  'flow_type',
  'node_name',
  'node_labels',
  'eth_src',
  'eth_dst',
  'ip_version',
  'ip_ok',
  'hex(ip_src) AS r_src',
  'ip_src_raw',
  'hex(ip_dst) AS r_dst',
  'ip_dst_raw',
  'hex(ip_xlated) AS r_xl',
  'ip_xlated_raw',
  'encrypted',
  'src_port',
  'dst_port',
  'tcp_flags',
  'icmp_type',
  'icmp_code',
  'src_ep_id',
  'src_identity',
  'src_cluster',
  'src_namespace',
  'src_pod',
  'src_labels',
  'src_workload_names',
  'src_workload_kinds',
  'dst_ep_id',
  'dst_identity',
  'dst_cluster',
  'dst_namespace',
  'dst_pod',
  'dst_labels',
  'dst_workload_names',
  'dst_workload_kinds',
  'src_names',
  'dst_names',
  'is_reply',
  'event_type',
  'event_subtype',
  'src_svc_ns',
  'src_svc_name',
  'dst_svc_ns',
  'dst_svc_name',
  'traffic_direction',
  'policy_match_type',
  'trace_point',
  'trace_reason',
  'iface_index',
  'iface_name',
  'proxy_port',
  'summary',
  'l7_type',
  'toString(l7_latency_ns) AS r_latency',
  'dns_query',
  'dns_ips',
  'dns_ttl',
  'dns_cnames',
  'dns_obs_source',
  'dns_rcode',
  'dns_qtypes',
  'dns_rrtypes',
  'emitter_name',
  'emitter_version',
  'base64Encode(rest) AS r_rest',
].join(', ');

/** Sets o[k] = v when rest did not already carry the field and v is not the default. */
function set(o: Obj, k: string, v: unknown): void {
  if (o[k] !== undefined) return;
  if (v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)) return;
  o[k] = v;
}
function ensure(o: Obj, k: string): Obj {
  if (o[k] === undefined) o[k] = {};
  return o[k] as Obj;
}

/** Rebuilds the Flow from a JSONCompactEachRow row of {@link SELECT_LIST}. Numbers may arrive
 * as strings (a server quotes 64-bit integers) and are normalised. */
export function rowToFlow(r: unknown[]): Flow {
  let i = 0;
  const next = () => r[i++];
  const n = () => Number(next());
  const s = () => next() as string;
  const a = () => next() as string[];
  const tNs = BigInt(s());
  const uuid = s(),
    verdict = n(),
    dropReason = n(),
    dropReasonDesc = n(),
    presence = n(),
    flowType = n();
  const nodeName = s(),
    nodeLabels = a(),
    ethSrc = s(),
    ethDst = s(),
    ipVersion = n(),
    ipOk = n();
  const ips = [
    [s(), s()],
    [s(), s()],
    [s(), s()],
  ];
  const encrypted = n(),
    srcPort = n(),
    dstPort = n(),
    tcpFlags = n(),
    icmpType = n(),
    icmpCode = n();
  const eps = [0, 1].map(() => ({ id: n(), identity: n(), cluster: s(), ns: s(), pod: s(), labels: a(), wn: a(), wk: a() }));
  const srcNames = a(),
    dstNames = a(),
    isReply = n(),
    eventType = n(),
    eventSub = n();
  const svc = [s(), s(), s(), s()];
  const trafficDirection = n(),
    policyMatch = n(),
    tracePoint = n(),
    traceReason = n();
  const ifIndex = n(),
    ifName = s(),
    proxyPort = n(),
    summary = s(),
    l7Type = n(),
    latency = n();
  const dns = { query: s(), ips: a(), ttl: n(), cnames: a(), obs: s(), rcode: n(), qtypes: a(), rrtypes: a() };
  const emName = s(),
    emVersion = s();
  const restB64 = s();

  const f: Obj = restB64 === '' ? {} : decode<Obj>(types.Flow, Buffer.from(restB64, 'base64'));
  if (presence & P.TIME && f.time === undefined) {
    f.time = { seconds: Number(tNs / 1_000_000_000n), nanos: Number(tNs % 1_000_000_000n) };
  }
  set(f, 'uuid', uuid);
  set(f, 'verdict', verdict);
  set(f, 'drop_reason', dropReason);
  set(f, 'drop_reason_desc', dropReasonDesc);
  set(f, 'Type', flowType);
  set(f, 'node_name', nodeName);
  set(f, 'node_labels', nodeLabels);
  if (presence & P.ETHERNET) {
    const e = ensure(f, 'ethernet');
    set(e, 'source', ethSrc);
    set(e, 'destination', ethDst);
  }
  if (presence & P.IP) {
    const ip = ensure(f, 'IP');
    set(ip, 'ipVersion', ipVersion);
    ['source', 'destination', 'source_xlated'].forEach((k, j) => {
      const [hex, raw] = ips[j];
      set(ip, k, raw !== '' ? raw : ipOk & (1 << j) ? formatIP(ipFromHex(hex)) : '');
    });
    set(ip, 'encrypted', encrypted === 1);
  }
  if (presence & P.L4) {
    const l4 = ensure(f, 'l4');
    const hdr: [string, number][] = [
      ['TCP', P.TCP],
      ['UDP', P.UDP],
      ['SCTP', P.SCTP],
      ['ICMPv4', P.ICMPV4],
      ['ICMPv6', P.ICMPV6],
      ['VRRP', P.VRRP],
      ['IGMP', P.IGMP],
    ];
    for (const [k, b] of hdr) if (presence & b) ensure(l4, k);
    const portKey = presence & P.TCP ? 'TCP' : presence & P.UDP ? 'UDP' : presence & P.SCTP ? 'SCTP' : undefined;
    if (portKey) {
      const h = l4[portKey] as Obj;
      set(h, 'source_port', srcPort);
      set(h, 'destination_port', dstPort);
    }
    if (presence & P.TCP_FLAGS) {
      const fl = ensure(l4.TCP as Obj, 'flags');
      TCP_FLAG_BITS.forEach((k, j) => {
        if (tcpFlags & (1 << j)) set(fl, k, true);
      });
    }
    const icmpKey = presence & P.ICMPV4 ? 'ICMPv4' : presence & P.ICMPV6 ? 'ICMPv6' : undefined;
    if (icmpKey) {
      const h = l4[icmpKey] as Obj;
      set(h, 'type', icmpType);
      set(h, 'code', icmpCode);
    }
  }
  (['source', 'destination'] as const).forEach((k, j) => {
    if (!(presence & (j === 0 ? P.SOURCE : P.DESTINATION))) return;
    const ep = ensure(f, k),
      e = eps[j];
    set(ep, 'ID', e.id);
    set(ep, 'identity', e.identity);
    set(ep, 'cluster_name', e.cluster);
    set(ep, 'namespace', e.ns);
    set(ep, 'pod_name', e.pod);
    set(ep, 'labels', e.labels);
    set(
      ep,
      'workloads',
      e.wn.map((name, w) => ({ ...(name !== '' && { name }), ...(e.wk[w] !== '' && { kind: e.wk[w] }) })),
    );
  });
  set(f, 'source_names', srcNames);
  set(f, 'destination_names', dstNames);
  if (isReply !== 2 && f.is_reply === undefined) f.is_reply = { value: isReply === 1 };
  if (presence & P.REPLY_TRUE && f.reply === undefined) f.reply = true;
  if (presence & P.EVENT_TYPE) {
    const e = ensure(f, 'event_type');
    set(e, 'type', eventType);
    set(e, 'sub_type', eventSub);
  }
  if (presence & P.SOURCE_SERVICE) {
    const x = ensure(f, 'source_service');
    set(x, 'namespace', svc[0]);
    set(x, 'name', svc[1]);
  }
  if (presence & P.DESTINATION_SERVICE) {
    const x = ensure(f, 'destination_service');
    set(x, 'namespace', svc[2]);
    set(x, 'name', svc[3]);
  }
  set(f, 'traffic_direction', trafficDirection);
  set(f, 'policy_match_type', policyMatch);
  set(f, 'trace_observation_point', tracePoint);
  set(f, 'trace_reason', traceReason);
  if (presence & P.INTERFACE) {
    const x = ensure(f, 'interface');
    set(x, 'index', ifIndex);
    set(x, 'name', ifName);
  }
  set(f, 'proxy_port', proxyPort);
  set(f, 'Summary', summary);
  if (emName !== '' && f.emitter === undefined) f.emitter = { name: emName, version: emVersion };
  if (presence & P.L7) {
    const l7 = ensure(f, 'l7');
    set(l7, 'type', l7Type);
    set(l7, 'latency_ns', latency);
    if (presence & P.DNS) {
      const d = ensure(l7, 'dns');
      set(d, 'query', dns.query);
      set(d, 'ips', dns.ips);
      set(d, 'ttl', dns.ttl);
      set(d, 'cnames', dns.cnames);
      set(d, 'observation_source', dns.obs);
      set(d, 'rcode', dns.rcode);
      set(d, 'qtypes', dns.qtypes);
      set(d, 'rrtypes', dns.rrtypes);
    }
  }
  return f as Flow;
}
