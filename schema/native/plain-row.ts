// The collector's hot path: a flow the columns hold completely, or completely but for fields no
// column replaces (schema/plain-flow.ts: Plain and PlainWithRest, nearly every flow a decoder
// produces), is read in place and its values go straight into a staged row (row-stage.ts) by
// the slot of their column. Nothing is allocated per row but `rest` (only for PlainWithRest)
// and the address of an IPv6 string, and no value passes through a generic sink.
//
// For such flows it stages exactly the values schema/flow-row.ts writeFlowRow writes
// (flow-block.test.ts compares the blocks byte for byte); writeFlowRow remains the reference
// and writes every other flow.
import type {
  BoolValue,
  CiliumEventType,
  Emitter,
  Endpoint,
  Ethernet,
  Flow,
  IP,
  Layer4,
  Layer7,
  NetworkInterface,
  Service,
  TCPFlags,
  Timestamp,
} from '../../proto/types.js';
import type { TCPFlagName } from '../../proto/tcp-flags.js';
import { kernelInfoOf } from '../../proto/kernel.js';
import { IpColumns, type IngestMark } from '../flow-row.js';
import { fieldShape, Shape } from '../plain-flow.js';
import { P } from '../presence.js';
import { FLOW_NATIVE_COLUMNS, Kind, kindOf } from './types.js';
import { stageLayout, type RowStage } from './row-stage.js';
import { checkDateTime64ns, checkU64s } from './writer.js';
import { encodeRest } from './rest-encode.js';

/** The UInt64 columns' value: the flow keeps an exact 64-bit value beyond 2^53 in `rest`, the
 * column (a filter copy) holds the nearest value the writer accepts. */
export function u64Column(v: number): number {
  return v >= 0 && v <= Number.MAX_SAFE_INTEGER ? v : v > 0 ? Number.MAX_SAFE_INTEGER : 0;
}

const FLOW_KINDS = FLOW_NATIVE_COLUMNS.map((c) => kindOf(c.type)!);
const LAYOUT = stageLayout(FLOW_KINDS);

/** Whether a block's columns have the kinds this writer stages for: the flows table's, or String
 * where the table has LowCardinality(String) (staged alike). */
export function fitsPlainRows(kinds: readonly Kind[]): boolean {
  return (
    kinds.length === FLOW_KINDS.length &&
    kinds.every((k, i) => {
      const want = FLOW_KINDS[i];
      return k === want || (want === Kind.LowCardinality && k === Kind.String) || (want === Kind.ArrayLowCardinality && k === Kind.ArrayString);
    })
  );
}

/** The stage slot of a flows column (in `nums`, `refs` or `ips`, by the column's kind). */
function slot(name: string): number {
  const j = FLOW_NATIVE_COLUMNS.findIndex((c) => c.name === name);
  if (j < 0) throw new Error(`no column ${name}`);
  return LAYOUT.slot[j];
}

function endpointSlots(p: 'src' | 'dst') {
  return {
    id: slot(`${p}_ep_id`),
    identity: slot(`${p}_identity`),
    cluster: slot(`${p}_cluster`),
    ns: slot(`${p}_namespace`),
    pod: slot(`${p}_pod`),
    labels: slot(`${p}_labels`),
    wn: slot(`${p}_workload_names`),
    wk: slot(`${p}_workload_kinds`),
  };
}
type EndpointSlots = ReturnType<typeof endpointSlots>;

