// The pieces of a flow line as the hubble CLI renders them: endpoints, ports, identities,
// event type, verdict and summary. Each helper is a pure function of the Flow.
import { enums, enumName, MessageType, Verdict, TrafficDirection } from '../../proto/index.js';
import type { Flow, Policy } from '../../proto/index.js';
import { goPathJoin2, joinHostPort } from './go-format.js';
import { kernelInfoOf } from '../../proto/kernel.js';
import { dropReasonText, policyMatchTypeText, reservedIdentityName, traceObservationPointText } from '../../proto/monitor-api.js';
import type { Colorer } from './color.js';
import { NO_COLOR } from './color.js';

// flow.AuthType values the summary treats specially.
const AuthType = { DISABLED: 0, TEST_ALWAYS_FAIL: 2 } as const;

/** Go's String() of a proto enum value: its name, or the number when undefined. */
export function enumText(e: Parameters<typeof enumName>[0], value: number | undefined): string {
  const v = value ?? 0;
  return enumName(e, v) ?? String(v);
}

/** Source and destination ports as strings; empty when the flow is not TCP/UDP/SCTP. */
export function getPorts(f: Flow): [string, string] {
  const l4 = f.l4;
  const p = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  if (!p) return ['', ''];
  return [String(p.source_port ?? 0), String(p.destination_port ?? 0)];
}

/** hubble's Hostname(): pod or service name (with namespace), DNS names, else the IP; then the port. */
export function hostname(
  ip: string,
  port: string,
  ns: string,
  pod: string,
  svc: string,
  names: string[],
  ipTranslation: boolean,
  color: Colorer = NO_COLOR,
): string {
  let host = ip;
  if (ipTranslation) {
    if (pod !== '') host = goPathJoin2(ns, pod);
    else if (svc !== '') host = goPathJoin2(ns, svc);
    else if (names.length > 0) host = names.join(',');
  }
  if (port !== '' && port !== '0') return joinHostPort(host, color.port(port));
  return host;
}

/** Source and destination labels of a flow (hubble's GetHostNames). */
export function getHostNames(f: Flow, ipTranslation = true, color: Colorer = NO_COLOR): [string, string] {
  if (!f.IP) {
    if (f.ethernet) return [color.host(f.ethernet.source ?? ''), color.host(f.ethernet.destination ?? '')];
    return ['', ''];
  }
  // A service's namespace wins over the pod's, as in hubble.
  const srcNs = f.source_service ? (f.source_service.namespace ?? '') : (f.source?.namespace ?? '');
  const dstNs = f.destination_service ? (f.destination_service.namespace ?? '') : (f.destination?.namespace ?? '');
  const [srcPort, dstPort] = getPorts(f);
  const src = hostname(f.IP.source ?? '', srcPort, srcNs, f.source?.pod_name ?? '', f.source_service?.name ?? '', f.source_names ?? [], ipTranslation, color);
  const dst = hostname(
    f.IP.destination ?? '',
    dstPort,
    dstNs,
    f.destination?.pod_name ?? '',
    f.destination_service?.name ?? '',
    f.destination_names ?? [],
    ipTranslation,
    color,
  );
  return [color.host(src), color.host(dst)];
}

/** "(health)" for a reserved identity, "(ID:1234)" otherwise. */
export function fmtIdentity(id: number | undefined, color: Colorer = NO_COLOR): string {
  const n = id ?? 0;
  const reserved = reservedIdentityName(n);
  return color.identity(reserved !== undefined ? `(${reserved})` : `(ID:${n})`);
}

