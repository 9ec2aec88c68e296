// "Plain" flows are the ones the typed columns reproduce exactly, so their `rest` is empty and
// the encoder can read them in place instead of copying and moving fields (schema/flow-row.ts,
// and the Native block writer's direct path, schema/native/plain-row.ts, which checks a flow
// field by field with fieldShape as it stages it). The test is conservative: anything unusual —
// an explicitly set zero, an unknown value shape, a second L4 header — answers General and takes
// the general path, which is always correct.
//
// Every message has its own checker (a for-in over its keys and a switch), not a table of rules:
// this runs once per flow on the collector's hot path, and looking rules up by key and calling
// them through the table measured twice as slow (≈ 1 µs against ≈ 0.45 µs per decoded flow).

type Obj = Record<string, unknown>;

/** How the columns hold a flow (see {@link flowShape}). */
export const Shape = {
  /** Some field would be only partly moved into its columns: schema/flow-row.ts decides field by field. */
  General: 0,
  /** The columns reproduce the flow; `rest` is empty. */
  Plain: 1,
  /** Plain but for top-level fields no column replaces (tunnel, file, policies, extensions…):
   * those go into `rest` whole, exactly as the general path leaves them there. */
  PlainWithRest: 2,
} as const;
export type Shape = (typeof Shape)[keyof typeof Shape];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonZero = (v: unknown): boolean => typeof v === 'number' && v !== 0 && Number.isSafeInteger(v);
const text = (v: unknown): boolean => typeof v === 'string' && v !== '';

function texts(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

function ethernet(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    if ((k !== 'source' && k !== 'destination') || !text(v[k])) return false;
  }
  return true;
}