/** Slots of the columns, by column name. */
const S = {
  time: slot('time'),
  uuid: slot('uuid'),
  verdict: slot('verdict'),
  drop_reason: slot('drop_reason'),
  drop_reason_desc: slot('drop_reason_desc'),
  presence: slot('presence'),
  flow_type: slot('flow_type'),
  node_name: slot('node_name'),
  node_labels: slot('node_labels'),
  eth_src: slot('eth_src'),
  eth_dst: slot('eth_dst'),
  ip_version: slot('ip_version'),
  ip_ok: slot('ip_ok'),
  ip_src: slot('ip_src'),
  ip_src_raw: slot('ip_src_raw'),
  ip_dst: slot('ip_dst'),
  ip_dst_raw: slot('ip_dst_raw'),
  ip_xlated: slot('ip_xlated'),
  ip_xlated_raw: slot('ip_xlated_raw'),
  encrypted: slot('encrypted'),
  src_port: slot('src_port'),
  dst_port: slot('dst_port'),
  tcp_flags: slot('tcp_flags'),
  icmp_type: slot('icmp_type'),
  icmp_code: slot('icmp_code'),
  src_names: slot('src_names'),
  dst_names: slot('dst_names'),
  is_reply: slot('is_reply'),
  event_type: slot('event_type'),
  event_subtype: slot('event_subtype'),
  src_svc_ns: slot('src_svc_ns'),
  src_svc_name: slot('src_svc_name'),
  dst_svc_ns: slot('dst_svc_ns'),
  dst_svc_name: slot('dst_svc_name'),
  traffic_direction: slot('traffic_direction'),
  policy_match_type: slot('policy_match_type'),
  trace_point: slot('trace_point'),
  trace_reason: slot('trace_reason'),
  iface_index: slot('iface_index'),
  iface_name: slot('iface_name'),
  proxy_port: slot('proxy_port'),
  summary: slot('summary'),
  l7_type: slot('l7_type'),
  l7_latency_ns: slot('l7_latency_ns'),
  dns_query: slot('dns_query'),
  dns_ips: slot('dns_ips'),
  dns_ttl: slot('dns_ttl'),
  dns_cnames: slot('dns_cnames'),
  dns_obs_source: slot('dns_obs_source'),
  dns_rcode: slot('dns_rcode'),
  dns_qtypes: slot('dns_qtypes'),
  dns_rrtypes: slot('dns_rrtypes'),
  http_code: slot('http_code'),
  http_method: slot('http_method'),
  http_url: slot('http_url'),
  http_path: slot('http_path'),
  http_path_ok: slot('http_path_ok'),
  http_header_keys: slot('http_header_keys'),
  http_header_values: slot('http_header_values'),
  trace_id: slot('trace_id'),
  ip_trace_id: slot('ip_trace_id'),
  kernel_drop_reason: slot('kernel_drop_reason'),
  bytes: slot('bytes'),
  packets: slot('packets'),
  emitter_name: slot('emitter_name'),
  emitter_version: slot('emitter_version'),
  rest: slot('rest'),
  ingest_sessions: slot('ingest_sessions'),
  ingest_nodes: slot('ingest_nodes'),
  ingest_seqs: slot('ingest_seqs'),
  batch_id: slot('batch_id'),
  flow_session: slot('flow_session'),
  flow_seq: slot('flow_seq'),
  src: endpointSlots('src'),
  dst: endpointSlots('dst'),
};

/** The IPv6 columns' value for no address (::). */
const NO_IP = new Uint8Array(16);

/** tcpFlagsMask of flags that are all set (plain-flow.ts), from the names present: one switch per
 * flag set instead of a lookup of every flag name. */
function setFlagBits(flags: TCPFlags): number {
  let m = 0;
  for (const k in flags) {
    switch (k as TCPFlagName) {
      case 'FIN':
        m |= 0x01;
        break;
      case 'SYN':
        m |= 0x02;
        break;
      case 'RST':
        m |= 0x04;
        break;
      case 'PSH':
        m |= 0x08;
        break;
      case 'ACK':
        m |= 0x10;
        break;
      case 'URG':
        m |= 0x20;
        break;
      case 'ECE':
        m |= 0x40;
        break;
      case 'CWR':
        m |= 0x80;
        break;
      case 'NS':
        m |= 0x100;
        break;
    }
  }
  return m;
}

/** A staged row before its flow's fields are visited: every column's value for an absent field
 * (0, '', [], ::), and is_reply 2 (unknown). */
const NUM_DEFAULTS = new Float64Array(LAYOUT.nums);
NUM_DEFAULTS[S.is_reply] = 2;

