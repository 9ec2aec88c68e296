// Label values derived from a Flow, shared by the handlers (Hubble's v1.FlowProtocol & co).
// Constant strings only: nothing here allocates per flow except the joined DNS qtypes.
import type { Flow } from '../../proto/types.js';
import { enums, enumName, Verdict } from '../../proto/index.js';
import { TRACE_POINTS } from '../../proto/monitor-api.js';

const VERDICT_NAMES: string[] = Array.from({ length: 8 }, (_, i) => enumName(enums.Verdict, i) ?? String(i));

export function verdictName(v: number | undefined): string {
  return VERDICT_NAMES[v ?? 0] ?? String(v);
}

const DROP_REASON_NAMES = new Map<number, string>();
export function dropReasonName(code: number | undefined): string {
  const c = code ?? 0;
  let s = DROP_REASON_NAMES.get(c);
  if (s === undefined) {
    s = enumName(enums.DropReason, c) ?? String(c);
    DROP_REASON_NAMES.set(c, s);
  }
  return s;
}

/** v1.FlowProtocol: L7 protocol first, then the L4 layer, else "Unknown flow". */
export function flowProtocol(flow: Flow): string {
  const l7 = flow.l7;
  if (l7 !== undefined) {
    if (l7.dns !== undefined) return 'DNS';
    if (l7.http !== undefined) return 'HTTP';
    if (l7.kafka !== undefined) return 'Kafka';
    return 'Unknown L7';
  }
  return l4Protocol(flow);
}

export function l4Protocol(flow: Flow): string {
  const l4 = flow.l4;
  if (l4 === undefined) return 'Unknown flow';
  if (l4.TCP !== undefined) return 'TCP';
  if (l4.UDP !== undefined) return 'UDP';
  if (l4.ICMPv4 !== undefined) return 'ICMPv4';
  if (l4.ICMPv6 !== undefined) return 'ICMPv6';
  if (l4.SCTP !== undefined) return 'SCTP';
  if (l4.VRRP !== undefined) return 'VRRP';
  if (l4.IGMP !== undefined) return 'IGMP';
  return 'Unknown L4';
}

export function isReply(flow: Flow): boolean {
  return flow.is_reply?.value === true || flow.reply === true;
}

export function family(flow: Flow): string {
  return flow.IP?.ipVersion === 2 ? 'IPv6' : 'IPv4';
}

const NUMBERS: string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Hubble's flow type / subtype labels of hubble_flows_processed_total (by monitor message type). */
export function flowTypeLabels(flow: Flow, out: string[], at: number): void {
  const t = flow.event_type?.type ?? 0;
  const sub = flow.event_type?.sub_type ?? 0;
  switch (t) {
    case 129:
      out[at] = 'L7';
      out[at + 1] = flow.l7?.dns ? 'DNS' : flow.l7?.http ? 'HTTP' : flow.l7?.kafka ? 'Kafka' : '';
      return;
    case 1:
      out[at] = 'Drop';
      out[at + 1] = '';
      return;
    case 3:
      out[at] = 'Capture';
      out[at + 1] = '';
      return;
    case 4:
      out[at] = 'Trace';
      out[at + 1] = TRACE_POINTS[sub] ?? '';
      return;
    case 5:
      out[at] = 'PolicyVerdict';
      out[at + 1] = '';
      return;
    default:
      out[at] = 'Unknown';
      out[at + 1] = NUMBERS[t & 0xff];
      return;
  }
}

export const PORT_STRINGS: string[] = Array.from({ length: 65536 }, (_, i) => String(i));

export { Verdict };
