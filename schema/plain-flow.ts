// "Plain" flows are the ones the typed columns reproduce exactly, so their `rest` is empty and
// the encoder can read them in place instead of copying and moving fields (schema/flow-row.ts).
// The test is conservative: anything unusual — an explicitly set zero, an unknown field, a
// second L4 header — answers false and takes the general path, which is always correct.
import { TCP_FLAG_BITS } from '../proto/tcp-flags.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonZero = (v: unknown) => typeof v === 'number' && v !== 0 && Number.isSafeInteger(v);
const nonEmptyStr = (v: unknown) => typeof v === 'string' && v !== '';
const nonEmptyStrs = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
const FLAG_SET = new Set<string>(TCP_FLAG_BITS);

/** Every key of `o` satisfies the rule named for it. */
function only(o: unknown, rules: Record<string, (v: unknown) => boolean>): boolean {
  if (!isObj(o)) return false;
  for (const k in o) {
    const rule = rules[k];
    if (rule === undefined || !rule(o[k])) return false;
  }
  return true;
}

const ethernet = { source: nonEmptyStr, destination: nonEmptyStr };
const ip = { source: nonEmptyStr, destination: nonEmptyStr, source_xlated: nonEmptyStr, ipVersion: nonZero, encrypted: (v: unknown) => v === true };
const flags = (v: unknown) => isObj(v) && Object.keys(v).every((k) => FLAG_SET.has(k) && v[k] === true);
const tcp = { source_port: nonZero, destination_port: nonZero, flags };
const ports = { source_port: nonZero, destination_port: nonZero };
const icmp = { type: nonZero, code: nonZero };
const L4_RULES: Record<string, Record<string, (v: unknown) => boolean>> = { TCP: tcp, UDP: ports, SCTP: ports, ICMPv4: icmp, ICMPv6: icmp };
function l4(v: unknown): boolean {
  if (!isObj(v)) return false;
  let n = 0;
  for (const k in v) {
    const rules = L4_RULES[k];
    if (rules === undefined || ++n > 1 || !only(v[k], rules)) return false;
  }
  return true;
}
const workload = (w: unknown) => isObj(w) && Object.keys(w).length === 2 && nonEmptyStr(w.name) && nonEmptyStr(w.kind);
const endpoint = {
  ID: nonZero, identity: nonZero, cluster_name: nonEmptyStr, namespace: nonEmptyStr, pod_name: nonEmptyStr, labels: nonEmptyStrs,
  workloads: (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(workload),
};
const dns = { query: nonEmptyStr, observation_source: nonEmptyStr, ips: nonEmptyStrs, cnames: nonEmptyStrs, qtypes: nonEmptyStrs, rrtypes: nonEmptyStrs, ttl: nonZero, rcode: nonZero };
const l7 = { type: nonZero, latency_ns: nonZero, dns: (v: unknown) => only(v, dns) };
const service = { namespace: nonEmptyStr, name: nonEmptyStr };

const FLOW: Record<string, (v: unknown) => boolean> = {
  time: (v) => isObj(v) && Object.keys(v).length === 2 && Number.isSafeInteger(v.seconds) && (v.seconds as number) >= 0
    && (v.seconds as number) < 9_000_000_000 && Number.isInteger(v.nanos) && (v.nanos as number) >= 0 && (v.nanos as number) < 1e9,
  uuid: nonEmptyStr, verdict: nonZero, drop_reason: nonZero, drop_reason_desc: nonZero, Type: nonZero,
  node_name: nonEmptyStr, node_labels: nonEmptyStrs, Summary: nonEmptyStr,
  ethernet: (v) => only(v, ethernet), IP: (v) => only(v, ip), l4,
  source: (v) => only(v, endpoint), destination: (v) => only(v, endpoint),
  source_names: nonEmptyStrs, destination_names: nonEmptyStrs,
  is_reply: (v) => isObj(v) && Object.keys(v).length === 1 && typeof v.value === 'boolean',
  reply: (v) => v === true,
  event_type: (v) => only(v, { type: nonZero, sub_type: nonZero }),
  source_service: (v) => only(v, service), destination_service: (v) => only(v, service),
  traffic_direction: nonZero, policy_match_type: nonZero, trace_observation_point: nonZero, trace_reason: nonZero, proxy_port: nonZero,
  interface: (v) => only(v, { index: nonZero, name: nonEmptyStr }),
  l7: (v) => only(v, l7),
  emitter: (v) => isObj(v) && Object.keys(v).length === 2 && nonEmptyStr(v.name) && nonEmptyStr(v.version),
};

/** True when the flow's columns alone reproduce it (its `rest` would be empty). */
export function isPlainFlow(flow: object): boolean {
  return only(flow, FLOW);
}
