// `flowscope why` end to end: a relay (chDB) and a synthetic collector as processes, playing the
// node that hosts frontend, cart, db and loadgen with only the scenarios `why` diagnoses turned
// on; then each finding asked for through the CLI (text, -o json, exit codes), the relay's gRPC
// Why method and GET /api/v1/why, and checked against the stored flows themselves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { run, shipSyntheticRecords, startTestRelay, type Proc } from '../../testing/harness.js';
import { ObserverApiClient } from '../client.js';
import { buildApi } from '../http/server.js';
import { buildCluster } from '../../collector/synthetic/cluster.js';
import { DNS_FAIL_NAMES, SYNTHETIC_PATH_MTU } from '../../collector/synthetic/traffic.js';
import { WhyVerdict } from '../../proto/types.js';
import { whyRequest } from '../query/why-selection.js';

const NODE = 3;
const model = buildCluster({ seed: 1, nodes: 4 });
const node = model.nodes[NODE];
const local = (app: string) => model.pods.find((p) => p.app === app && p.node === node.name)!;
const frontend = local('frontend'),
  cart = local('cart'),
  db = model.pods.find((p) => p.app === 'db')!,
  redis = model.pods.find((p) => p.app === 'redis')!;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-why-'));
let server = '';
let relay: Proc;

interface JsonReport {
  verdict: string;
  summary?: string;
  forward?: Record<string, string>;
  reverse?: Record<string, string>;
  drops?: Array<Record<string, string>>;
  policy?: { verdicts?: Array<Record<string, string>>; denied?: string; forwarded_in_range?: boolean };
  dns?: { destination_addresses?: string[]; names?: Array<Record<string, string | boolean | string[]>> };
  transport?: Record<string, string> & { icmp_errors?: Array<Record<string, string | boolean>> };
  path?: { source_nodes?: string[]; destination_nodes?: string[]; placement?: string; tunnel?: boolean };
  findings?: Array<{ kind: string; severity: string; summary: string; next_steps?: string[]; observe_command?: string }>;
}

async function why(args: string[], code: number): Promise<{ text: string; json: JsonReport }> {
  const text = await run(['why', ...args, '--server', server, '--since', '2h'], { timeoutMs: 60_000 });
  assert.equal(text.code, code, `why ${args.join(' ')} → ${text.code}\n${text.stdout}${text.stderr}`);
  const j = await run(['why', ...args, '--server', server, '--since', '2h', '-o', 'json'], { timeoutMs: 60_000 });
  assert.equal(j.code, code, j.stderr);
  return { text: text.stdout, json: JSON.parse(j.stdout) };
}

const kinds = (r: JsonReport) => (r.findings ?? []).map((f) => f.kind);
/** --count stops the source after a number of records, which may cut its last conversation in
 * two: counts of events that come in pairs may differ by that one conversation. */
const closeTo = (a: number, b: number, msg: string) => assert.ok(Math.abs(a - b) <= 1, `${msg}: ${a} vs ${b}`);
const num = (v: string | undefined) => Number(v ?? 0);