/** Stages the rows of flows the columns hold: Plain and PlainWithRest (plain-flow.ts). */
export class PlainRowWriter {
  private readonly src = new IpColumns();
  private readonly dst = new IpColumns();
  private readonly xlated = new IpColumns();
  // The row being staged: its index, where its values start in the stage's arrays, and what
  // its fields have shown so far.
  private row = 0;
  private nb = 0;
  private rb = 0;
  private presence = 0;
  private hasTime = false;
  private hasIP = false;
  private readonly restKeys: string[] = [];

  /** `stage` must be over columns that pass {@link fitsPlainRows}. */
  constructor(private readonly stage: RowStage) {
    if (!LAYOUT.slot.every((s, j) => stage.slot[j] === s)) throw new Error('PlainRowWriter: the stage is not over the flows columns');
  }

  /**
   * Stages the flow's row and returns its shape, or returns General and stages nothing when a
   * field would not go into its columns completely (writeFlowRow must write the flow then).
   * One pass over the flow's fields checks each (plain-flow.ts fieldShape) and stages its values.
   */
  write(flow: Flow, marks: readonly IngestMark[], now: number | undefined, batchId: number, session = '', seq = 0): Shape {
    const st = this.stage,
      row = st.next();
    const n = st.nums,
      r = st.refs,
      nb = row * st.numWidth,
      rb = row * st.refWidth;
    this.row = row;
    this.nb = nb;
    this.rb = rb;
    this.presence = 0;
    this.hasTime = false;
    this.hasIP = false;
    n.set(NUM_DEFAULTS, nb);
    for (let i = 0; i < st.refWidth; i++) r[rb + i] = '';
    const elems = st.elemCount;

    const f = flow as unknown as Record<string, unknown>;
    let rest = 0; // fields without a column, in restKeys
    for (const k in f) {
      const v = f[k],
        s = fieldShape(k, v);
      if (s === Shape.Plain) this.field(k, v);
      else if (s === Shape.PlainWithRest) this.restKeys[rest++] = k;
      else {
        st.dropElements(elems);
        return Shape.General;
      }
    }

    if (!this.hasIP) {
      st.address(row, S.ip_src, NO_IP);
      st.address(row, S.ip_dst, NO_IP);
      st.address(row, S.ip_xlated, NO_IP);
    }
    if (!this.hasTime) {
      // The ingest time, so the row still sorts and expires (read only now: most flows have a time).
      const t = now ?? Date.now(),
        s = Math.floor(t / 1000),
        ns = (t % 1000) * 1e6;
      checkDateTime64ns(s, ns);
      n[nb + S.time] = s;
      n[nb + S.time + 1] = ns;
    }
    n[nb + S.presence] = this.presence;
    if (rest > 0) {
      // Filter copies of fields that stay in rest whole, read as writeFlowRow reads them.
      r[rb + S.trace_id] = flow.trace_context?.parent?.trace_id ?? '';
      n[nb + S.ip_trace_id] = u64Column(flow.ip_trace_id?.trace_id ?? 0);
      const k = flow.extensions ? kernelInfoOf(flow) : null;
      r[rb + S.kernel_drop_reason] = k?.drop_reason_name ?? '';
      n[nb + S.bytes] = u64Column(k?.bytes ?? 0);
      n[nb + S.packets] = u64Column(k?.packets ?? 0);
      r[rb + S.rest] = encodeRest(f, this.restKeys, rest); // the fields the general path leaves in its copy of the flow
    }
    // Marks ride on the last row of an insert only.
    if (marks.length > 0) {
      const seqs = marks.map((m) => m.seq);
      checkU64s(seqs);
      st.list(
        row,
        S.ingest_sessions,
        marks.map((m) => m.session),
      );
      st.list(
        row,
        S.ingest_nodes,
        marks.map((m) => m.node),
      );
      st.list(row, S.ingest_seqs, seqs);
    }
    n[nb + S.batch_id] = u64Column(batchId);
    r[rb + S.flow_session] = session;
    n[nb + S.flow_seq] = u64Column(seq);
    st.commit();
    return rest > 0 ? Shape.PlainWithRest : Shape.Plain;
  }

