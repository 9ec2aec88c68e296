// The report logic of `why` over hand-made evidence: verdicts, findings and their next steps,
// request validation, exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWhyReport, describeSide, InvalidWhyRequest, observeCommand, whyExitCode, whyQuery } from './why-report.js';
import type { WhyEvidence, WhyQuery } from '../storage/index.js';
import { WhyVerdict, type WhyRequest } from '../proto/types.js';

const S = 1_000_000_000n;
const T0 = 1_800_000_000n * S;
const q: WhyQuery = {
  pair: { source_pod: ['shop/frontend-abc'], destination_pod: ['shop/cart-xyz'], destination_port: ['7070'] },
  sinceNs: T0,
  untilNs: T0 + 3600n * S,
  limit: 20,
};

function dir(over: Partial<WhyEvidence['forward']> = {}): WhyEvidence['forward'] {
  return {
    flows: 0,
    forwarded: 0,
    dropped: 0,
    error: 0,
    audit: 0,
    replies: 0,
    firstNs: null,
    lastNs: null,
    lastForwardedNs: null,
    firstDroppedNs: null,
    ...over,
  };
}

function evidence(over: Partial<WhyEvidence> = {}): WhyEvidence {
  return {
    forward: dir(),
    reverse: dir(),
    drops: [],
    policy: [],
    handshake: {
      synConnections: 0,
      synAckConnections: 0,
      unanswered: 0,
      firstUnansweredNs: null,
      lastUnansweredNs: null,
      rstFromDestination: 0,
      rstFromSource: 0,
      refused: 0,
      synPackets: 0,
    },
    icmpErrors: [],
    dns: [],
    destinationNames: [],
    destinationAddresses: [],
    path: { sourceNodes: ['c/n1'], destinationNodes: ['c/n2'], overlayEvents: 4 },
    history: { fromMs: 0, untilMs: 1, pairs: [], forwardedBefore: 0, droppedBefore: 0, lastForwardedMs: null, firstDroppedMs: null },
    ...over,
  };
}
const kinds = (r: ReturnType<typeof buildWhyReport>) => (r.findings ?? []).map((f) => f.kind);

test('no flow at all is NO_TRAFFIC (exit 1), and says where to look', () => {
  const r = buildWhyReport(q, evidence({ path: { sourceNodes: [], destinationNodes: [], overlayEvents: 0 } }));
  assert.equal(r.verdict, WhyVerdict.NO_TRAFFIC);
  assert.deepEqual(kinds(r), ['no-traffic']);
  assert.equal(r.path!.placement, 'unknown');
  assert.equal(whyExitCode(r.verdict), 1);
  assert.match(r.findings![0].next_steps![0], /flowscope observe .*--from-pod shop\/frontend-abc .*--last 20$/);
});

test('accepted connections and no drops are REACHABLE (exit 0)', () => {
  const r = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 30, forwarded: 30, lastForwardedNs: T0 + 10n * S }),
      reverse: dir({ flows: 20, forwarded: 20, replies: 20 }),
      handshake: { ...evidence().handshake, synConnections: 10, synAckConnections: 10 },
    }),
  );
  assert.equal(r.verdict, WhyVerdict.REACHABLE);
  assert.deepEqual(kinds(r), ['reachable']);
  assert.equal(r.path!.placement, 'cross node');
  assert.equal(r.path!.tunnel, true);
  assert.equal(whyExitCode(r.verdict), 0);
  assert.equal(whyExitCode('REACHABLE'), 0);
  assert.equal(whyExitCode('PARTLY_FAILING'), 1);
});

