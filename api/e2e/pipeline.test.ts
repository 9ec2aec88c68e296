// End to end, as a user runs it: relay and two collectors as separate processes over real gRPC on
// loopback, known records in, `flowscope observe` with each filter flag out, in every format;
// then the relay restarts and serves the same history; then --follow joins history and live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort, startProc, run, waitFor, waitHealthy, type Proc } from '../../testing/harness.js';
import { RECORDS, recordTime, writeFixtures } from '../../testing/pipeline-fixtures.js';
import { ObserverApiClient } from '../client.js';
import { parseTimestamp } from '../../proto/json.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-e2e-'));
const base = (Math.floor(Date.now() / 1000) - 1800) * 1000; // half an hour ago: inside retention and the namespaces window
const fixtures = writeFixtures(dir, base);
let relayPort = 0;
let server = '';
let relay: Proc;
const procs: Proc[] = [];

function startRelay(): Proc {
  return startProc(['relay', '--listen', `127.0.0.1:${relayPort}`, '--data-dir', path.join(dir, 'chdb'), '--flush-interval', '50']);
}

/** Labels of the flows in jsonpb output, in output order. */
function labels(jsonpb: string): string[] {
  return jsonpb
    .split('\n')
    .filter((l) => l.startsWith('{"flow"'))
    .map((l) => {
      const t = parseTimestamp(JSON.parse(l).flow.time);
      const off = t.seconds * 1000 + Math.round(t.nanos / 1e6) - base;
      const r = RECORDS.find((x) => x.offsetMs === off);
      return r ? r.label : `?${off}`;
    });
}

async function observe(...args: string[]): Promise<string[]> {
  const r = await run(['observe', '--server', server, '-o', 'jsonpb', ...args]);
  assert.equal(r.code, 0, `observe ${args.join(' ')} failed: ${r.stderr}`);
  return labels(r.stdout);
}

before(async () => {
  relayPort = await freePort();
  server = `127.0.0.1:${relayPort}`;
  relay = startRelay();
  await waitHealthy(server);
  for (const node of ['node-a', 'node-b']) {
    const p = startProc([
      'collector',
      '--source',
      `file:${fixtures.files[node]}`,
      '--node-name',
      node,
      '--inventory',
      fixtures.inventory,
      '--relay',
      server,
      '--listen',
      `127.0.0.1:${await freePort()}`,
    ]);
    procs.push(p);
  }
  await waitFor('all 9 flows stored', async () => ((await observe('--all')).length === 9 ? true : undefined), 60_000);
});