  /** Stages the values of a field that goes into its columns completely (checked by fieldShape). */
  private field(k: string, v: unknown): void {
    const st = this.stage,
      n = st.nums,
      r = st.refs,
      nb = this.nb,
      rb = this.rb;
    switch (k) {
      case 'time': {
        const t = v as Timestamp;
        n[nb + S.time] = t.seconds;
        n[nb + S.time + 1] = t.nanos;
        this.presence |= P.TIME;
        this.hasTime = true;
        break;
      }
      case 'uuid':
        r[rb + S.uuid] = v;
        break;
      case 'verdict':
        n[nb + S.verdict] = v as number;
        break;
      case 'drop_reason':
        n[nb + S.drop_reason] = v as number;
        break;
      case 'drop_reason_desc':
        n[nb + S.drop_reason_desc] = v as number;
        break;
      case 'Type':
        n[nb + S.flow_type] = v as number;
        break;
      case 'node_name':
        r[rb + S.node_name] = v;
        break;
      case 'node_labels':
        st.list(this.row, S.node_labels, v as string[]);
        break;
      case 'ethernet': {
        const e = v as Ethernet;
        r[rb + S.eth_src] = e.source ?? '';
        r[rb + S.eth_dst] = e.destination ?? '';
        this.presence |= P.ETHERNET;
        break;
      }
      case 'IP':
        this.ip(v as IP);
        break;
      case 'l4':
        this.l4(v as Layer4);
        break;
      case 'source':
        this.endpoint(S.src, v as Endpoint);
        this.presence |= P.SOURCE;
        break;
      case 'destination':
        this.endpoint(S.dst, v as Endpoint);
        this.presence |= P.DESTINATION;
        break;
      case 'source_names':
        st.list(this.row, S.src_names, v as string[]);
        break;
      case 'destination_names':
        st.list(this.row, S.dst_names, v as string[]);
        break;
      case 'is_reply':
        n[nb + S.is_reply] = (v as BoolValue).value === true ? 1 : 0;
        break;
      case 'reply':
        this.presence |= P.REPLY_TRUE;
        break; // true: the only plain value
      case 'event_type': {
        const e = v as CiliumEventType;
        n[nb + S.event_type] = e.type ?? 0;
        n[nb + S.event_subtype] = e.sub_type ?? 0;
        this.presence |= P.EVENT_TYPE;
        break;
      }
      case 'source_service': {
        const x = v as Service;
        r[rb + S.src_svc_ns] = x.namespace ?? '';
        r[rb + S.src_svc_name] = x.name ?? '';
        this.presence |= P.SOURCE_SERVICE;
        break;
      }
      case 'destination_service': {
        const x = v as Service;
        r[rb + S.dst_svc_ns] = x.namespace ?? '';
        r[rb + S.dst_svc_name] = x.name ?? '';
        this.presence |= P.DESTINATION_SERVICE;
        break;
      }
      case 'traffic_direction':
        n[nb + S.traffic_direction] = v as number;
        break;
      case 'policy_match_type':
        n[nb + S.policy_match_type] = v as number;
        break;
      case 'trace_observation_point':
        n[nb + S.trace_point] = v as number;
        break;
      case 'trace_reason':
        n[nb + S.trace_reason] = v as number;
        break;
      case 'interface': {
        const x = v as NetworkInterface;
        n[nb + S.iface_index] = x.index ?? 0;
        r[rb + S.iface_name] = x.name ?? '';
        this.presence |= P.INTERFACE;
        break;
      }
      case 'proxy_port':
        n[nb + S.proxy_port] = v as number;
        break;
      case 'Summary':
        r[rb + S.summary] = v;
        break;
      case 'emitter': {
        const x = v as Emitter;
        r[rb + S.emitter_name] = x.name;
        r[rb + S.emitter_version] = x.version;
        break;
      }
      case 'l7':
        this.l7(v as Layer7);
        break;
      default:
        throw new Error(`PlainRowWriter: no columns for field ${k}`); // fieldShape and this switch disagree
    }
  }

