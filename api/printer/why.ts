// Output of `flowscope why`: a report read top to bottom — the verdict with the counts both ways,
// the findings with what to run next, then the evidence (drops, policy verdicts, DNS, TCP and
// ICMP, where both ends run, the rollup history); or the WhyReport as one protojson document.
import { types, enums, enumName } from '../../proto/index.js';
import type { Timestamp, WhyReport } from '../../proto/types.js';
import { toProtoJSON } from '../../proto/json.js';
import { indentedJSONLine } from './json-line.js';
import { TabWriter } from './tabwriter.js';

export type WhyOutputFormat = 'text' | 'json';
export const WHY_OUTPUT_FORMATS: readonly WhyOutputFormat[] = ['text', 'json'];

const VERDICT_TEXT: Record<string, string> = {
  REACHABLE: 'REACHABLE',
  BLOCKED: 'BLOCKED',
  PARTLY_FAILING: 'PARTLY FAILING',
  NO_TRAFFIC: 'NO TRAFFIC',
};

function when(t: Timestamp | undefined): string {
  if (!t) return '-';
  return new Date((t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString().slice(0, 19).replace('T', ' ');
}
const n = (v: number | undefined) => String(v ?? 0);

function table(rows: string[][], indent = '  '): string {
  let text = '';
  const tw = new TabWriter((s) => {
    text += s;
  });
  for (const r of rows) tw.write(`${indent}${r.join('\t')}\n`);
  tw.flush();
  return text;
}

function direction(label: string, d: WhyReport['forward']): string {
  if (!d || !d.flows) return `  ${label}  no flows\n`;
  const parts = [`${n(d.forwarded)} forwarded`, `${n(d.dropped)} dropped`];
  if (d.error) parts.push(`${d.error} error`);
  if (d.audit) parts.push(`${d.audit} audit`);
  if (d.replies) parts.push(`${d.replies} replies`);
  return `  ${label}  ${n(d.flows)} flows: ${parts.join(', ')}  (${when(d.first_seen)} – ${when(d.last_seen)})\n`;
}

export function formatWhyReport(r: WhyReport, output: WhyOutputFormat): string {
  if (output === 'json') return indentedJSONLine(toProtoJSON(types.WhyReport, r as Record<string, unknown>));
  const verdict = enumName(enums.WhyVerdict, r.verdict ?? 0) ?? 'WHY_VERDICT_UNKNOWN';
  let out = `${VERDICT_TEXT[verdict] ?? verdict}: ${r.source ?? ''} → ${r.destination ?? ''}\n`;
  if (r.summary) out += `  ${r.summary}\n`;
  out += `  range ${when(r.since)} – ${when(r.until)} UTC\n`;

  out += '\nTraffic\n';
  out += direction('A → B', r.forward);
  out += direction('B → A', r.reverse);
  const p = r.path ?? {};
  const nodes = `${(p.source_nodes ?? []).join(', ') || '?'} → ${(p.destination_nodes ?? []).join(', ') || '?'}`;
  out += `  nodes  ${p.placement ?? 'unknown'} (${nodes})${p.tunnel ? `, tunnelled (${n(p.overlay_events)} overlay events)` : ''}\n`;

  out += '\nFindings\n';
  for (const f of r.findings ?? []) {
    const mark = f.severity === 'error' ? '✗' : f.severity === 'warning' ? '!' : '·';
    out += `  ${mark} ${f.summary}\n`;
    for (const s of f.next_steps ?? []) out += `      → ${s}\n`;
    if (f.observe_command) out += `      $ ${f.observe_command}\n`;
  }

  const drops = r.drops ?? [];
  if (drops.length > 0) {
    out += '\nDrops\n';
    out += table([
      ['DIRECTION', 'REASON', 'POINT', 'NODE', 'FLOWS', 'FIRST', 'LAST'],
      ...drops.map((d) => [
        `${d.reverse ? 'B → A' : 'A → B'} ${d.traffic_direction ? (enumName(enums.TrafficDirection, d.traffic_direction) ?? '').toLowerCase() : ''}`.trim(),
        d.kernel_drop_reason || `${enumName(enums.DropReason, d.drop_reason ?? 0) ?? d.drop_reason} (${d.drop_reason_text ?? ''})`,
        d.observation_point || '-',
        d.node || '-',
        n(d.flows),
        when(d.first_seen),
        when(d.last_seen),
      ]),
    ]);
    for (const d of drops) out += `  $ ${d.observe_command}\n`;
  }

  const pol = r.policy ?? {};
  if ((pol.verdicts ?? []).length > 0 || pol.denied) {
    out += '\nPolicy verdicts\n';
    out += table([
      ['DIRECTION', 'VERDICT', 'DECIDED BY', 'MATCH', 'NODE', 'EVENTS', 'FIRST', 'LAST'],
      ...(pol.verdicts ?? []).map((v) => [
        v.reverse ? 'B → A' : 'A → B',
        enumName(enums.Verdict, v.verdict ?? 0) ?? String(v.verdict),
        v.enforced_by ?? '',
        v.match_type ?? '',
        v.node || '-',
        n(v.events),
        when(v.first_seen),
        when(v.last_seen),
      ]),
    ]);
    out += `  forwarded in the range: ${pol.forwarded_in_range ? `yes (last ${when(pol.last_forwarded)})` : 'no'}; first denied ${when(pol.first_denied)}\n`;
  }

  const dns = r.dns ?? {};
  out += `\nDNS (names of B: ${(dns.destination_names ?? []).join(', ') || '-'}; addresses used: ${(dns.destination_addresses ?? []).join(', ') || '-'})\n`;
  if ((dns.names ?? []).length === 0) out += '  no lookups of these names by the source in the range\n';
  else
    out += table([
      ['QUERY', 'OF B', 'REQUESTS', 'RESPONSES', 'NOERROR', 'NXDOMAIN', 'SERVFAIL', 'OTHER', 'NO RESPONSE', 'ANSWERS', 'HAS B'],
      ...(dns.names ?? []).map((d) => [
        d.query ?? '',
        d.related ? 'yes' : 'no',
        n(d.requests),
        n(d.responses),
        n(d.no_error),
        n(d.nxdomain),
        n(d.servfail),
        n(d.other_errors),
        n(d.unanswered),
        (d.answers ?? []).join(',') || '-',
        d.answers_with_destination ? 'yes' : 'no',
      ]),
    ]);

  const t = r.transport ?? {};
  out += '\nTransport\n';
  out += `  TCP connections ${n(t.syn_connections)}: ${n(t.syn_ack_connections)} accepted (SYN-ACK), ${n(t.refused_connections)} refused (RST), ${n(t.unanswered_connections)} unanswered; RST from B ${n(t.rst_from_destination)}, from A ${n(t.rst_from_source)}; SYNs leaving A ${n(t.syn_packets)}\n`;
  for (const e of t.icmp_errors ?? [])
    out += `  ${e.family} ${e.meaning} (type ${n(e.type)} code ${n(e.code)}) from ${e.from}${e.from_destination ? ' (B)' : ''} on ${e.node}: ${n(e.count)} (${when(e.first_seen)} – ${when(e.last_seen)})\n`;

  const h = r.history ?? {};
  out += `\nHistory (rollup ${when(h.from)} – ${when(h.until)})\n`;
  if ((h.workload_pairs ?? []).length === 0) out += '  no workload pair to look up\n';
  else
    out += `  ${(h.workload_pairs ?? []).join('; ')}: before the range ${n(h.forwarded_before)} forwarded, ${n(h.dropped_before)} dropped; last forwarded ${when(h.last_forwarded)}, first dropped ${when(h.first_dropped)}\n`;
  return out;
}