after(async () => {
  for (const p of procs) await p.stop();
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('history in time order across nodes; malformed records were skipped, not fatal', async () => {
  assert.deepEqual(await observe('--all'), ['A1', 'B1', 'A2', 'B2', 'A3', 'B3', 'A4', 'B4', 'A5']);
  assert.deepEqual(await observe('--last', '2'), ['B4', 'A5']);
  assert.deepEqual(await observe('--first', '2'), ['A1', 'B1']);
  for (const p of procs) assert.equal(p.proc.exitCode, null, 'collector must still be running');
});

const CASES: Array<[string[], string[]]> = [
  [
    ['--verdict', 'DROPPED'],
    ['A2', 'A3', 'B3', 'A5'],
  ],
  [
    ['--verdict', 'FORWARDED'],
    ['A1', 'B1', 'B2', 'A4', 'B4'],
  ],
  [
    ['--type', 'drop'],
    ['A3', 'B3', 'A5'],
  ],
  [['--type', 'policy-verdict'], ['A2']],
  [
    ['--type', 'trace'],
    ['A1', 'B1', 'B2', 'A4', 'B4'],
  ],
  [
    ['--pod', 'shop/frontend'],
    ['A1', 'A2', 'A3', 'B3', 'A4', 'B4'],
  ],
  [
    ['--from-pod', 'shop/frontend'],
    ['A1', 'A2', 'A3'],
  ],
  [
    ['--to-pod', 'shop/frontend'],
    ['B3', 'A4', 'B4'],
  ],
  [
    ['--namespace', 'kube-system'],
    ['B1', 'B2'],
  ],
  [
    ['--label', 'k8s:app=prometheus'],
    ['B1', 'B2', 'B3', 'B4'],
  ],
  [
    ['--ip', '10.244.2.30'],
    ['B1', 'B2'],
  ],
  [
    ['--from-ip', '10.244.1.10'],
    ['A1', 'A2', 'A3'],
  ],
  [['--to-ip', '8.8.8.8'], ['A2']],
  [['--ip', 'fd00::/64'], ['A5']],
  [
    ['--port', '53'],
    ['B1', 'B2'],
  ],
  [
    ['--protocol', 'udp'],
    ['B1', 'B2', 'A5'],
  ],
  [['--protocol', 'icmpv4'], ['B4']],
  [
    ['--node-name', 'node-b'],
    ['B1', 'B2', 'B3', 'B4'],
  ],
  [
    ['--drop-reason-desc', 'POLICY_DENIED'],
    ['A2', 'A3'],
  ],
  [['--drop-reason-desc', 'STALE_OR_UNROUTABLE_IP'], ['A5']],
  [
    ['--not', '--namespace', 'shop'],
    ['B1', 'B2', 'A5'],
  ],
  [
    ['--verdict', 'DROPPED', '--not', '--type', 'policy-verdict'],
    ['A3', 'B3', 'A5'],
  ],
];

for (const [args, expected] of CASES) {
  test(`observe ${args.join(' ')}`, async () => {
    assert.deepEqual(await observe('--all', ...args), expected);
  });
}

test('--since and --until take RFC 3339 and durations', async () => {
  assert.deepEqual(await observe('--since', recordTime(base, 'A2'), '--until', recordTime(base, 'B3')), ['A2', 'B2', 'A3', 'B3']);
  assert.deepEqual(await observe('--since', '2h', '--last', '3'), ['A4', 'B4', 'A5']);
  assert.deepEqual(await observe('--since', '5m'), []);
});

test('every output format prints what the same flows print from a file', async () => {
  const dump = await run(['observe', '--server', server, '--all', '-o', 'jsonpb']);
  const file = path.join(dir, 'dump.jsonl');
  fs.writeFileSync(file, dump.stdout);
  for (const fmt of ['compact', 'dict', 'table', 'json', 'jsonpb']) {
    const live = await run(['observe', '--server', server, '--all', '-o', fmt, '--print-node-name']);
    const offline = await run(['observe', '--input-file', file, '--all', '-o', fmt, '--print-node-name']);
    assert.equal(live.code, 0, live.stderr);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(live.stdout, offline.stdout, `-o ${fmt} differs between server and file`);
  }
  const compact = (await run(['observe', '--server', server, '--all', '-o', 'compact', '--type', 'drop'])).stdout.trim().split('\n');
  assert.equal(compact.length, 3);
  assert.match(
    compact[0],
    /^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: shop\/frontend-7d9f8-abcde:40003 \(ID:1001\) <> shop\/db-0:5432 \(ID:1002\) Policy denied DROPPED \(TCP Flags: SYN\)$/,
  );
  assert.match(
    compact[1],
    /monitoring\/prometheus-0:41000 \(ID:1003\) <> shop\/frontend-7d9f8-abcde:80 \(ID:1001\) Policy denied by denylist DROPPED \(TCP Flags: SYN\)$/,
  );
  assert.match(compact[2], /\[fd00::1\]:5353 \(world\) <> \[fd00::2\]:9999 \(world\) Stale or unroutable IP DROPPED \(UDP\)$/);
});

test('status and list nodes describe the relay and its collectors', async () => {
  const status = await run(['status', '--server', server]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^Healthcheck \(via 127\.0\.0\.1:\d+\): Ok$/m);
  assert.match(status.stdout, /Connected Nodes: 2\/2/);
  const nodes = await run(['list', 'nodes', '--server', server]);
  assert.equal(nodes.code, 0, nodes.stderr);
  assert.match(nodes.stdout, /^NAME\s+STATUS/m);
  assert.match(nodes.stdout, /^node-a\s+Connected/m);
  assert.match(nodes.stdout, /^node-b\s+Connected/m);
  const ns = await run(['list', 'namespaces', '--server', server]);
  assert.equal(ns.code, 0, ns.stderr);
  assert.equal(ns.stdout, 'NAMESPACE\nkube-system\nmonitoring\nshop\n');
});

test('field masks are honoured in both the v1.19 field and the slot older hubble CLIs use', async () => {
  const client = new ObserverApiClient(server, 5000);
  try {
    for (const req of [
      { number: 2, field_mask: { paths: ['time', 'source.pod_name'] } },
      { number: 2, experimental: { field_mask: { paths: ['time', 'source.pod_name'] } } },
    ]) {
      const flows: object[] = [];
      await client.getFlows(req, (r) => {
        if (r.flow) flows.push(r.flow);
      });
      assert.equal(flows.length, 2);
      for (const f of flows) assert.deepEqual(Object.keys(f).sort(), ['source', 'time'], JSON.stringify(req));
    }
  } finally {
    client.close();
  }
});

test('bad input: CLI exits 2, gRPC answers INVALID_ARGUMENT', async () => {
  for (const args of [['--bogus-flag'], ['--since', 'yesterdayish'], ['--ip', '300.1.1.1'], ['--verdict', 'MAYBE'], ['--port', 'http'], ['-o', 'xml']]) {
    const r = await run(['observe', '--server', server, ...args]);
    assert.equal(r.code, 2, `observe ${args.join(' ')} should exit 2, got ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, /Error: .+/);
  }
  const client = new ObserverApiClient(server, 5000);
  try {
    for (const req of [
      { whitelist: [{ source_ip: ['300.1.1.1'] }] },
      { first: true, follow: true },
      { whitelist: [{ source_port: ['x'] }] },
      { field_mask: { paths: ['no_such_field'] } },
    ]) {
      await assert.rejects(
        client.getFlows(req, () => {}),
        (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT,
        JSON.stringify(req),
      );
    }
  } finally {
    client.close();
  }
});

test('HTTP API: same filters as query parameters, 400 on bad input', async () => {
  const port = await freePort();
  const api = startProc(['api', '--listen', `127.0.0.1:${port}`, '--server', server]);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor('api ready', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const ok = await fetch(`${url}/api/v1/flows?namespace=kube-system&last=10`);
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { flows: Array<{ source: { pod_name: string } }> };
    assert.equal(body.flows.length, 2);
    assert.deepEqual(
      body.flows.map((f) => f.source.pod_name),
      ['prometheus-0', 'coredns-5d78c-x2x9z'],
    );
    const not = (await (await fetch(`${url}/api/v1/flows?all=true&not=true&namespace=shop`)).json()) as { flows: unknown[] };
    assert.equal(not.flows.length, 3);
    for (const q of ['verdict=MAYBE', 'bogus=1', 'ip=300.1.1.1', 'since=yesterdayish', 'last=abc', 'all=true&last=5&first=5']) {
      const r = await fetch(`${url}/api/v1/flows?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(((await r.json()) as { message: string }).message.length > 0);
    }
  } finally {
    await api.stop();
  }
});

test('relay restart: the same history is served from storage', async () => {
  const before = await run(['observe', '--server', server, '--all', '-o', 'jsonpb']);
  assert.equal(await relay.stop(), 0, 'relay exits 0 on SIGTERM');
  relay = startRelay();
  await waitHealthy(server);
  const after = await run(['observe', '--server', server, '--all', '-o', 'jsonpb']);
  assert.equal(after.stdout, before.stdout);
});

test('--follow: history, then live flows, without gap or duplicate', async () => {
  const follower = startProc(['observe', '--server', server, '--follow', '--since', new Date(base).toISOString(), '-o', 'jsonpb']);
  try {
    await waitFor('history printed', async () => (labels(follower.output()).length >= 9 ? true : undefined));
    // A third node starts sending live records (stamped with their read time) while we follow.
    const live = path.join(dir, 'node-c.jsonl');
    const lines = RECORDS.map((r) => JSON.stringify({ cpu: 0, data: Buffer.from(r.data).toString('hex') })).join('\n') + '\n';
    fs.writeFileSync(live, lines.repeat(50));
    const c = startProc([
      'collector',
      '--source',
      `file:${live}`,
      '--node-name',
      'node-c',
      '--inventory',
      fixtures.inventory,
      '--relay',
      server,
      '--listen',
      `127.0.0.1:${await freePort()}`,
    ]);
    procs.push(c);
    const total = 9 + RECORDS.length * 50;
    await waitFor(
      'live flows printed',
      async () => {
        const n = follower
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{"flow"')).length;
        return n >= total ? true : undefined;
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const flows = follower
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{"flow"'))
      .map((l) => JSON.parse(l).flow as { uuid: string; node_name: string });
    assert.equal(flows.length, total, 'no duplicate');
    assert.equal(new Set(flows.map((f) => f.uuid)).size, total, 'unique flows');
    assert.deepEqual(labels(follower.output()).slice(0, 9), ['A1', 'B1', 'A2', 'B2', 'A3', 'B3', 'A4', 'B4', 'A5']);
    assert.equal(flows.slice(9).filter((f) => f.node_name === 'node-c').length, RECORDS.length * 50, 'no gap');
  } finally {
    await follower.stop();
  }
});
