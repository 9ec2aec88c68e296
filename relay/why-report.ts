// `why` — "why can't A reach B?" — as a report: the request checked and turned into a storage
// question, and the evidence storage returns (storage/why.ts) turned into a verdict, the
// sections a person reads top to bottom and one finding per problem, each with its next steps
// in the runbook's style. Pure functions: the relay's Why method, the CLI (exit code, text) and
// the HTTP API all read the same WhyReport.
import type { FlowFilter, Timestamp, WhyFinding, WhyReport, WhyRequest, Workload } from '../proto/types.js';
import { TrafficDirection, Verdict, WhyVerdict } from '../proto/types.js';
import { enumName, enums } from '../proto/index.js';
import { dropReasonText, policyMatchTypeText, traceObservationPointText } from '../proto/monitor-api.js';
import { FilterError, validateFlowFilters } from '../filters/index.js';
import { checkPairFilter, endpointOnly } from '../filters/sides.js';
import type { WhyEvidence, WhyQuery } from '../storage/index.js';

export class InvalidWhyRequest extends Error {}

export const WHY_DEFAULT_LIMIT = 20;
export const WHY_MAX_LIMIT = 200;
/** Longest range one question may cover (the raw flows are read, not the rollup). */
export const WHY_MAX_RANGE_MS = 7 * 24 * 3600_000;

const POLICY_DENIED = 133,
  POLICY_DENY = 181,
  FRAG_NEEDED = 136;

function tsNs(t: Timestamp | undefined, name: string): bigint | undefined {
  if (t === undefined || t === null) return undefined;
  const s = t.seconds ?? 0,
    n = t.nanos ?? 0;
  if (!Number.isInteger(s) || !Number.isInteger(n) || n < 0 || n >= 1e9 || s < 0 || s > 253402300799) throw new InvalidWhyRequest(`invalid ${name} timestamp`);
  return BigInt(s) * 1_000_000_000n + BigInt(n);
}