/** The TYPE column: L7 protocol and type, trace point, drop reason text, policy verdict, … */
export function getFlowType(f: Flow): string {
  const l7 = f.l7;
  if (l7) {
    let proto = 'l7';
    let type = enumText(enums.L7FlowType, l7.type).toLowerCase();
    if (l7.http) proto = 'http';
    else if (l7.dns) {
      proto = 'dns';
      type += ` ${l7.dns.observation_source ?? ''}`;
    } else if (l7.kafka) proto = 'kafka';
    return `${proto}-${type}`;
  }
  const subType = f.event_type?.sub_type ?? 0;
  switch (f.event_type?.type ?? 0) {
    case MessageType.TRACE:
      return traceObservationPointText(subType);
    case MessageType.DROP: {
      // A kernel drop without a Hubble counterpart (sub_type 0) would print "Success": name the
      // kernel's own reason instead (flowscope's kernel probe, proto/kernel.ts).
      const kernelReason = subType === 0 ? kernelInfoOf(f)?.drop_reason_name : undefined;
      return kernelReason ? `kernel ${kernelReason}` : dropReasonText(subType);
    }
    case MessageType.POLICY_VERDICT:
      return `policy-verdict:${policyMatchTypeText(f.policy_match_type ?? 0)} ${enumText(enums.TrafficDirection, f.traffic_direction)}`;
    case MessageType.CAPTURE:
      return enumText(enums.DebugCapturePoint, f.debug_capture_point);
    case MessageType.TRACE_SOCK:
      switch (f.sock_xlate_point ?? 0) {
        case 1:
          return 'pre-xlate-fwd';
        case 2:
          return 'post-xlate-fwd';
        case 3:
          return 'pre-xlate-rev';
        case 4:
          return 'post-xlate-rev';
      }
      return enumText(enums.SocketTranslationPoint, f.sock_xlate_point);
  }
  return 'UNKNOWN';
}

function formatPolicyNames(policies: Policy[] | undefined): string {
  let msg = '';
  let i = 0;
  for (const p of policies ?? []) {
    if (!p.kind || !p.name) continue;
    msg += i === 0 ? ' BY ' : ', ';
    msg += `${p.name} (${p.kind})`;
    i++;
  }
  return msg;
}

/** The VERDICT column; policy-verdict events say ALLOWED / DENIED / AUDITED. */
export function getVerdict(f: Flow, policyNames = false, color: Colorer = NO_COLOR): string {
  const verdict = f.verdict ?? 0;
  const isPolicyVerdict = (f.event_type?.type ?? 0) === MessageType.POLICY_VERDICT;
  let msg = enumText(enums.Verdict, verdict);
  const dir = f.traffic_direction ?? 0;
  switch (verdict) {
    case Verdict.FORWARDED:
    case Verdict.REDIRECTED:
      if (isPolicyVerdict) {
        msg = 'ALLOWED';
        if (policyNames) {
          if (dir === TrafficDirection.EGRESS) msg += formatPolicyNames(f.egress_allowed_by);
          else if (dir === TrafficDirection.INGRESS) msg += formatPolicyNames(f.ingress_allowed_by);
        }
      }
      return color.green(msg);
    case Verdict.DROPPED:
    case Verdict.ERROR:
      if (isPolicyVerdict) {
        msg = 'DENIED';
        if (policyNames) {
          if (dir === TrafficDirection.EGRESS) msg += formatPolicyNames(f.egress_denied_by);
          else if (dir === TrafficDirection.INGRESS) msg += formatPolicyNames(f.ingress_denied_by);
        }
      }
      return color.red(msg);
    case Verdict.AUDIT:
      if (isPolicyVerdict) msg = 'AUDITED';
      return color.yellow(msg);
    case Verdict.TRACED:
    case Verdict.TRANSLATED:
      return color.yellow(msg);
  }
  return msg;
}

/** The SUMMARY column: optional IP trace id, the flow summary, then the auth type if enabled. */
export function getSummary(f: Flow, color: Colorer = NO_COLOR): string {
  let s = '';
  const traceId = f.ip_trace_id?.trace_id ?? 0;
  if (traceId > 0) s += `IP Trace ID: ${traceId}; `;
  s += f.Summary ?? '';
  const auth = f.auth_type ?? 0;
  if (auth !== AuthType.DISABLED) {
    const name = enumText(enums.AuthType, auth);
    s += `; Auth: ${auth === AuthType.TEST_ALWAYS_FAIL ? color.red(name) : color.green(name)}`;
  }
  return s;
}