test('SYNs forwarded into a closed port are BLOCKED, not reachable', () => {
  const r = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 10, forwarded: 10 }),
      handshake: { ...evidence().handshake, synConnections: 5, refused: 5, rstFromDestination: 5 },
    }),
  );
  assert.equal(r.verdict, WhyVerdict.BLOCKED);
  assert.deepEqual(kinds(r), ['refused']);
  assert.match(r.summary!, /5 of 5 connection\(s\) refused/);
  assert.ok(r.findings![0].next_steps!.some((s) => s.includes('kubectl exec -n shop cart-xyz -- ss -ltn')));
  assert.match(r.findings![0].observe_command!, /--from-pod shop\/cart-xyz --to-pod shop\/frontend-abc --from-port 7070 --tcp-flags RST$/);
});

test('some connections failing is PARTLY_FAILING', () => {
  const r = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 10, forwarded: 10, lastForwardedNs: T0 + S }),
      handshake: { ...evidence().handshake, synConnections: 5, synAckConnections: 4, unanswered: 1, firstUnansweredNs: T0, lastUnansweredNs: T0 },
    }),
  );
  assert.equal(r.verdict, WhyVerdict.PARTLY_FAILING);
  assert.deepEqual(kinds(r), ['unanswered']);
});

test('a policy that changed: forwarded until one moment, denied since; egress side named', () => {
  const r = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 20, forwarded: 12, dropped: 8, lastForwardedNs: T0 + 100n * S, firstDroppedNs: T0 + 200n * S }),
      policy: [
        { reverse: false, verdict: 1, trafficDirection: 2, matchType: 2, dropReason: 0, node: 'c/n1', events: 12, firstNs: T0, lastNs: T0 + 100n * S },
        {
          reverse: false,
          verdict: 2,
          trafficDirection: 2,
          matchType: 0,
          dropReason: 133,
          node: 'c/n1',
          events: 8,
          firstNs: T0 + 200n * S,
          lastNs: T0 + 300n * S,
        },
      ],
      drops: [
        {
          reverse: false,
          dropReason: 133,
          kernelReason: '',
          trafficDirection: 2,
          node: 'c/n1',
          observationPoint: -1,
          flows: 8,
          firstNs: T0 + 200n * S,
          lastNs: T0 + 300n * S,
        },
      ],
    }),
  );
  assert.equal(r.verdict, WhyVerdict.BLOCKED, 'denied since, never forwarded after');
  assert.deepEqual(kinds(r), ['policy-denied', 'policy-change']);
  assert.match(r.findings![0].summary!, /^8 flow\(s\) to pod shop\/cart-xyz, port 7070 denied by the egress policy of pod shop\/frontend-abc \(c\/n1\)/);
  assert.match(r.findings![0].next_steps![0], /kubectl get cnp,ccnp,netpol -n shop -o wide/);
  assert.match(r.findings![0].next_steps![1], /--field-selector spec\.nodeName=n1 /);
  assert.match(r.findings![1].summary!, /forwarded until 2027-01-15 08:01:40Z and is denied since 2027-01-15 08:03:20Z/);
  assert.equal(r.policy!.denied, 8);
  assert.equal(r.policy!.allowed, 12);
  assert.equal(r.policy!.verdicts![1].enforced_by, "source's egress policy");
  // Policy drops are not reported a second time as plain drops.
  assert.ok(!kinds(r).includes('drops'));
});

test('a policy change seen only in the rollup: allowed before the range, denied in it', () => {
  const r = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 4, dropped: 4, firstDroppedNs: T0 + 5n * S }),
      drops: [
        {
          reverse: false,
          dropReason: 133,
          kernelReason: '',
          trafficDirection: 1,
          node: 'c/n2',
          observationPoint: -1,
          flows: 4,
          firstNs: T0 + 5n * S,
          lastNs: T0 + 9n * S,
        },
      ],
      history: {
        fromMs: 0,
        untilMs: 1,
        pairs: [],
        forwardedBefore: 500,
        droppedBefore: 0,
        lastForwardedMs: Number((T0 - 60n * S) / 1_000_000n),
        firstDroppedMs: Number(T0 / 1_000_000n),
      },
    }),
  );
  assert.equal(r.verdict, WhyVerdict.BLOCKED);
  assert.deepEqual(kinds(r), ['policy-denied', 'policy-change']);
  // Without verdict events the drop's direction names the side: ingress = the receiver.
  assert.match(r.findings![0].summary!, /denied by the ingress policy of pod shop\/cart-xyz, port 7070/);
});