  private ip(ip: IP): void {
    const st = this.stage,
      n = st.nums,
      r = st.refs,
      nb = this.nb,
      rb = this.rb;
    const src = this.src,
      dst = this.dst,
      xl = this.xlated;
    src.read(ip.source ?? '');
    dst.read(ip.destination ?? '');
    xl.read(ip.source_xlated ?? '');
    n[nb + S.ip_version] = ip.ipVersion ?? 0;
    n[nb + S.ip_ok] = (src.ok ? 1 : 0) | (dst.ok ? 2 : 0) | (xl.ok ? 4 : 0);
    st.address(this.row, S.ip_src, src.addr);
    st.address(this.row, S.ip_dst, dst.addr);
    st.address(this.row, S.ip_xlated, xl.addr);
    r[rb + S.ip_src_raw] = src.raw;
    r[rb + S.ip_dst_raw] = dst.raw;
    r[rb + S.ip_xlated_raw] = xl.raw;
    n[nb + S.encrypted] = ip.encrypted === true ? 1 : 0;
    this.presence |= P.IP;
    this.hasIP = true;
  }

  /** At most one header (plain-flow.ts): ports from TCP, UDP or SCTP, type and code from ICMP. */
  private l4(l4: Layer4): void {
    const n = this.stage.nums,
      nb = this.nb;
    let p = P.L4;
    const ports = l4.TCP ?? l4.UDP ?? l4.SCTP;
    if (ports) {
      n[nb + S.src_port] = ports.source_port ?? 0;
      n[nb + S.dst_port] = ports.destination_port ?? 0;
    }
    if (l4.TCP) {
      p |= P.TCP;
      if (l4.TCP.flags) {
        p |= P.TCP_FLAGS;
        n[nb + S.tcp_flags] = setFlagBits(l4.TCP.flags);
      }
    }
    if (l4.UDP) p |= P.UDP;
    if (l4.SCTP) p |= P.SCTP;
    const icmp = l4.ICMPv4 ?? l4.ICMPv6;
    if (icmp) {
      n[nb + S.icmp_type] = icmp.type ?? 0;
      n[nb + S.icmp_code] = icmp.code ?? 0;
    }
    if (l4.ICMPv4) p |= P.ICMPV4;
    if (l4.ICMPv6) p |= P.ICMPV6;
    this.presence |= p;
  }

  private endpoint(s: EndpointSlots, ep: Endpoint): void {
    const st = this.stage,
      n = st.nums,
      r = st.refs,
      nb = this.nb,
      rb = this.rb,
      row = this.row;
    n[nb + s.id] = ep.ID ?? 0;
    n[nb + s.identity] = ep.identity ?? 0;
    r[rb + s.cluster] = ep.cluster_name ?? '';
    r[rb + s.ns] = ep.namespace ?? '';
    r[rb + s.pod] = ep.pod_name ?? '';
    if (ep.labels) st.list(row, s.labels, ep.labels);
    const ws = ep.workloads;
    if (ws) {
      let first = st.elemCount;
      for (let j = 0; j < ws.length; j++) st.element(ws[j].name);
      st.endList(row, s.wn, first);
      first = st.elemCount;
      for (let j = 0; j < ws.length; j++) st.element(ws[j].kind);
      st.endList(row, s.wk, first);
    }
  }

  /** Type, latency and DNS (HTTP and Kafka make a flow General). */
  private l7(l7: Layer7): void {
    const st = this.stage,
      n = st.nums,
      r = st.refs,
      nb = this.nb,
      rb = this.rb,
      row = this.row;
    n[nb + S.l7_type] = l7.type ?? 0;
    n[nb + S.l7_latency_ns] = u64Column(l7.latency_ns ?? 0);
    this.presence |= P.L7;
    const dns = l7.dns;
    if (dns) {
      r[rb + S.dns_query] = dns.query ?? '';
      n[nb + S.dns_ttl] = dns.ttl ?? 0;
      r[rb + S.dns_obs_source] = dns.observation_source ?? '';
      n[nb + S.dns_rcode] = dns.rcode ?? 0;
      if (dns.ips) st.list(row, S.dns_ips, dns.ips);
      if (dns.cnames) st.list(row, S.dns_cnames, dns.cnames);
      if (dns.qtypes) st.list(row, S.dns_qtypes, dns.qtypes);
      if (dns.rrtypes) st.list(row, S.dns_rrtypes, dns.rrtypes);
      this.presence |= P.DNS;
    }
  }
}