function ip(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    switch (k) {
      case 'source':
      case 'destination':
      case 'source_xlated':
        if (!text(v[k])) return false;
        break;
      case 'ipVersion':
        if (!nonZero(v[k])) return false;
        break;
      case 'encrypted':
        if (v[k] !== true) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** TCP flags: only flags that are set (an explicit false stays in rest). */
function flags(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    switch (k) {
      case 'FIN':
      case 'SYN':
      case 'RST':
      case 'PSH':
      case 'ACK':
      case 'URG':
      case 'ECE':
      case 'CWR':
      case 'NS':
        if (v[k] !== true) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** TCP, UDP or SCTP (only TCP may have flags). */
function ports(v: unknown, tcp: boolean): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    switch (k) {
      case 'source_port':
      case 'destination_port':
        if (!nonZero(v[k])) return false;
        break;
      case 'flags':
        if (!tcp || !flags(v[k])) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function icmp(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    if ((k !== 'type' && k !== 'code') || !nonZero(v[k])) return false;
  }
  return true;
}

/** At most one header, and one the columns cover. */
function l4(v: unknown): boolean {
  if (!isObj(v)) return false;
  let n = 0;
  for (const k in v) {
    if (++n > 1) return false;
    switch (k) {
      case 'TCP':
        if (!ports(v[k], true)) return false;
        break;
      case 'UDP':
      case 'SCTP':
        if (!ports(v[k], false)) return false;
        break;
      case 'ICMPv4':
      case 'ICMPv6':
        if (!icmp(v[k])) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Each workload has both a name and a kind ('' would be ambiguous in the columns). */
function workloads(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const w: unknown = v[i];
    if (!isObj(w) || !text(w.name) || !text(w.kind)) return false;
    for (const k in w) if (k !== 'name' && k !== 'kind') return false;
  }
  return true;
}

function endpoint(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    switch (k) {
      case 'ID':
      case 'identity':
        if (!nonZero(v[k])) return false;
        break;
      case 'cluster_name':
      case 'namespace':
      case 'pod_name':
        if (!text(v[k])) return false;
        break;
      case 'labels':
        if (!texts(v[k])) return false;
        break;
      case 'workloads':
        if (!workloads(v[k])) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function dns(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    switch (k) {
      case 'query':
      case 'observation_source':
        if (!text(v[k])) return false;
        break;
      case 'ips':
      case 'cnames':
      case 'qtypes':
      case 'rrtypes':
        if (!texts(v[k])) return false;
        break;
      case 'ttl':
      case 'rcode':
        if (!nonZero(v[k])) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Type, latency and DNS; HTTP and Kafka stay in rest (their columns are filter copies). */
function l7(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    switch (k) {
      case 'type':
      case 'latency_ns':
        if (!nonZero(v[k])) return false;
        break;
      case 'dns':
        if (!dns(v[k])) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A message whose keys are all among `a`, `b` and satisfy `ok` (services, event type, interface). */
function pair(v: unknown, a: string, aOk: (x: unknown) => boolean, b: string, bOk: (x: unknown) => boolean): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    if (k === a) {
      if (!aOk(v[k])) return false;
    } else if (k === b) {
      if (!bOk(v[k])) return false;
    } else return false;
  }
  return true;
}

/** {seconds, nanos}, both set and within DateTime64(9); {seconds} alone (Go omits nanos = 0) stays in rest. */
function time(v: unknown): boolean {
  if (!isObj(v)) return false;
  const s = v.seconds,
    ns = v.nanos;
  if (!(Number.isSafeInteger(s) && (s as number) >= 0 && (s as number) < 9_000_000_000)) return false;
  if (!(Number.isInteger(ns) && (ns as number) >= 0 && (ns as number) < 1e9)) return false;
  for (const k in v) if (k !== 'seconds' && k !== 'nanos') return false;
  return true;
}

function isReply(v: unknown): boolean {
  if (!isObj(v) || typeof v.value !== 'boolean') return false;
  for (const k in v) if (k !== 'value') return false;
  return true;
}

/** The emitter moves only in its complete shape. */
function emitter(v: unknown): boolean {
  if (!isObj(v) || !text(v.name) || !text(v.version)) return false;
  for (const k in v) if (k !== 'name' && k !== 'version') return false;
  return true;
}

/** How one top-level field goes into the columns: completely (Plain), not completely (General),
 * or not at all because no column replaces it (PlainWithRest). */
export function fieldShape(k: string, v: unknown): Shape {
  let ok: boolean;
  switch (k) {
    case 'uuid':
    case 'node_name':
    case 'Summary':
      ok = text(v);
      break;
    case 'verdict':
    case 'drop_reason':
    case 'drop_reason_desc':
    case 'Type':
    case 'traffic_direction':
    case 'policy_match_type':
    case 'trace_observation_point':
    case 'trace_reason':
    case 'proxy_port':
      ok = nonZero(v);
      break;
    case 'node_labels':
    case 'source_names':
    case 'destination_names':
      ok = texts(v);
      break;
    case 'time':
      ok = time(v);
      break;
    case 'ethernet':
      ok = ethernet(v);
      break;
    case 'IP':
      ok = ip(v);
      break;
    case 'l4':
      ok = l4(v);
      break;
    case 'source':
    case 'destination':
      ok = endpoint(v);
      break;
    case 'is_reply':
      ok = isReply(v);
      break;
    case 'reply':
      ok = v === true;
      break;
    case 'event_type':
      ok = pair(v, 'type', nonZero, 'sub_type', nonZero);
      break;
    case 'source_service':
    case 'destination_service':
      ok = pair(v, 'namespace', text, 'name', text);
      break;
    case 'interface':
      ok = pair(v, 'index', nonZero, 'name', text);
      break;
    case 'l7':
      ok = l7(v);
      break;
    case 'emitter':
      ok = emitter(v);
      break;
    // No column replaces this field (trace_context, ip_trace_id and extensions only have filter
    // copies): the general path leaves it in rest untouched, too.
    default:
      return Shape.PlainWithRest;
  }
  return ok ? Shape.Plain : Shape.General;
}

/** How the columns hold `flow`: Plain, PlainWithRest (fields no column replaces, e.g. `tunnel`,
 * make up all of `rest`), or General. Conservative: General whenever in doubt. */
export function flowShape(flow: object): Shape {
  if (!isObj(flow)) return Shape.General;
  let shape: Shape = Shape.Plain;
  for (const k in flow) {
    const s = fieldShape(k, flow[k]);
    if (s === Shape.General) return Shape.General;
    if (s === Shape.PlainWithRest) shape = s;
  }
  return shape;
}

/** True when the flow's columns alone reproduce it (its `rest` would be empty). */
export function isPlainFlow(flow: object): boolean {
  return flowShape(flow) === Shape.Plain;
}