test('MTU: fragmentation-needed drops and ICMP errors each become an mtu finding', () => {
  const r = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 10, forwarded: 8, dropped: 2, lastForwardedNs: T0 + 9n * S }),
      handshake: { ...evidence().handshake, synConnections: 2, synAckConnections: 2 },
      drops: [
        { reverse: false, dropReason: 136, kernelReason: '', trafficDirection: 2, node: 'c/n1', observationPoint: -1, flows: 2, firstNs: T0, lastNs: T0 + S },
      ],
      icmpErrors: [
        { v6: false, type: 3, code: 4, from: '172.18.0.5', fromDestination: false, node: 'c/n1', count: 2, firstNs: T0, lastNs: T0 + S },
        { v6: true, type: 1, code: 4, from: 'fd00::5', fromDestination: true, node: 'c/n1', count: 1, firstNs: T0, lastNs: T0 },
      ],
    }),
  );
  assert.equal(r.verdict, WhyVerdict.PARTLY_FAILING);
  assert.deepEqual(kinds(r).sort(), ['icmp-unreachable', 'mtu', 'mtu']);
  assert.equal(r.drops![0].drop_reason_text, 'Fragmentation needed');
  assert.equal(r.transport!.icmp_errors![0].meaning, 'fragmentation needed (path MTU)');
  assert.equal(r.transport!.icmp_errors![1].meaning, 'port unreachable');
  assert.ok(r.findings!.find((f) => f.kind === 'mtu')!.next_steps!.some((s) => /MTU/.test(s)));
});

test("DNS: failures of B's names, answers that do not lead to B, other failing lookups when nothing flows", () => {
  const name = (over: Partial<WhyEvidence['dns'][0]>): WhyEvidence['dns'][0] => ({
    query: 'x.',
    related: true,
    requests: 0,
    responses: 0,
    unanswered: 0,
    noError: 0,
    nxdomain: 0,
    servfail: 0,
    otherErrors: 0,
    answersWithDestination: 0,
    answers: [],
    firstNs: T0,
    lastNs: T0,
    ...over,
  });
  const r = buildWhyReport(
    q,
    evidence({
      dns: [
        name({ query: 'cart.shop.svc.cluster.local.', requests: 5, responses: 5, nxdomain: 5 }),
        name({ query: 'cart.', requests: 3, responses: 1, unanswered: 2, servfail: 1 }),
        name({ query: 'typo.shop.svc.cluster.local.', related: false, requests: 2, responses: 2, nxdomain: 2 }),
      ],
    }),
  );
  assert.equal(r.verdict, WhyVerdict.NO_TRAFFIC);
  assert.deepEqual(kinds(r), ['dns-nxdomain', 'dns-servfail', 'dns-timeout', 'no-traffic', 'dns-source-failures']);
  assert.match(r.findings!.find((f) => f.kind === 'dns-source-failures')!.summary!, /typo\.shop\.svc\.cluster\.local\. \(2 NXDOMAIN\)/);
  assert.match(r.findings!.find((f) => f.kind === 'no-traffic')!.summary!, /see the DNS findings/);

  const other = buildWhyReport(
    q,
    evidence({
      forward: dir({ flows: 3, forwarded: 3, lastForwardedNs: T0 }),
      destinationAddresses: ['10.0.0.7'],
      dns: [name({ query: 'cart.shop.svc.cluster.local.', requests: 1, responses: 1, noError: 1, answers: ['10.9.9.9'] })],
    }),
  );
  assert.deepEqual(kinds(other), ['dns-other-answer']);
  assert.equal(other.verdict, WhyVerdict.PARTLY_FAILING);
});