export function nsToTimestamp(ns: bigint): Timestamp {
  return { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}
const opt = (ns: bigint | null): Timestamp | undefined => (ns === null ? undefined : nsToTimestamp(ns));

/** The request as a storage question, or InvalidWhyRequest naming what is wrong. */
export function whyQuery(req: WhyRequest, nowMs = Date.now()): WhyQuery {
  const pair = req.pair ?? {};
  try {
    checkPairFilter(pair);
    validateFlowFilters([pair]);
  } catch (err) {
    if (err instanceof FilterError) throw new InvalidWhyRequest(err.message);
    throw err;
  }
  const sinceNs = tsNs(req.since, 'since');
  if (sinceNs === undefined) throw new InvalidWhyRequest('since is required');
  const untilNs = tsNs(req.until, 'until') ?? BigInt(nowMs) * 1_000_000n;
  if (sinceNs >= untilNs) throw new InvalidWhyRequest('since must be before until');
  if (untilNs - sinceNs > BigInt(WHY_MAX_RANGE_MS) * 1_000_000n) throw new InvalidWhyRequest('the range may cover at most 7 days');
  const limit = req.limit ?? 0;
  if (!Number.isInteger(limit) || limit < 0 || limit > WHY_MAX_LIMIT) throw new InvalidWhyRequest(`limit must be between 0 and ${WHY_MAX_LIMIT}`);
  const names = (pair.destination_fqdn ?? []).filter((n) => !n.includes('*'));
  return { pair, sinceNs, untilNs, names, limit: limit || WHY_DEFAULT_LIMIT };
}

// ---- describing the pair and the observe commands that show the evidence ----

type Side = 'source' | 'destination';
/** FlowFilter field suffix, `observe` flag suffix, label in descriptions. */
const SIDE_FLAGS: readonly [string, string, string][] = [
  ['pod', 'pod', 'pod'],
  ['workload', 'workload', 'workload'],
  ['service', 'service', 'service'],
  ['fqdn', 'fqdn', 'FQDN'],
  ['ip', 'ip', 'IP'],
  ['label', 'label', 'label'],
  ['cluster_name', 'cluster', 'cluster'],
  ['identity', 'identity', 'identity'],
];

function workloadText(w: Workload): string {
  return w.kind ? `${w.kind}/${w.name ?? ''}` : (w.name ?? '');
}

function sideValues(pair: FlowFilter, side: Side): [string, string, string[]][] {
  const out: [string, string, string[]][] = [];
  for (const [field, flag, label] of SIDE_FLAGS) {
    const v = (pair as Record<string, unknown>)[`${side}_${field}`] as unknown[] | undefined;
    if (!v || v.length === 0) continue;
    out.push([flag, label, v.map((x) => (typeof x === 'object' ? workloadText(x as Workload) : String(x)))]);
  }
  return out;
}

/** "pod shop/frontend-…", "namespace shop", "workload cart port 7070" — how a side was asked. */
export function describeSide(pair: FlowFilter, side: Side): string {
  const parts = sideValues(pair, side).map(([, label, vals]) => {
    // A pod prefix ending in "/" is a whole namespace (from --namespace).
    if (label === 'pod' && vals.every((v) => v.endsWith('/'))) return `namespace ${vals.map((v) => v.slice(0, -1)).join(' or ')}`;
    return `${label} ${vals.join(' or ')}`;
  });
  if (side === 'destination') {
    if (pair.destination_port?.length) parts.push(`port ${pair.destination_port.join(' or ')}`);
    if (pair.protocol?.length) parts.push(`protocol ${pair.protocol.join(' or ')}`);
  }
  return parts.join(', ');
}

const SAFE = /^[A-Za-z0-9_./:=@,+%-]+$/;
function shellQuote(s: string): string {
  return SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function rfc3339(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** A `flowscope observe` command over the range: A → B (`fwd`), B → A (`rev`), or A alone
 * in either direction (`a`), plus extra flags. */
export function observeCommand(pair: FlowFilter, q: { sinceNs: bigint; untilNs: bigint }, which: 'fwd' | 'rev' | 'a', extra: string[] = []): string {
  const args = ['flowscope', 'observe', '--since', rfc3339(q.sinceNs), '--until', rfc3339(q.untilNs + 1_000_000n)];
  const add = (side: Side, prefix: string) => {
    for (const [flag, , vals] of sideValues(pair, side)) for (const v of vals) args.push(`--${prefix}${flag}`, shellQuote(v));
  };
  if (which === 'a') add('source', '');
  else {
    add(which === 'fwd' ? 'source' : 'destination', 'from-');
    add(which === 'fwd' ? 'destination' : 'source', 'to-');
    for (const p of pair.destination_port ?? []) args.push(which === 'fwd' ? '--to-port' : '--from-port', p);
  }
  for (const p of pair.protocol ?? []) args.push('--protocol', shellQuote(p));
  return [...args, ...extra].join(' ');
}

// ---- report ----

function dropName(code: number): string {
  return enumName(enums.DropReason, code) ?? String(code);
}
function directionName(td: number): string {
  return enumName(enums.TrafficDirection, td) ?? String(td);
}

const ICMP_MEANING_V4: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed (path MTU)',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};
const ICMP_MEANING_V6: Record<string, string> = {
  '1:0': 'no route to destination',
  '1:1': 'administratively prohibited',
  '1:3': 'address unreachable',
  '1:4': 'port unreachable',
};
function icmpMeaning(v6: boolean, type: number, code: number): string {
  if (v6) return type === 2 ? 'packet too big (path MTU)' : (ICMP_MEANING_V6[`${type}:${code}`] ?? `destination unreachable (code ${code})`);
  return ICMP_MEANING_V4[code] ?? `destination unreachable (code ${code})`;
}
const isMtu = (v6: boolean, type: number, code: number) => (v6 ? type === 2 : type === 3 && code === 4);

function shortTime(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };

/** Namespace of a side when the question names one (pods "ns/name", workloads in ns-prefixed pods). */
function namespaceOf(pair: FlowFilter, side: Side): string {
  const pods = (side === 'source' ? pair.source_pod : pair.destination_pod) ?? [];
  const svc = (side === 'source' ? pair.source_service : pair.destination_service) ?? [];
  for (const v of [...pods, ...svc]) if (v.includes('/')) return v.slice(0, v.indexOf('/'));
  return '<namespace>';
}
/** Something `kubectl exec` takes for a side: its pod, else its workload (deploy/cart). */
function podOf(pair: FlowFilter, side: Side): string {
  const pods = (side === 'source' ? pair.source_pod : pair.destination_pod) ?? [];
  const p = pods.find((v) => v.includes('/') && !v.endsWith('/'));
  if (p) return p.slice(p.indexOf('/') + 1);
  const w = (side === 'source' ? pair.source_workload : pair.destination_workload)?.find((x) => x.name);
  return w ? `${w.kind ? w.kind.toLowerCase() : 'deploy'}/${w.name}` : '<pod>';
}
function nodeArg(nodes: string[]): string {
  // Node names are stored as "<cluster>/<node>"; kubectl wants the node alone.
  const n = nodes[0];
  return n ? n.slice(n.lastIndexOf('/') + 1) : '<node>';
}
function ciliumCmd(nodes: string[], cmd: string): string {
  // `kubectl exec` takes no field selector: name the agent pod of the node first.
  const node = nodeArg(nodes);
  return `kubectl -n kube-system exec $(kubectl -n kube-system get pod -l k8s-app=cilium --field-selector spec.nodeName=${node} -o name) -- ${cmd}`;
}

/** The report for the evidence of one question. */
export function buildWhyReport(q: WhyQuery, ev: WhyEvidence): WhyReport {
  const pair = q.pair;
  const src = describeSide(pair, 'source'),
    dst = describeSide(pair, 'destination');
  const findings: WhyFinding[] = [];
  const add = (f: WhyFinding) => findings.push(f);
  const srcNs = namespaceOf(pair, 'source'),
    dstNs = namespaceOf(pair, 'destination');
  const srcPod = podOf(pair, 'source'),
    dstPod = podOf(pair, 'destination');

  // Policy: verdict events, plus policy drops for datapaths that do not emit verdict events.
  const fwdPolicy = ev.policy.filter((p) => !p.reverse);
  const deniedEvents = fwdPolicy.filter((p) => p.verdict === Verdict.DROPPED).reduce((s, p) => s + p.events, 0);
  const allowedEvents = fwdPolicy.filter((p) => p.verdict === Verdict.FORWARDED || p.verdict === Verdict.AUDIT).reduce((s, p) => s + p.events, 0);
  const policyDrops = ev.drops.filter((d) => d.dropReason === POLICY_DENIED || d.dropReason === POLICY_DENY);
  const otherDrops = ev.drops.filter((d) => !(d.dropReason === POLICY_DENIED || d.dropReason === POLICY_DENY));
  const firstDenied = [
    ...fwdPolicy.filter((p) => p.verdict === Verdict.DROPPED).map((p) => p.firstNs),
    ...policyDrops.filter((d) => !d.reverse).map((d) => d.firstNs),
  ].reduce<bigint | null>((m, t) => (m === null || t < m ? t : m), null);

  const policyVerdicts = ev.policy.map((p) => {
    const egress = p.trafficDirection === TrafficDirection.EGRESS;
    const sender = p.reverse ? 'destination' : 'source',
      receiver = p.reverse ? 'source' : 'destination';
    return {
      reverse: p.reverse,
      verdict: p.verdict,
      traffic_direction: p.trafficDirection,
      enforced_by:
        p.trafficDirection === TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN ? 'unknown' : egress ? `${sender}'s egress policy` : `${receiver}'s ingress policy`,
      match_type: policyMatchTypeText(p.matchType),
      drop_reason: p.dropReason,
      node: p.node,
      events: p.events,
      first_seen: nsToTimestamp(p.firstNs),
      last_seen: nsToTimestamp(p.lastNs),
      observe_command: observeCommand(pair, q, p.reverse ? 'rev' : 'fwd', [
        '--type',
        'policy-verdict',
        '--verdict',
        enumName(enums.Verdict, p.verdict) ?? String(p.verdict),
        '--traffic-direction',
        egress ? 'egress' : 'ingress',
      ]),
    };
  });

  const deniedGroups = new Map<string, { events: number; egress: boolean; reverse: boolean; nodes: Set<string>; first: bigint; last: bigint }>();
  const deny = (reverse: boolean, egress: boolean, events: number, node: string, first: bigint, last: bigint) => {
    const k = `${reverse}|${egress}`;
    const g = deniedGroups.get(k) ?? { events: 0, egress, reverse, nodes: new Set<string>(), first, last };
    g.events += events;
    g.nodes.add(node);
    if (first < g.first) g.first = first;
    if (last > g.last) g.last = last;
    deniedGroups.set(k, g);
  };
  for (const p of ev.policy.filter((x) => x.verdict === Verdict.DROPPED))
    deny(p.reverse, p.trafficDirection === TrafficDirection.EGRESS, p.events, p.node, p.firstNs, p.lastNs);
  // Without verdict events, the policy drops say the same (their direction tells the side).
  if (deniedGroups.size === 0)
    for (const d of policyDrops) deny(d.reverse, d.trafficDirection !== TrafficDirection.INGRESS, d.flows, d.node, d.firstNs, d.lastNs);
  for (const g of deniedGroups.values()) {
    const from = g.reverse ? dst : src,
      to = g.reverse ? src : dst;
    const ns = g.egress ? (g.reverse ? dstNs : srcNs) : g.reverse ? srcNs : dstNs;
    const side = g.egress ? `the egress policy of ${from}` : `the ingress policy of ${to}`;
    add({
      kind: 'policy-denied',
      severity: 'error',
      summary: `${g.events} flow(s) ${g.reverse ? 'back from' : 'to'} ${g.reverse ? src : dst} denied by ${side} (${[...g.nodes].join(', ')}), ${shortTime(g.first)} – ${shortTime(g.last)}`,
      next_steps: [
        `Policies that select the ${g.egress ? 'sender' : 'receiver'}: kubectl get cnp,ccnp,netpol -n ${ns} -o wide`,
        `The rule that decided: ${ciliumCmd([...g.nodes], 'cilium-dbg monitor --type policy-verdict')} (while retrying), or cilium-dbg policy selectors`,
        `Recent policy changes: kubectl get cnp,netpol -A --sort-by=.metadata.creationTimestamp`,
      ],
      observe_command: observeCommand(pair, q, g.reverse ? 'rev' : 'fwd', ['--type', 'policy-verdict', '--verdict', 'DROPPED']),
    });
  }
  // A policy that changed: traffic was forwarded before, denied since (range or rollup history).
  const lastFwdNs = ev.forward.lastForwardedNs;
  const lastFwdHistNs = ev.history.lastForwardedMs !== null ? BigInt(ev.history.lastForwardedMs) * 1_000_000n : null;
  const lastAllowed = lastFwdNs ?? lastFwdHistNs;
  if (firstDenied !== null && lastAllowed !== null) {
    const stillForwarded = lastFwdNs !== null && lastFwdNs > firstDenied;
    if (!stillForwarded && (ev.history.forwardedBefore > 0 || (lastFwdNs !== null && lastFwdNs < firstDenied))) {
      add({
        kind: 'policy-change',
        severity: 'warning',
        summary: `${src} → ${dst} was forwarded until ${shortTime(lastAllowed)} and is denied since ${shortTime(firstDenied)}: a policy changed in between`,
        next_steps: [
          `Policies created or changed around ${shortTime(firstDenied)}: kubectl get cnp,ccnp,netpol -A --sort-by=.metadata.creationTimestamp`,
          `The endpoint's policy revision: ${ciliumCmd(ev.path.sourceNodes, 'cilium-dbg endpoint list')}`,
        ],
        observe_command: observeCommand(pair, q, 'fwd', ['--verdict', 'DROPPED']),
      });
    }
  }

  // Other drops, by reason.
  for (const d of otherDrops) {
    const name = d.kernelReason || dropName(d.dropReason);
    const text = d.kernelReason ? d.kernelReason : dropReasonText(d.dropReason);
    const mtu = !d.kernelReason && d.dropReason === FRAG_NEEDED;
    const steps: string[] = [];
    if (mtu) {
      steps.push(`Compare the MTUs: ${ciliumCmd([d.node], 'cilium-dbg status --verbose')} (MTU, tunnel), and ip link on node ${nodeArg([d.node])}`);
      steps.push('Cilium sets the pod MTU from the node device minus tunnel overhead (50 bytes VXLAN, 50+ Geneve): check the cilium-config "mtu" value');
    } else if (d.kernelReason === 'NO_SOCKET') {
      steps.push(`Nothing listens on the port: kubectl exec -n ${dstNs} ${dstPod} -- ss -ltn`);
      steps.push(`The service's target port against the container port: kubectl get svc,endpointslices -n ${dstNs} -o wide`);
    } else if (d.dropReason === 158) {
      steps.push(`The service has no ready backend: kubectl get endpointslices -n ${dstNs} -o wide; kubectl get pods -n ${dstNs} -o wide`);
    } else if (d.dropReason === 155) {
      steps.push(
        `Conntrack map pressure on ${nodeArg([d.node])}: ${ciliumCmd([d.node], 'cilium-dbg bpf ct list global | wc -l')}; raise bpf-ct-global-tcp-max / -any-max`,
      );
    } else if (d.dropReason === 151) {
      steps.push(`The address belongs to no live endpoint: ${ciliumCmd([d.node], 'cilium-dbg endpoint list')}; kubectl get pods -A -o wide | grep <ip>`);
    } else {
      steps.push(`Watch it happen on the node: ${ciliumCmd([d.node], 'cilium-dbg monitor --type drop')}`);
    }
    add({
      kind: mtu ? 'mtu' : d.reverse ? 'reverse-drops' : 'drops',
      severity: 'error',
      summary: `${d.flows} ${d.reverse ? 'B → A (reply) ' : ''}flow(s) dropped: ${text} (${name}) on ${d.node || 'an unknown node'}${d.trafficDirection ? `, ${directionName(d.trafficDirection).toLowerCase()}` : ''}, ${shortTime(d.firstNs)} – ${shortTime(d.lastNs)}`,
      next_steps: steps,
      observe_command: observeCommand(pair, q, d.reverse ? 'rev' : 'fwd', [
        '--verdict',
        'DROPPED',
        ...(d.kernelReason
          ? ['--kernel-drop-reason', d.kernelReason]
          : enumName(enums.DropReason, d.dropReason)
            ? ['--drop-reason-desc', dropName(d.dropReason)]
            : []),
      ]),
    });
  }

  // Transport.
  const hs = ev.handshake;
  if (hs.refused > 0) {
    add({
      kind: 'refused',
      severity: 'error',
      summary: `${hs.refused} of ${hs.synConnections} connection(s) refused: ${dst} answered the SYN with RST (nothing listens on the port)`,
      next_steps: [
        `Is the process listening? kubectl exec -n ${dstNs} ${dstPod} -- ss -ltn`,
        `Service port → target port → containerPort: kubectl get svc,endpointslices -n ${dstNs} -o wide; kubectl get pod -n ${dstNs} ${dstPod} -o jsonpath='{.spec.containers[*].ports}'`,
        `Restarts or a failing readiness probe: kubectl describe pod -n ${dstNs} ${dstPod}`,
      ],
      observe_command: observeCommand(pair, q, 'rev', ['--tcp-flags', 'RST']),
    });
  }
  if (hs.unanswered > 0) {
    const unobserved = ev.path.destinationNodes.length === 0;
    add({
      kind: 'unanswered',
      severity: 'error',
      summary: `${hs.unanswered} of ${hs.synConnections} connection(s) got no answer: SYN${hs.synPackets > hs.synConnections ? `s retransmitted (${hs.synPackets} SYNs)` : ''} without SYN-ACK or RST${hs.firstUnansweredNs !== null ? `, ${shortTime(hs.firstUnansweredNs)} – ${shortTime(hs.lastUnansweredNs!)}` : ''}`,
      next_steps: [
        unobserved
          ? "The destination's node sent no flows for this pair: is a collector running there? flowscope list nodes"
          : `Drops on the destination's node: ${ciliumCmd(ev.path.destinationNodes, 'cilium-dbg monitor --type drop')}`,
        `Is the pod running and ready? kubectl get pod -n ${dstNs} -o wide; a host firewall or a node route: ip route get <pod-ip> on node ${nodeArg(ev.path.sourceNodes)}`,
        `Node-to-node connectivity: ${ciliumCmd(ev.path.sourceNodes, 'cilium-health status')}`,
      ],
      observe_command: observeCommand(pair, q, 'fwd', ['--tcp-flags', 'SYN']),
    });
  }
  for (const e of ev.icmpErrors) {
    const mtu = isMtu(e.v6, e.type, e.code);
    add({
      kind: mtu ? 'mtu' : 'icmp-unreachable',
      severity: mtu ? 'error' : 'warning',
      summary: `${e.count} ICMP${e.v6 ? 'v6' : ''} ${icmpMeaning(e.v6, e.type, e.code)} from ${e.from} (${e.fromDestination ? 'the destination' : 'on the path'}) to the source, seen on ${e.node}`,
      next_steps: mtu
        ? [
            `Path MTU: the source sends packets larger than a link on the way carries. ${ciliumCmd([e.node], 'cilium-dbg status --verbose')} shows the device and tunnel MTU`,
            'Check the node NICs (ip link) and the cilium-config "mtu"; tunnelled traffic needs 50 bytes of headroom',
          ]
        : [`Who sent it and why: ${ciliumCmd([e.node], 'cilium-dbg monitor')}`, `Routes on node ${nodeArg([e.node])}: ip route`],
      observe_command: observeCommand({ ...pair, destination_port: undefined, protocol: undefined }, q, 'a', ['--protocol', e.v6 ? 'icmpv6' : 'icmp']),
    });
  }

  // DNS.
  const related = ev.dns.filter((d) => d.related);
  const dnsCmd = observeCommand(pair, q, 'a', ['--type', 'l7', '--port', '53']);
  for (const d of related) {
    if (d.nxdomain > 0)
      add({
        kind: 'dns-nxdomain',
        severity: d.noError === 0 ? 'error' : 'warning',
        summary: `${d.query}: ${d.nxdomain} of ${d.responses} answer(s) NXDOMAIN (no such name)`,
        next_steps: [
          `Does the service exist under that name? kubectl get svc -A | grep ${d.query.split('.')[0]}`,
          `Resolve it from the source: kubectl exec -n ${srcNs} ${srcPod} -- nslookup ${d.query}`,
        ],
        observe_command: dnsCmd,
      });
    if (d.servfail > 0 || d.otherErrors > 0)
      add({
        kind: 'dns-servfail',
        severity: 'error',
        summary: `${d.query}: ${d.servfail + d.otherErrors} of ${d.responses} answer(s) failed (SERVFAIL or another error)`,
        next_steps: [
          'The cluster DNS and its upstream: kubectl logs -n kube-system -l k8s-app=kube-dns',
          'kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide',
        ],
        observe_command: dnsCmd,
      });
    if (d.unanswered > 0)
      add({
        kind: 'dns-timeout',
        severity: 'error',
        summary: `${d.query}: ${d.unanswered} of ${d.requests} lookup(s) got no response`,
        next_steps: [
          `Drops towards the cluster DNS: flowscope observe --from-namespace ${srcNs} --to-namespace kube-system --to-port 53 --verdict DROPPED`,
          'kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide; kubectl logs -n kube-system -l k8s-app=kube-dns',
        ],
        observe_command: dnsCmd,
      });
    if (d.noError > 0 && d.answersWithDestination === 0 && ev.destinationAddresses.length > 0 && d.answers.length > 0)
      add({
        kind: 'dns-other-answer',
        severity: 'warning',
        summary: `${d.query} resolved to ${d.answers.join(', ')}, none of which the source used for ${dst} (${ev.destinationAddresses.join(', ')})`,
        next_steps: [`A stale cache or another service of that name: kubectl get svc,endpointslices -n ${dstNs} -o wide`],
        observe_command: dnsCmd,
      });
  }
  const otherFailing = ev.dns.filter((d) => !d.related && (d.nxdomain > 0 || d.servfail > 0 || d.otherErrors > 0 || d.unanswered > 0));
  // Without any flow to B, one of these may be B under the name the source really uses.
  if (otherFailing.length > 0 && ev.forward.flows === 0) {
    add({
      kind: 'dns-source-failures',
      severity: 'info',
      summary: `Other lookups of the source failed: ${otherFailing
        .slice(0, 5)
        .map(
          (d) =>
            `${d.query} (${[d.nxdomain && `${d.nxdomain} NXDOMAIN`, d.servfail + d.otherErrors && `${d.servfail + d.otherErrors} SERVFAIL/error`, d.unanswered && `${d.unanswered} unanswered`].filter(Boolean).join(', ')})`,
        )
        .join('; ')}`,
      next_steps: ['If one of these is the destination under another name, ask again with --to-fqdn <name>'],
      observe_command: dnsCmd,
    });
  }

  // Where they run.
  const sn = ev.path.sourceNodes,
    dn = ev.path.destinationNodes;
  // Several pods on either side may be both: some on the same node, others reached through the
  // overlay.
  const shared = sn.some((n) => dn.includes(n));
  const placement =
    sn.length > 0 && dn.length > 0
      ? shared && (ev.path.overlayEvents > 0 || sn.length > 1 || dn.length > 1)
        ? 'same node and cross node'
        : shared
          ? 'same node'
          : 'cross node'
      : ev.path.overlayEvents > 0
        ? 'cross node'
        : 'unknown';
  if (ev.forward.flows > 0 && dn.length === 0 && ev.reverse.flows === 0 && hs.unanswered === 0)
    add({
      kind: 'destination-unobserved',
      severity: 'warning',
      summary: `No flow was seen on the destination's node: the flows show only the source's side`,
      next_steps: ['Is a collector running on the destination node? flowscope list nodes; flowscope status'],
      observe_command: observeCommand(pair, q, 'fwd'),
    });

  // Verdict.
  const tried = ev.forward.flows > 0 || deniedEvents > 0;
  const failedConns = hs.refused + hs.unanswered;
  // Over TCP, getting through means a connection was accepted; SYNs forwarded into a closed or
  // silent port are no success.
  const tcpFailed = hs.synConnections > 0 && hs.synAckConnections === 0 && failedConns > 0;
  // Denied since some point and never forwarded after it: blocked now, whatever came before.
  const deniedSince = firstDenied !== null && (lastFwdNs === null || lastFwdNs < firstDenied);
  const succeeded = ev.forward.forwarded > 0 && !tcpFailed && !deniedSince;
  const problems = findings.some((f) => f.severity === 'error' || f.severity === 'warning');
  let verdict: number;
  if (!tried) verdict = WhyVerdict.NO_TRAFFIC;
  else if (!succeeded) verdict = WhyVerdict.BLOCKED;
  else if (problems || ev.forward.dropped > 0 || failedConns > 0) verdict = WhyVerdict.PARTLY_FAILING;
  else verdict = WhyVerdict.REACHABLE;

  if (verdict === WhyVerdict.NO_TRAFFIC)
    add({
      kind: 'no-traffic',
      severity: 'error',
      summary: `No flow from ${src} to ${dst} in the range${related.length > 0 ? ' (see the DNS findings: the source may never have found it)' : ''}`,
      next_steps: [
        `Is the source sending at all? ${observeCommand(endpointOnly(pair, 'source'), q, 'fwd', ['--last', '20'])}`,
        'Are the names right? flowscope list namespaces; flowscope list nodes (are the nodes of both ends observed?)',
      ],
      observe_command: observeCommand(pair, q, 'fwd'),
    });
  if (verdict === WhyVerdict.REACHABLE)
    add({
      kind: 'reachable',
      severity: 'info',
      summary: `${ev.forward.forwarded} flow(s) forwarded, ${hs.synAckConnections} connection(s) accepted, nothing dropped`,
      next_steps: ['If the application still fails, look above the network: kubectl logs, the HTTP status codes (flowscope observe --type l7)'],
      observe_command: observeCommand(pair, q, 'fwd'),
    });
  findings.sort((a, b) => SEVERITY_ORDER[a.severity!] - SEVERITY_ORDER[b.severity!]);

  // The line a person reads first: the most severe finding.
  const summary = findings[0]?.summary ?? '';

  return {
    verdict,
    summary,
    source: src,
    destination: dst,
    since: nsToTimestamp(q.sinceNs),
    until: nsToTimestamp(q.untilNs),
    forward: direction(ev.forward),
    reverse: direction(ev.reverse),
    drops: ev.drops.map((d) => ({
      reverse: d.reverse,
      drop_reason: d.dropReason,
      drop_reason_text: d.kernelReason ? d.kernelReason : dropReasonText(d.dropReason),
      kernel_drop_reason: d.kernelReason,
      traffic_direction: d.trafficDirection,
      observation_point: d.observationPoint >= 0 ? traceObservationPointText(d.observationPoint) : '',
      node: d.node,
      flows: d.flows,
      first_seen: nsToTimestamp(d.firstNs),
      last_seen: nsToTimestamp(d.lastNs),
      observe_command: observeCommand(pair, q, d.reverse ? 'rev' : 'fwd', [
        '--verdict',
        'DROPPED',
        ...(d.kernelReason
          ? ['--kernel-drop-reason', d.kernelReason]
          : enumName(enums.DropReason, d.dropReason)
            ? ['--drop-reason-desc', dropName(d.dropReason)]
            : []),
      ]),
    })),
    policy: {
      verdicts: policyVerdicts,
      denied: deniedEvents,
      allowed: allowedEvents,
      forwarded_in_range: ev.forward.forwarded > 0,
      last_forwarded: opt(ev.forward.lastForwardedNs),
      first_denied: opt(firstDenied),
    },
    dns: {
      destination_names: ev.destinationNames,
      destination_addresses: ev.destinationAddresses,
      names: ev.dns.map((d) => ({
        query: d.query,
        related: d.related,
        requests: d.requests,
        responses: d.responses,
        unanswered: d.unanswered,
        no_error: d.noError,
        nxdomain: d.nxdomain,
        servfail: d.servfail,
        other_errors: d.otherErrors,
        answers_with_destination: d.answersWithDestination,
        answers: d.answers,
        first_seen: nsToTimestamp(d.firstNs),
        last_seen: nsToTimestamp(d.lastNs),
      })),
    },
    transport: {
      syn_connections: hs.synConnections,
      syn_ack_connections: hs.synAckConnections,
      unanswered_connections: hs.unanswered,
      refused_connections: hs.refused,
      rst_from_destination: hs.rstFromDestination,
      rst_from_source: hs.rstFromSource,
      syn_packets: hs.synPackets,
      first_unanswered: opt(hs.firstUnansweredNs),
      last_unanswered: opt(hs.lastUnansweredNs),
      icmp_errors: ev.icmpErrors.map((e) => ({
        family: e.v6 ? 'ICMPv6' : 'ICMPv4',
        type: e.type,
        code: e.code,
        meaning: icmpMeaning(e.v6, e.type, e.code),
        from: e.from,
        from_destination: e.fromDestination,
        node: e.node,
        count: e.count,
        first_seen: nsToTimestamp(e.firstNs),
        last_seen: nsToTimestamp(e.lastNs),
      })),
    },
    path: { source_nodes: sn, destination_nodes: dn, placement, tunnel: ev.path.overlayEvents > 0, overlay_events: ev.path.overlayEvents },
    history: {
      from: nsToTimestamp(BigInt(ev.history.fromMs) * 1_000_000n),
      until: nsToTimestamp(BigInt(ev.history.untilMs) * 1_000_000n),
      workload_pairs: ev.history.pairs.map((p) => `${p.srcNamespace}/${p.srcWorkload} → ${p.dstNamespace}/${p.dstWorkload}`),
      forwarded_before: ev.history.forwardedBefore,
      dropped_before: ev.history.droppedBefore,
      last_forwarded: ev.history.lastForwardedMs !== null ? nsToTimestamp(BigInt(ev.history.lastForwardedMs) * 1_000_000n) : undefined,
      first_dropped: ev.history.firstDroppedMs !== null ? nsToTimestamp(BigInt(ev.history.firstDroppedMs) * 1_000_000n) : undefined,
    },
    findings,
  };
}

function direction(d: WhyEvidence['forward']) {
  return {
    flows: d.flows,
    forwarded: d.forwarded,
    dropped: d.dropped,
    error: d.error,
    audit: d.audit,
    replies: d.replies,
    first_seen: opt(d.firstNs),
    last_seen: opt(d.lastNs),
    last_forwarded: opt(d.lastForwardedNs),
    first_dropped: opt(d.firstDroppedNs),
  };
}

/** `flowscope why` exits 0 only when B is reachable. */
export function whyExitCode(verdict: number | string | undefined): number {
  return verdict === WhyVerdict.REACHABLE || verdict === 'REACHABLE' ? 0 : 1;
}