/** Runs an observe command a finding printed and returns the flows it shows. */
async function observeFlows(cmd: string): Promise<Array<Record<string, unknown>>> {
  const argv = cmd.split(' ');
  assert.deepEqual(argv.slice(0, 2), ['flowscope', 'observe']);
  // Values in the commands are shell-quoted only when they need it; these need no quoting.
  assert.ok(!cmd.includes("'"), cmd);
  const r = await run([...argv.slice(1), '--server', server, '-o', 'jsonpb'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"flow"'))
    .map((l) => JSON.parse(l).flow);
}

before(async () => {
  ({ server, relay } = await startTestRelay(path.join(dir, 'chdb')));
  // ~9 s of traffic: more than the 5 s at the end of the data whose SYNs and lookups may still
  // be answered (storage/why.ts SETTLE_MS), so unanswered ones are called so.
  await shipSyntheticRecords(server, 9000, [
    '--synthetic-node',
    String(NODE),
    '--l7-dns',
    '--synthetic-weights',
    'http=3,dns=0,policyAllow=0,policyDeny=2,drop=0,icmp=0,world=0,ipv6=0,scrape=0,health=0,inbound=0,refused=2,unanswered=2,mtu=2,dnsFail=2',
  ]);
});

after(async () => {
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('refused: SYN answered by RST, with the DNS answer that pointed there', async () => {
  const { text, json } = await why(['--from-pod', `shop/${frontend.name}`, '--to-workload', 'cart', '--to-namespace', 'shop', '--to-port', '7070'], 1);
  assert.equal(json.verdict, 'BLOCKED');
  assert.equal(json.findings![0].kind, 'refused');
  const t = json.transport!;
  assert.ok(num(t.syn_connections) > 0);
  assert.equal(num(t.refused_connections), num(t.syn_connections));
  assert.equal(num(t.syn_ack_connections), 0);
  // The lookup of cart's service name succeeded, and its answer is the address the SYNs went to.
  const svc = model.services.find((s) => s.name === 'cart')!;
  const cartDns = json.dns!.names!.find((n) => n.query === 'cart.shop.svc.cluster.local.')!;
  assert.equal(cartDns.related, true);
  assert.ok(num(cartDns.answers_with_destination as string) > 0);
  assert.deepEqual(cartDns.answers, [svc.clusterIP]);
  assert.ok(json.dns!.destination_addresses!.includes(svc.clusterIP));
  // The finding's command shows the RSTs themselves.
  const rsts = await observeFlows(json.findings![0].observe_command!);
  assert.ok(rsts.length > 0);
  for (const f of rsts) assert.equal((f.l4 as { TCP: { flags: { RST?: boolean } } }).TCP.flags.RST, true);
  assert.match(text, /^BLOCKED: pod shop\/frontend-\S+ → namespace shop, workload cart, port 7070\n/);
  assert.match(text, /refused: .* answered the SYN with RST/);
  assert.match(text, /→ Is the process listening\? kubectl exec -n shop deploy\/cart -- ss -ltn/);
  assert.equal(json.path!.placement, 'same node and cross node', 'one cart pod is local, the other remote');
});

test('unanswered: SYNs retransmitted without an answer, across nodes through the tunnel', async () => {
  const { json } = await why(['--from-workload', 'frontend', '--from-namespace', 'shop', '--to-pod', `shop/${redis.name}`], 1);
  assert.equal(json.verdict, 'BLOCKED');
  assert.ok(kinds(json).includes('unanswered'));
  const t = json.transport!;
  assert.ok(num(t.unanswered_connections) > 0);
  assert.ok(num(t.unanswered_connections) <= num(t.syn_connections));
  assert.equal(num(t.syn_ack_connections), 0);
  assert.equal(num(t.rst_from_destination), 0);
  closeTo(num(t.syn_packets), 3 * num(t.syn_connections), 'each connection sent three SYNs');
  assert.equal(json.path!.tunnel, true);
  assert.equal(json.path!.placement, 'cross node');
  assert.deepEqual(json.path!.source_nodes, [`${model.cluster}/${node.name}`]);
  assert.deepEqual(json.path!.destination_nodes ?? [], [], "the destination's node has no collector");
  // Nothing answered from redis at all.
  assert.equal(num(json.reverse?.flows), 0);
});

test('mtu: fragmentation-needed drops and the ICMP error on the same node; the handshake itself works', async () => {
  const { text, json } = await why(['--from-pod', `shop/${cart.name}`, '--to-pod', `shop/${db.name}`, '--to-port', '5432'], 1);
  assert.equal(json.verdict, 'PARTLY_FAILING');
  assert.ok(kinds(json).filter((k) => k === 'mtu').length === 2, kinds(json).join(','));
  const drop = json.drops!.find((d) => d.drop_reason_text === 'Fragmentation needed')!;
  assert.ok(num(drop.flows) > 0);
  assert.equal(drop.reverse, undefined, 'A → B');
  const icmp = json.transport!.icmp_errors!.find((e) => e.meaning === 'fragmentation needed (path MTU)')!;
  assert.equal(icmp.from, node.ip);
  assert.equal(icmp.from_destination, undefined, 'from the path, not from db');
  closeTo(num(icmp.count as string), num(drop.flows), 'one ICMP error per dropped segment');
  assert.equal(num(json.transport!.syn_ack_connections), num(json.transport!.syn_connections));
  assert.equal(json.path!.placement, 'same node');
  // The drop's command shows exactly the dropped flows.
  const shown = await observeFlows(drop.observe_command);
  assert.equal(shown.length, num(drop.flows));
  assert.match(text, /ICMPv4 fragmentation needed \(path MTU\) \(type 3 code 4\) from 172\.18\.0\.5/);
  assert.ok(SYNTHETIC_PATH_MTU > 0);
});

test('policy denied: egress verdicts of the source, nothing ever allowed', async () => {
  const { json } = await why(['--from-namespace', 'default', '--to-pod', `shop/${db.name}`], 1);
  assert.equal(json.verdict, 'BLOCKED');
  const denied = json.findings!.find((f) => f.kind === 'policy-denied')!;
  assert.match(denied.summary, /denied by the egress policy of namespace default/);
  assert.ok(denied.next_steps!.some((s) => s.startsWith('Policies that select the sender: kubectl get cnp,ccnp,netpol -n default')));
  const verdicts = json.policy!.verdicts!;
  assert.ok(verdicts.length > 0);
  for (const v of verdicts) {
    assert.equal(v.verdict, 'DROPPED');
    assert.equal(v.traffic_direction, 'EGRESS');
    assert.equal(v.enforced_by, "source's egress policy");
  }
  assert.ok(!json.policy!.forwarded_in_range);
  const reasons = new Set(json.drops!.map((d) => d.drop_reason));
  assert.deepEqual([...reasons].sort(), ['POLICY_DENIED', 'POLICY_DENY']);
  // Denied verdict events and policy drops come in pairs in this datapath.
  closeTo(num(json.policy!.denied), num(json.forward?.dropped), 'verdicts and drops');
  const shown = await observeFlows(denied.observe_command!);
  assert.equal(shown.length, num(json.policy!.denied));
});

test('DNS: NXDOMAIN, SERVFAIL and lookups without a response, before any flow', async () => {
  const cases: Array<[string, string, RegExp]> = [
    [DNS_FAIL_NAMES.nxdomain, 'dns-nxdomain', /NXDOMAIN \(no such name\)/],
    [DNS_FAIL_NAMES.servfail, 'dns-servfail', /failed \(SERVFAIL or another error\)/],
    [DNS_FAIL_NAMES.timeout, 'dns-timeout', /got no response/],
  ];
  for (const [name, kind, re] of cases) {
    const { text, json } = await why(['--from-workload', 'frontend', '--from-namespace', 'shop', '--to-fqdn', name.replace(/\.$/, '')], 1);
    assert.equal(json.verdict, 'NO_TRAFFIC', name);
    const f = json.findings!.find((x) => x.kind === kind);
    assert.ok(f, `${name}: ${kinds(json).join(',')}`);
    assert.match(f.summary, re);
    assert.ok(kinds(json).includes('no-traffic'));
    const entry = json.dns!.names!.find((n) => n.query === name)!;
    assert.equal(entry.related, true);
    assert.ok(num(entry.requests as string) > 0);
    if (kind === 'dns-timeout') {
      assert.equal(entry.responses, undefined);
      assert.ok(num(entry.unanswered as string) > 0);
    } else assert.equal(num(entry.unanswered as string), 0, 'every settled lookup got its answer');
    assert.match(text, /^NO TRAFFIC: /);
  }
});

test('reachable: exit 0, replies back, nothing failing', async () => {
  const { text, json } = await why(['--from-workload', 'frontend', '--from-namespace', 'shop', '--to-workload', 'backend', '--to-namespace', 'shop'], 0);
  assert.equal(json.verdict, 'REACHABLE');
  assert.deepEqual(kinds(json), ['reachable']);
  assert.ok(num(json.forward!.forwarded) > 0);
  assert.ok(num(json.reverse!.replies) > 0);
  assert.equal(num(json.transport!.syn_ack_connections), num(json.transport!.syn_connections));
  assert.match(text, /^REACHABLE: /);
});

test('the gRPC method and the HTTP route give the report the CLI prints', async () => {
  const args = ['--from-pod', `shop/${cart.name}`, '--to-pod', `shop/${db.name}`, '--to-port', '5432'];
  const until = new Date().toISOString();
  const cli = await run(['why', ...args, '--since', '2h', '--until', until, '-o', 'json', '--server', server], { timeoutMs: 60_000 });
  assert.equal(cli.code, 1, cli.stderr);
  const client = new ObserverApiClient(server, 60_000);
  try {
    const req = whyRequest({
      filters: [
        { flag: 'from-pod', value: `shop/${cart.name}` },
        { flag: 'to-pod', value: `shop/${db.name}` },
        { flag: 'to-port', value: '5432' },
      ],
      since: '2h',
      until,
    });
    // The CLI and this request share `until`, not `since` ("2h" back from two different nows).
    const rep = await client.why(req);
    assert.equal(rep.verdict, WhyVerdict.PARTLY_FAILING);
    assert.deepEqual(
      (rep.findings ?? []).map((f) => f.kind),
      JSON.parse(cli.stdout).findings.map((f: { kind: string }) => f.kind),
    );
  } finally {
    client.close();
  }
  const app = buildApi({ server });
  try {
    const qs = new URLSearchParams({ 'from-pod': `shop/${cart.name}`, 'to-pod': `shop/${db.name}`, 'to-port': '5432', since: '2h', until });
    const r = await app.inject({ method: 'GET', url: `/api/v1/why?${qs}` });
    assert.equal(r.statusCode, 200, r.body);
    const http = r.json();
    const fromCli = JSON.parse(cli.stdout);
    // Same question, same stored flows: the same report but for the range start.
    delete http.since;
    delete fromCli.since;
    for (const f of [...http.findings, ...fromCli.findings]) delete f.observe_command;
    for (const d of [...http.drops, ...fromCli.drops]) delete d.observe_command;
    delete http.history;
    delete fromCli.history;
    assert.deepStrictEqual(http, fromCli);
  } finally {
    await app.close();
  }
});

test('bad questions: CLI exit 2 with usage, gRPC INVALID_ARGUMENT (counted), HTTP 400 naming the parameter', async () => {
  for (const args of [
    ['--to-pod', 'shop/cart'],
    ['--from-pod', 'shop/frontend'],
    ['--from-pod', 'shop/frontend', '--to-port', '80'],
    ['--from-pod', 'shop/frontend', '--to-ip', 'not-an-ip'],
    ['--from-pod', 'shop/frontend', '--to-pod', 'shop/cart', '--since', 'yesterday-ish'],
    ['--from-pod', 'shop/frontend', '--to-pod', 'shop/cart', '--limit', '0'],
    ['--from-pod', 'shop/frontend', '--to-pod', 'shop/cart', '-o', 'yaml'],
    ['--from-pod', 'shop/frontend', '--to-pod', 'shop/cart', '--to-port', '70000'],
  ]) {
    const r = await run(['why', ...args, '--server', server]);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, /Run 'flowscope why --help' for usage/);
  }
  const client = new ObserverApiClient(server, 5000);
  try {
    const bad = [
      {},
      { pair: { source_pod: ['shop/frontend'] }, since: { seconds: 1e9, nanos: 0 } },
      { pair: { source_pod: ['shop/frontend'], destination_pod: ['shop/cart'], verdict: [2] }, since: { seconds: 1e9, nanos: 0 } },
      { pair: { source_pod: ['shop/frontend'], destination_pod: ['shop/cart'] } },
      { pair: { source_pod: ['shop/frontend'], destination_pod: ['shop/cart'] }, since: { seconds: 2e9, nanos: 0 }, until: { seconds: 1e9, nanos: 0 } },
      { pair: { source_pod: ['shop/frontend'], destination_ip: ['300.1.1.1'] }, since: { seconds: 1.7e9, nanos: 0 } },
    ];
    for (const req of bad) await assert.rejects(client.why(req), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT, JSON.stringify(req));
  } finally {
    client.close();
  }
  const metricsText = relay.output();
  const port = /"metrics":"127\.0\.0\.1:(\d+)"/.exec(metricsText)?.[1];
  assert.ok(port, 'the relay logs its metrics address');
  const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const invalid = Number(/flowscope_relay_insights_requests_total\{method="Why",result="invalid"\} (\d+)/.exec(m)?.[1]);
  assert.ok(invalid >= 6, `invalid Why requests counted: ${invalid}`);

  const app = buildApi({ server });
  try {
    for (const [url, param] of [
      ['/api/v1/why?to-pod=shop/cart', 'source'],
      ['/api/v1/why?from-pod=shop/a&to-pod=shop/b&bogus=1', 'bogus'],
      ['/api/v1/why?from-pod=shop/a&to-pod=shop/b&since=nope', 'since'],
      ['/api/v1/why?from-pod=shop/a&to-pod=shop/b&limit=9999', 'limit'],
      ['/api/v1/why?from-pod=shop/a&to-pod=shop/b&to-port=x', 'to-port'],
    ]) {
      const r = await app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 400, url);
      assert.match(JSON.parse(r.body).message, new RegExp(param), url);
    }
  } finally {
    await app.close();
  }
});