test('requests are validated: both ends, only endpoint fields, a sane range and limit', () => {
  const since = { seconds: 1_700_000_000, nanos: 0 };
  const ok: WhyRequest = { pair: { source_workload: [{ name: 'frontend' }], destination_fqdn: ['*.example.com', 'api.example.com'] }, since };
  const wq = whyQuery(ok, 1_700_000_100_000);
  assert.deepEqual(wq.names, ['api.example.com'], 'patterns are no DNS names');
  assert.equal(wq.limit, 20);
  assert.equal(wq.untilNs, 1_700_000_100_000n * 1_000_000n);
  const bad: Array<[WhyRequest, RegExp]> = [
    [{ since }, /source endpoint is missing/],
    [{ pair: { source_pod: ['a/'] }, since }, /destination endpoint is missing/],
    [{ pair: { source_pod: ['a/'], destination_port: ['80'] }, since }, /destination endpoint is missing/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'], verdict: [2] }, since }, /verdict cannot be used here/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'], source_port: ['80'] }, since }, /source_port cannot be used/],
    [{ pair: { source_pod: ['a/'], destination_ip: ['1.2.3'] }, since }, /invalid IP/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'] } }, /since is required/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'] }, since, until: since }, /since must be before until/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'] }, since: { seconds: 1, nanos: 0 }, until: since }, /at most 7 days/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'] }, since, limit: 201 }, /limit/],
    [{ pair: { source_pod: ['a/'], destination_pod: ['b/'] }, since: { seconds: 1, nanos: 2e9 } }, /invalid since/],
  ];
  for (const [req, re] of bad)
    assert.throws(
      () => whyQuery(req, 1_700_000_100_000),
      (e: Error) => e instanceof InvalidWhyRequest && re.test(e.message),
      JSON.stringify(req),
    );
});

test('the pair described and turned into observe commands', () => {
  const pair = {
    source_pod: ['shop/'],
    source_workload: [{ kind: 'Deployment', name: 'frontend' }],
    destination_service: ['shop/cart'],
    destination_label: ['app in (a, b)'],
    protocol: ['tcp'],
  };
  assert.equal(describeSide(pair, 'source'), 'namespace shop, workload Deployment/frontend');
  assert.equal(describeSide(pair, 'destination'), 'service shop/cart, label app in (a, b), protocol tcp');
  const cmd = observeCommand(pair, { sinceNs: T0, untilNs: T0 + S }, 'fwd', ['--verdict', 'DROPPED']);
  assert.equal(
    cmd,
    "flowscope observe --since 2027-01-15T08:00:00Z --until 2027-01-15T08:00:01.001Z --from-pod shop/ --from-workload Deployment/frontend --to-service shop/cart --to-label 'app in (a, b)' --protocol tcp --verdict DROPPED",
  );
  assert.match(observeCommand(pair, { sinceNs: T0, untilNs: T0 + S }, 'a'), / --pod shop\/ --workload Deployment\/frontend --protocol tcp$/);
});

test('where the ends run: same node, cross node, or both when several pods are involved', () => {
  const at = (sourceNodes: string[], destinationNodes: string[], overlayEvents: number) =>
    buildWhyReport(q, evidence({ path: { sourceNodes, destinationNodes, overlayEvents } })).path!;
  assert.deepEqual(at(['c/n1'], ['c/n1'], 0), {
    source_nodes: ['c/n1'],
    destination_nodes: ['c/n1'],
    placement: 'same node',
    tunnel: false,
    overlay_events: 0,
  });
  assert.equal(at(['c/n1'], ['c/n1'], 3).placement, 'same node and cross node');
  assert.equal(at(['c/n1'], ['c/n1', 'c/n2'], 0).placement, 'same node and cross node');
  assert.equal(at(['c/n1'], ['c/n2'], 0).placement, 'cross node');
  assert.equal(at(['c/n1'], [], 2).placement, 'cross node');
  assert.equal(at([], [], 0).placement, 'unknown');
});
